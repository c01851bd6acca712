// Reliability: the engine goes away for 10 s and comes back. Repairman must not crash, must say so on
// /healthz (503 during, 200 after), must reconnect its event stream, and must heal right after the
// outage what broke meanwhile. Two outages, on this test's OWN engine (/tmp/rm-rel-outage: stopping
// the shared one would break everybody else's tests):
// 1. dockerd itself stops and starts again (an upgrade), with --live-restore so containers keep
//    running; one crashes meanwhile. (dockerd 20.10 does not resume health checks of containers it
//    live-restored, so "unhealthy during a dockerd restart" cannot happen on this engine; see 2.)
// 2. the engine's socket vanishes for 10 s (a proxy in front of it is taken away, exactly what
//    Repairman sees when dockerd stops) while dockerd keeps running health checks: one container
//    turns unhealthy and one crashes meanwhile.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hasTestEngine, uniqueNamespace, waitFor } from '../helpers/engine.js';
import { startRepairman, type LogLine, type RepairmanProcess } from '../helpers/repairman.js';
import { crashOnFlag, flagDir, CALM_EXTRA, CALM_HEALTH, HEALTH_OK, sickOnFlag, type FlagDir } from './helpers/containers.js';
import { startFaultyProxy, type FaultyProxy } from './helpers/faulty-proxy.js';
import { report } from './helpers/report.js';
import { assertAliveAndClean, sleep } from './helpers/observe.js';
import { ownEngine, type OwnEngine } from './helpers/own-engine.js';

const OUTAGE_MS = 10_000;
const ms = (l: LogLine): number => Date.parse(l.time);

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

interface Outage {
  /** Take the engine away; resolves once it is gone. */
  stop(): Promise<void>;
  /** Bring it back; resolves once it answers. */
  start(): Promise<void>;
}

/**
 * The common script: healthy, engine away (503, clear warning), break `raise` flags, wait out 10 s,
 * engine back (reachable, 200, reconnected). Returns timings for the report.
 */
async function outage(rm: RepairmanProcess, how: Outage, flags: FlagDir, raise: string[]): Promise<{ downAt: number; upAt: number; warned: LogLine; back: LogLine; reconnects: number }> {
  assert.equal((await getJson(rm.url('/healthz'))).status, 200);
  const downAt = Date.now();
  await how.stop();
  for (const f of raise) flags.raise(f);
  const during = await waitFor('healthz 503', async () => {
    const h = await getJson(rm.url('/healthz'));
    return h.status === 503 ? h : null;
  }, 8_000, 200);
  assert.match(String(during?.body.reason), /engine not reachable/);
  const warned = await rm.waitForLog((l) => l.msg === 'engine not reachable, retrying' && ms(l) >= downAt - 100, 5_000);
  assert.match(String(warned.error), /socket does not exist \(is dockerd running\?/, 'a message a person can act on');
  // Every endpoint still answers while the engine is away.
  assert.equal((await fetch(rm.url('/api/containers'))).status, 200);
  assert.equal((await fetch(rm.url('/metrics'))).status, 200);
  await sleep(Math.max(0, OUTAGE_MS - (Date.now() - downAt)));
  assertAliveAndClean(rm, 'repairman during the outage');
  await how.start();
  const upAt = Date.now();
  const back = await rm.waitForLog((l) => l.msg === 'engine reachable again' && ms(l) >= upAt - 1000, 10_000);
  await waitFor('healthz 200 again', async () => (await getJson(rm.url('/healthz'))).status === 200, 10_000, 200);
  const metrics = await (await fetch(rm.url('/metrics'))).text();
  const reconnects = Number(/^repairman_event_stream_reconnects_total (\d+)/m.exec(metrics)?.[1] ?? 0);
  assert.ok(reconnects >= 1, `event stream reconnections: ${reconnects}`);
  return { downAt, upAt, warned, back, reconnects };
}

async function journal(rm: RepairmanProcess): Promise<{ container: string; kind: string }[]> {
  return (await getJson(rm.url('/api/events?limit=100'))).body.events as { container: string; kind: string }[];
}

describe('reliability: the engine goes away for 10 s and comes back', { skip: !hasTestEngine() && 'REPAIRMAN_TEST_DOCKER_HOST is not set' }, () => {
  let eng: OwnEngine | undefined;
  let flags: FlagDir;
  const procs: RepairmanProcess[] = [];

  before(async () => {
    flags = flagDir();
    eng = await ownEngine('outage', { liveRestore: true });
  });
  after(async () => {
    for (const p of procs) await p.stop();
    await eng?.cleanup();
    flags?.remove();
  });

  it('dockerd restarted: 503 meanwhile, reconnects, starts at once the container that crashed meanwhile', async () => {
    assert.ok(eng);
    const ns = uniqueNamespace('rel-dockerd');
    const crash = `${ns}crash`;
    const calm = `${ns}calm`;
    await eng.run(crash, { cmd: crashOnFlag(`${ns}crash`), extra: flags.mount });
    await eng.run(calm, { cmd: sickOnFlag('never'), health: CALM_HEALTH, extra: [...flags.mount, ...CALM_EXTRA] });
    // --interval 30: healing right after the outage must come from the reconnection, not the safety net.
    const rm = await startRepairman({ namespace: ns, http: true, intervalSec: 30, env: eng.env(), args: ['--seconds-between-restarts', '1'] });
    procs.push(rm);
    await waitFor('calm healthy', async () => (await eng!.docker(['inspect', '--format', '{{.State.Health.Status}}', calm])) === 'healthy', 15_000);

    const t = await outage(rm, { stop: () => eng!.down(), start: () => eng!.up() }, flags, [`${ns}crash`]);
    const started = await rm.waitForLog((l) => l.msg === 'started' && l.container === crash, 15_000);
    // The stream is live again: the next crash is handled by its event, long before a re-check.
    const incidentAt = Date.now();
    flags.raise(`${ns}crash`);
    const again = await rm.waitForLog((l) => l.msg === 'started' && l.container === crash && ms(l) > incidentAt, 10_000);

    const events = await journal(rm);
    assert.equal(events.filter((e) => e.container === crash && e.kind === 'restart').length, 2, JSON.stringify(events));
    assert.deepEqual(rm.actionsOn(calm), []);
    assert.equal(await eng.docker(['inspect', '--format', '{{.State.Status}}', calm]), 'running');
    assertAliveAndClean(rm);
    await rm.stop();
    report(
      'engine outage: dockerd restarted',
      `dockerd ${Math.round((t.upAt - t.downAt) / 1000)} s: warned ${ms(t.warned) - t.downAt} ms after the stop; back ${ms(t.back) - t.upAt} ms after dockerd answered; ` +
        `crashed container started ${ms(started) - t.upAt} ms after; next crash handled by its event in ${ms(again) - incidentAt} ms; reconnections ${t.reconnects}`,
    );
  });

  it('engine socket gone: 503 meanwhile, reconnects, heals at once what turned unhealthy or crashed meanwhile', async () => {
    assert.ok(eng);
    const ns = uniqueNamespace('rel-socket');
    const sick = `${ns}sick`;
    const crash = `${ns}crash`;
    const calm = `${ns}calm`;
    let px: FaultyProxy | undefined;
    try {
      px = await startFaultyProxy({ upstream: eng.socketPath, socketPath: `${eng.dir}/px.sock` });
      await eng.run(sick, { cmd: sickOnFlag(`${ns}sick`), health: { cmd: HEALTH_OK }, extra: flags.mount });
      await eng.run(crash, { cmd: crashOnFlag(`${ns}crash`), extra: flags.mount });
      await eng.run(calm, { cmd: sickOnFlag('never'), health: CALM_HEALTH, extra: [...flags.mount, ...CALM_EXTRA] });
      await waitFor('healthy', async () => (await eng!.docker(['ps', '--filter', `name=^/${ns}`, '--filter', 'health=healthy', '-q'])).split('\n').filter(Boolean).length === 2, 20_000);
      const rm = await startRepairman({ namespace: ns, http: true, intervalSec: 30, env: { DOCKER_HOST: px.host }, args: ['--seconds-between-restarts', '1'] });
      procs.push(rm);

      const t = await outage(rm, { stop: () => px!.goAway(), start: () => px!.comeBack() }, flags, [`${ns}sick`, `${ns}crash`]);
      assert.equal(await eng.docker(['inspect', '--format', '{{.State.Health.Status}}', sick]), 'unhealthy', 'it turned unhealthy during the outage');
      const started = await rm.waitForLog((l) => l.msg === 'started' && l.container === crash, 10_000);
      const restarted = await rm.waitForLog((l) => l.msg === 'restarted' && l.container === sick, 10_000);
      const incidentAt = Date.now();
      flags.raise(`${ns}sick`);
      const again = await rm.waitForLog((l) => l.msg === 'restarted' && l.container === sick && ms(l) > incidentAt, 10_000);

      const events = await journal(rm);
      assert.equal(events.filter((e) => e.container === crash && e.kind === 'restart').length, 1, JSON.stringify(events));
      assert.equal(events.filter((e) => e.container === sick && e.kind === 'restart').length, 2, JSON.stringify(events));
      assert.deepEqual(rm.actionsOn(calm), []);
      assertAliveAndClean(rm);
      await rm.stop();
      report(
        'engine outage: socket gone',
        `socket ${Math.round((t.upAt - t.downAt) / 1000)} s: warned ${ms(t.warned) - t.downAt} ms after; back ${ms(t.back) - t.upAt} ms after the socket returned; ` +
          `crashed started ${ms(started) - t.upAt} ms, unhealthy restarted ${ms(restarted) - t.upAt} ms after; next incident by event in ${ms(again) - incidentAt} ms; reconnections ${t.reconnects}`,
      );
    } finally {
      await px?.close();
    }
  });
});

// Reliability: the engine answers slowly. Replies later than the call deadline (10 s) must end in a
// clear RM_ENGINE_TIMEOUT error; the first re-check that fails so marks the engine down at once
// (/healthz 503 saying it does not answer, repairman_engine_up 0) though the event stream stays
// connected; re-checks do not pile up on the slow engine; nothing may be restarted on the strength of
// a call that never completed; and once the engine answers in time again it is marked up and healing
// resumes within an interval or two, without waiting for the calls the proxy still holds. A restart
// call that never returns fails at its own deadline, is journaled and retried, and meanwhile other
// containers are healed as usual.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { hasTestEngine, waitFor } from '../helpers/engine.js';
import type { LogLine } from '../helpers/repairman.js';
import { behindProxy, PATHS, type BehindProxy } from './helpers/behind-proxy.js';
import { assertAliveAndClean, sleep } from './helpers/observe.js';
import { report } from './helpers/report.js';

const ms = (l: LogLine): number => Date.parse(l.time);
const DELAY_MS = 12_000;
/** The probe listing of a re-check that seems stuck (src/heal/watcher.ts PROBE_FILTERS). */
const isProbe = (path: string): boolean => decodeURIComponent(path).includes('repairman-probe');

async function engineUpMetric(s: BehindProxy): Promise<number> {
  const text = await (await fetch(s.rm.url('/metrics'), { signal: AbortSignal.timeout(5000) })).text();
  const m = /^repairman_engine_up (\d+)$/m.exec(text);
  return m ? Number(m[1]) : NaN;
}

async function healthz(s: BehindProxy): Promise<{ status: number; reason?: string }> {
  const res = await fetch(s.rm.url('/healthz'), { signal: AbortSignal.timeout(5000) });
  const body = (await res.json()) as { reason?: string };
  return { status: res.status, reason: body.reason };
}

describe('reliability: the engine answers slowly', { skip: !hasTestEngine() && 'REPAIRMAN_TEST_DOCKER_HOST is not set' }, () => {
  let s: BehindProxy | undefined;
  const figures: string[] = [];

  before(async () => {
    // --stop-timeout 0: a restart call's own deadline is then 15 s (0 s + the client's margin).
    s = await behindProxy('rel-slow', { intervalSec: 2, http: true, args: ['--seconds-between-restarts', '1', '--max-restarts-in-frame', '0', '--max-checks-to-give-up', '0', '--stop-timeout', '0'] });
  });
  afterEach(() => s?.px.clear());
  after(async () => {
    if (figures.length) report('engine slow', figures.join('; '));
    await s?.close();
  });

  it(`replies ${DELAY_MS / 1000} s late time out with a clear error; no restart meanwhile; healed after`, async () => {
    assert.ok(s);
    const { rm, px } = s;
    const t0 = Date.now();
    px.rule({ method: 'GET', path: PATHS.list }, { kind: 'delay', ms: DELAY_MS });
    px.rule({ method: 'GET', path: PATHS.inspect }, { kind: 'delay', ms: DELAY_MS });
    s.breakSick();
    s.breakCrash();
    const listTimeout = await rm.waitForLog((l) => l.msg === 're-check failed' && ms(l) >= t0, 20_000);
    const inspectTimeout = await rm.waitForLog((l) => l.msg === 'could not inspect a container' && ms(l) >= t0, 20_000);
    for (const l of [listTimeout, inspectTimeout]) {
      assert.equal(l.code, 'RM_ENGINE_TIMEOUT', JSON.stringify(l));
      assert.match(String(l.error), /^GET \/containers\/\S+: the engine at unix:\/\/\S+ did not answer within 10000 ms$/);
    }
    // That failed re-check marks the engine down at once, though the event stream is connected.
    const down = await rm.waitForLog((l) => l.msg === 'engine not reachable, retrying' && ms(l) >= t0, 5_000);
    assert.ok(ms(down) - ms(listTimeout) < 1_000, `marked down ${ms(down) - ms(listTimeout)} ms after the re-check failed`);
    assert.equal(down.code, 'RM_ENGINE_TIMEOUT');
    const h = await healthz(s);
    assert.equal(h.status, 503);
    assert.match(String(h.reason), /^engine not reachable: GET \/containers\/json: the engine at unix:\/\/\S+ did not answer within 10000 ms$/);
    assert.equal(await engineUpMetric(s), 0);
    // Some more of it: re-checks must not pile up on the slow engine.
    await sleep(10_000);
    assert.equal((await healthz(s)).status, 503);
    assert.deepEqual(s.actionsSince(t0), [], 'nothing acted on while the engine was too slow');
    assertAliveAndClean(rm);

    px.clear();
    const t1 = Date.now();
    const listings = px.calls(PATHS.list, 'GET').filter((c) => c.atMs >= t0 && c.atMs < t1);
    const probes = listings.filter((c) => isProbe(c.path)).length;
    const faultSec = (t1 - t0) / 1000;
    // Per call deadline (10 s): one re-check (up to three listings) and the duplicate check's listing;
    // probes at most one per interval (2 s), only while a re-check is stuck.
    assert.ok(listings.length - probes <= 4 * Math.ceil(faultSec / 10) + 4, `${listings.length - probes} listings in ${faultSec.toFixed(0)} s`);
    assert.ok(probes <= Math.ceil(faultSec / 2), `${probes} probes in ${faultSec.toFixed(0)} s`);
    const up = await rm.waitForLog((l) => l.msg === 'engine reachable again' && ms(l) >= t1, 10_000);
    const restarted = await rm.waitForLog((l) => l.msg === 'restarted' && l.container === s!.sick && ms(l) >= t1, 20_000);
    const started = await rm.waitForLog((l) => l.msg === 'started' && l.container === s!.crash && ms(l) >= t1, 20_000);
    const h200 = await waitFor('healthz 200', async () => (await healthz(s!)).status === 200, 5_000, 100);
    assert.ok(h200);
    assert.equal(await engineUpMetric(s), 1);
    // The proxy holds the calls sent during the fault for 12 s; recovery must not wait for them.
    const upMs = ms(up) - t1;
    const healedMs = Math.max(ms(restarted), ms(started)) - t1;
    assert.ok(upMs <= 3_000, `marked up ${upMs} ms after the engine answered again`);
    assert.ok(healedMs <= 6_000, `healed ${healedMs} ms after the engine answered again`);
    await s.waitHealthy(s.sick);
    assert.deepEqual(rm.actionsOn(s.calm), []);
    assertAliveAndClean(rm);
    figures.push(
      `${DELAY_MS / 1000} s replies: "${String(listTimeout.error)}" ${ms(listTimeout) - t0} ms after the fault began; engine marked down ${ms(down) - ms(listTimeout)} ms later, ` +
        `/healthz 503 "${String(h.reason)}", repairman_engine_up 0; ${listings.length - probes} listings and ${probes} probes in ${faultSec.toFixed(0)} s of fault; ` +
        `marked up ${upMs} ms and healed ${healedMs} ms after it ended`,
    );
  });

  it('a restart call that never returns fails at its deadline, is journaled, retried; others are healed meanwhile', async () => {
    assert.ok(s);
    const { rm, px } = s;
    const t0 = Date.now();
    px.rule({ method: 'POST', path: PATHS.restart }, { kind: 'hang' }, 1);
    s.breakSick();
    const restarting = await rm.waitForLog((l) => l.msg === 'restarting' && l.container === s!.sick && ms(l) >= t0, 10_000);
    // While that call hangs, another container crashes: it must not wait for the hung one.
    await sleep(1_000);
    const crashAt = Date.now();
    s.breakCrash();
    const started = await rm.waitForLog((l) => l.msg === 'started' && l.container === s!.crash && ms(l) >= crashAt, 10_000);
    const failed = await rm.waitForLog((l) => l.msg === 'restart failed' && l.container === s!.sick && ms(l) >= t0, 25_000);
    assert.equal(failed.code, 'RM_ENGINE_TIMEOUT');
    assert.match(String(failed.error), /POST \/containers\/[0-9a-f]+\/restart: the engine at \S+ did not answer within 15000 ms/);
    const restarted = await rm.waitForLog((l) => l.msg === 'restarted' && l.container === s!.sick && ms(l) >= ms(failed), 10_000);
    const journal = (await (await fetch(rm.url(`/api/events?limit=10&container=${encodeURIComponent(s.sick)}`))).json()) as { events: { kind: string; message: string }[] };
    const failedEntry = journal.events.find((e) => e.kind === 'restart_failed');
    assert.ok(failedEntry && /did not answer within 15000 ms/.test(failedEntry.message), JSON.stringify(journal.events));
    await s.waitHealthy(s.sick);
    assertAliveAndClean(rm);
    figures.push(
      `hung restart: failed after ${ms(failed) - ms(restarting)} ms (deadline 15 s), journaled, restarted ${ms(restarted) - ms(failed)} ms later; ` +
        `a crash meanwhile was started in ${ms(started) - crashAt} ms`,
    );
  });
});

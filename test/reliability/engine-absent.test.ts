// Reliability: the engine is not there when Repairman starts. It must say so clearly (the log and
// /healthz), keep retrying with a growing backoff (not hammering, not giving up), and heal as soon
// as the engine appears: containers already crashed or unhealthy at that moment are repaired at once.
// The engine is this test's own (/tmp/rm-rel-absent), made visible to Repairman only when the test
// decides, through a proxy socket at the path Repairman was given.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { hasTestEngine, uniqueNamespace, waitFor } from '../helpers/engine.js';
import { startRepairman, type LogLine, type RepairmanProcess } from '../helpers/repairman.js';
import { crashOnFlag, flagDir, HEALTH_OK, sickOnFlag, type FlagDir } from './helpers/containers.js';
import { startFaultyProxy, type FaultyProxy } from './helpers/faulty-proxy.js';
import { report } from './helpers/report.js';
import { assertAliveAndClean, sleep } from './helpers/observe.js';
import { ownEngine, type OwnEngine } from './helpers/own-engine.js';

const ms = (l: LogLine): number => Date.parse(l.time);

describe('reliability: the engine is not there at start', { skip: !hasTestEngine() && 'REPAIRMAN_TEST_DOCKER_HOST is not set' }, () => {
  const socketPath = `/tmp/rm-rel-absent-${process.pid}.sock`;
  const resetPath = `/tmp/rm-rel-absent-${process.pid}-rst.sock`;
  let eng: OwnEngine | undefined;
  let px: FaultyProxy | undefined;
  let flags: FlagDir;
  const procs: RepairmanProcess[] = [];

  before(() => {
    flags = flagDir();
    rmSync(socketPath, { force: true });
  });
  after(async () => {
    for (const p of procs) await p.stop();
    await px?.close();
    await eng?.cleanup();
    flags?.remove();
    rmSync(socketPath, { force: true });
    rmSync(resetPath, { force: true });
  });

  it('retries with a growing backoff while nobody answers (attempts seen by the socket)', async () => {
    // A socket that accepts and hangs up at once: every attempt is visible, with its time.
    const attempts: number[] = [];
    const server: Server = createServer((s) => {
      attempts.push(Date.now());
      s.destroy();
    });
    rmSync(resetPath, { force: true });
    await new Promise<void>((r) => server.listen(resetPath, () => r()));
    try {
      const rm = await startRepairman({ namespace: uniqueNamespace('rel-absent-b'), noWait: true, env: { DOCKER_HOST: `unix://${resetPath}` } });
      procs.push(rm);
      await sleep(9_000);
      assertAliveAndClean(rm);
      await rm.stop();
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
    // 200, 400, 800, 1600 ms, then 3 s at most: about 7 attempts in 9 s, never a hot loop.
    assert.ok(attempts.length >= 5 && attempts.length <= 10, `attempts: ${attempts.length}, gaps ${gaps.join(', ')} ms`);
    for (let i = 1; i < Math.min(gaps.length, 4); i++) assert.ok(gaps[i]! >= gaps[i - 1]! * 1.4, `the backoff grows: ${gaps.join(', ')} ms`);
    assert.ok(gaps.every((g) => g >= 150 && g <= 4_000), `gaps within 150 ms .. 4 s: ${gaps.join(', ')} ms`);
    report('engine absent: backoff', `${attempts.length} attempts in 9 s, gaps ${gaps.join(', ')} ms`, { attempts: attempts.length, gaps });
  });

  it('says so clearly, answers 503, and heals at once what is broken when the engine appears', async () => {
    const ns = uniqueNamespace('rel-absent');
    const rm = await startRepairman({ namespace: ns, http: true, noWait: true, env: { DOCKER_HOST: `unix://${socketPath}` } });
    procs.push(rm);
    await rm.waitForLog('http listening', 10_000);
    const warned = await rm.waitForLog('engine not reachable, retrying', 10_000);
    assert.match(String(warned.error), new RegExp(`cannot reach the Docker engine at unix://${socketPath}: the socket does not exist \\(is dockerd running\\?`));
    const h = await fetch(rm.url('/healthz'));
    assert.equal(h.status, 503);
    assert.match(((await h.json()) as { reason: string }).reason, /engine not reachable: .*socket does not exist/);
    assert.equal(rm.find('watching').length, 0);

    // Meanwhile the engine starts, and some containers are already in trouble in it.
    eng = await ownEngine('absent');
    const crash = `${ns}crash`;
    const sick = `${ns}sick`;
    await eng.run(crash, { cmd: crashOnFlag(`${ns}crash`), extra: flags.mount });
    await eng.run(sick, { cmd: sickOnFlag(`${ns}sick`), health: { cmd: HEALTH_OK }, extra: flags.mount });
    flags.raise(`${ns}crash`);
    flags.raise(`${ns}sick`);
    await waitFor('crashed and unhealthy', async () => (await eng!.docker(['ps', '-a', '--filter', `name=^/${ns}`, '--format', '{{.Status}}'])).match(/Exited \(3\)|unhealthy/g)?.length === 2, 20_000);
    await sleep(3_000);
    assertAliveAndClean(rm, 'repairman while the engine is missing');
    assert.equal(rm.actionsOn(crash).length + rm.actionsOn(sick).length, 0);

    // The engine appears where Repairman looks.
    px = await startFaultyProxy({ upstream: eng.socketPath, socketPath });
    const appearedAt = Date.now();
    const watching = await rm.waitForLog('watching', 10_000);
    const started = await rm.waitForLog((l) => l.msg === 'started' && l.container === crash, 10_000);
    const restarted = await rm.waitForLog((l) => l.msg === 'restarted' && l.container === sick, 10_000);
    await waitFor('healthz 200', async () => (await fetch(rm.url('/healthz'))).status === 200, 10_000, 200);
    assertAliveAndClean(rm);
    assert.equal(rm.find('engine not reachable, retrying').length, 1, 'the same problem is logged once, not at every retry');
    report('engine absent: appears', `watching ${ms(watching) - appearedAt} ms after the engine appeared; crashed container started after ${ms(started) - appearedAt} ms, unhealthy one restarted after ${ms(restarted) - appearedAt} ms`);
  });
});

// Healing on the private engine: a container whose health check starts failing is restarted within
// 2 s of the engine marking it unhealthy (measured on the engine's own clock, from its health_status
// event to the kill of the restart), and a container that crashes (exit 3, restart policy no) is
// started again. SIGTERM then ends Repairman within a second with exit code 0.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { docker, hasTestEngine, inspectField, removeNamespace, runContainer, uniqueNamespace, waitFor } from '../helpers/engine.js';
import { engineEvents, engineNowSec, QUICK_STOP_CMD, restartBegan, startRepairman, unhealthyMark, type RepairmanProcess } from '../helpers/repairman.js';

describe('heal: unhealthy and crashed containers', { skip: !hasTestEngine() && 'REPAIRMAN_TEST_DOCKER_HOST is not set' }, () => {
  const ns = uniqueNamespace('heal-unh');
  let rm: RepairmanProcess;

  before(async () => {
    rm = await startRepairman({ namespace: ns, args: ['--seconds-between-restarts', '1', '--frame-size-in-seconds', '60', '--max-restarts-in-frame', '5'] });
  });
  after(async () => {
    await rm?.stop();
    await removeNamespace(ns);
  });

  it('restarts a container within 2 s of the engine marking it unhealthy', async (t) => {
    const name = `${ns}web`;
    await runContainer(name, { cmd: QUICK_STOP_CMD, health: { cmd: 'test -f /tmp/ok' } });
    await waitFor('healthy', async () => (await inspectField(name, '{{.State.Health.Status}}')) === 'healthy', 15_000);
    const since = (await engineNowSec()) - 1;
    await docker(['exec', name, 'rm', '-f', '/tmp/ok']);
    const line = await rm.waitForLog((l) => l.msg === 'restarted' && l.container === name, 15_000);
    assert.equal(line.reason, 'unhealthy');
    const events = await engineEvents({ since, filters: { container: [name] } });
    const unhealthy = unhealthyMark(events);
    assert.ok(unhealthy, `no unhealthy event in ${JSON.stringify(events.map((e) => e.Action))}`);
    const kill = restartBegan(events, unhealthy.timeNano);
    assert.ok(kill, `no restart began after the unhealthy event in ${JSON.stringify(events.map((e) => e.Action))}`);
    const reactionMs = (kill.timeNano - unhealthy.timeNano) / 1e6;
    t.diagnostic(`restart began ${reactionMs.toFixed(0)} ms after the engine marked it unhealthy`);
    assert.ok(reactionMs <= 2000, `restart began ${reactionMs.toFixed(0)} ms after unhealthy`);
    assert.ok(events.some((e) => e.Action === 'restart' && e.timeNano >= kill.timeNano), 'the restart happened');
    // The restarted container is healthy again (its command recreated /tmp/ok).
    await waitFor('healthy after the restart', async () => (await inspectField(name, '{{.State.Health.Status}}')) === 'healthy', 15_000);
  });

  it('starts a crashed container again (exit code 3, restart policy no)', async () => {
    const name = `${ns}job`;
    // Crashes on its first run only: the file survives the start.
    await runContainer(name, { cmd: 'if [ -f /tmp/ran ]; then trap "exit 0" TERM; sleep 100000 & wait; else touch /tmp/ran; sleep 1; exit 3; fi' });
    const line = await rm.waitForLog((l) => l.msg === 'started' && l.container === name, 15_000);
    assert.equal(line.reason, 'crashed with exit code 3');
    await waitFor('running again', async () => (await inspectField(name, '{{.State.Status}}')) === 'running', 10_000);
    assert.equal(await inspectField(name, '{{.HostConfig.RestartPolicy.Name}}'), 'no');
  });

  it('stops within a second on SIGTERM with exit code 0', async () => {
    const exit = await rm.stop();
    assert.equal(exit.code, 0, rm.dump());
    assert.ok(exit.ms < 1000, `took ${exit.ms} ms`);
    assert.ok(rm.find('stopped').length === 1);
  });
});

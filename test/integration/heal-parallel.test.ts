// Restarts run side by side (docs/behaviour.md §2.4): ten containers turning unhealthy at once are all restarted
// within 5 s, while an eleventh one's restart is stuck in a 30 s stop timeout (label stop_timeout=30,
// SIGTERM ignored) and delays none of them. Times come from the engine's own events.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { docker, hasTestEngine, inspectField, removeNamespace, runContainer, TEST_IMAGE, uniqueNamespace, waitFor } from '../helpers/engine.js';
import { engineNowSec, QUICK_STOP_CMD, SLOW_STOP_CMD, startRepairman, watchEngineEvents, type RepairmanProcess } from '../helpers/repairman.js';

describe('heal: parallel restarts', { skip: !hasTestEngine() && 'REPAIRMAN_TEST_DOCKER_HOST is not set' }, () => {
  const ns = uniqueNamespace('heal-par');
  const volume = `${ns}trigger`;
  const fast = Array.from({ length: 10 }, (_, i) => `${ns}fast${i}`);
  const slow = `${ns}slow`;
  let rm: RepairmanProcess;

  /** Create a file in the shared volume: every container checking for it turns unhealthy at its next check. */
  const trigger = (file: string): Promise<string> =>
    docker(['run', '--rm', '--name', `${ns}touch-${file}`, '-v', `${volume}:/shared`, TEST_IMAGE, 'touch', `/shared/${file}`]);

  before(async () => {
    await docker(['volume', 'create', volume]);
    await Promise.all([
      ...fast.map((name) => runContainer(name, { cmd: QUICK_STOP_CMD, health: { cmd: 'test ! -f /shared/fail' }, extra: ['-v', `${volume}:/shared`] })),
      runContainer(slow, {
        cmd: SLOW_STOP_CMD,
        health: { cmd: 'test ! -f /shared/slowfail' },
        extra: ['-v', `${volume}:/shared`],
        labels: { 'org.riotkit.repairman.stop_timeout': '30' },
      }),
    ]);
    await waitFor('all healthy', async () => {
      for (const name of [...fast, slow]) if ((await inspectField(name, '{{.State.Health.Status}}')) !== 'healthy') return false;
      return true;
    }, 20_000, 250);
    // A long gap: containers still unhealthy after their restart wait instead of churning.
    rm = await startRepairman({ namespace: ns, args: ['--seconds-between-restarts', '60'] });
  });
  after(async () => {
    await rm?.stop();
    await removeNamespace(ns);
    await docker(['volume', 'rm', '-f', volume]).catch(() => undefined);
  });

  it('restarts ten containers within 5 s while another restart takes 30 s', async (t) => {
    await trigger('slowfail');
    await rm.waitForLog((l) => l.msg === 'restarting' && l.container === slow, 15_000);
    const since = (await engineNowSec()) - 1;
    const watch = watchEngineEvents({ since, filters: { container: fast, event: ['health_status', 'restart'] } });
    await trigger('fail');
    for (const name of fast) await rm.waitForLog((l) => l.msg === 'restarted' && l.container === name, 15_000);
    assert.equal(rm.actionsOn(slow).length, 0, 'the slow restart is still under way');
    assert.equal(await inspectField(slow, '{{.State.Status}}'), 'running');

    const events = await watch.stop();
    const byName = (name: string, action: string): number[] =>
      events.filter((e) => e.Actor.Attributes.name === name && e.Action === action).map((e) => e.timeNano);
    const firstUnhealthy = Math.min(...fast.flatMap((n) => byName(n, 'health_status: unhealthy')));
    let slowest = 0;
    for (const name of fast) {
      const unhealthy = byName(name, 'health_status: unhealthy')[0];
      const restarted = byName(name, 'restart')[0];
      assert.ok(unhealthy && restarted, `${name}: ${JSON.stringify(events.filter((e) => e.Actor.Attributes.name === name).map((e) => e.Action))}`);
      slowest = Math.max(slowest, restarted - firstUnhealthy);
    }
    t.diagnostic(`all ten restarted ${(slowest / 1e6).toFixed(0)} ms after the first turned unhealthy`);
    assert.ok(slowest <= 5000 * 1e6, `the last restart finished ${(slowest / 1e6).toFixed(0)} ms after the first unhealthy`);
  });
});

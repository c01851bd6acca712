// What Repairman must NOT touch (docs/behaviour.md §2.2, §2.3), on the private engine: exit 0, `docker stop`,
// `docker kill`, a paused unhealthy container, restart policy `always`, a Swarm task, a compose
// one-off and enable_autoheal=false. Control containers (a crash and an unhealthy one) prove that
// Repairman was watching and acting all along, and a 2 s --interval runs the re-checks over the
// same containers.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { docker, hasTestEngine, inspectField, namePrefixFilter, removeNamespace, runContainer, TEST_ENGINE, uniqueNamespace, waitFor } from '../helpers/engine.js';
import { QUICK_STOP_CMD, startRepairman, type RepairmanProcess } from '../helpers/repairman.js';

const CRASH_SOON = 'sleep 1; exit 3';
/** Exits 3 on SIGTERM: only "someone stopped it" (the kill/stop event) tells it from a crash. */
const EXIT3_ON_TERM = 'trap "exit 3" TERM; sleep 100000 & wait';

describe('heal: containers left alone', { skip: !hasTestEngine() && 'REPAIRMAN_TEST_DOCKER_HOST is not set' }, () => {
  const ns = uniqueNamespace('heal-alone');
  const n = (s: string): string => `${ns}${s}`;
  let rm: RepairmanProcess;
  const startedAt = new Map<string, string>();

  before(async () => {
    // Paused while unhealthy BEFORE Repairman starts: its first listing finds it so.
    await runContainer(n('paused'), { cmd: 'sleep 100000', health: { cmd: 'false' } });
    await waitFor('unhealthy', async () => (await inspectField(n('paused'), '{{.State.Health.Status}}')) === 'unhealthy', 15_000);
    await docker(['pause', n('paused')]);

    rm = await startRepairman({ namespace: ns, intervalSec: 2, http: true, args: ['--seconds-between-restarts', '1', '--max-restarts-in-frame', '0'] });

    await Promise.all([
      runContainer(n('exit0'), { cmd: 'sleep 1; exit 0' }),
      runContainer(n('stopped'), { cmd: EXIT3_ON_TERM }),
      runContainer(n('killed'), { cmd: EXIT3_ON_TERM }),
      runContainer(n('killterm'), { cmd: EXIT3_ON_TERM }),
      runContainer(n('always'), { cmd: CRASH_SOON, restart: 'always' }),
      runContainer(n('swarm'), { cmd: CRASH_SOON, labels: { 'com.docker.swarm.task.id': 'abcdef123456' } }),
      runContainer(n('oneoff'), { cmd: CRASH_SOON, labels: { 'com.docker.compose.oneoff': 'True' } }),
      runContainer(n('rm'), { cmd: CRASH_SOON, extra: ['--rm'] }),
      runContainer(n('optout'), { cmd: 'sleep 100000', health: { cmd: 'false' }, labels: { 'org.riotkit.repairman.enable_autoheal': 'false' } }),
      runContainer(n('optout-crash'), { cmd: CRASH_SOON, labels: { 'org.riotkit.repairman.enable_autoheal': 'false' } }),
      // Controls: these two must be healed.
      runContainer(n('control-crash'), { cmd: `if [ -f /tmp/ran ]; then ${QUICK_STOP_CMD}; else touch /tmp/ran; ${CRASH_SOON}; fi` }),
      // Unhealthy on its first run only (/tmp/ok appears from the second run on).
      runContainer(n('control-sick'), { cmd: 'if [ -f /tmp/once ]; then touch /tmp/ok; fi; touch /tmp/once; trap "exit 0" TERM; sleep 100000 & wait', health: { cmd: 'test -f /tmp/ok' } }),
    ]);
    await docker(['stop', '-t', '5', n('stopped')]);
    await docker(['kill', n('killed')]);
    await docker(['kill', '--signal', 'TERM', n('killterm')]);
    for (const s of ['optout', 'paused']) startedAt.set(s, await inspectField(n(s), '{{.State.StartedAt}}'));
    // Both controls healed = Repairman saw everything above too; then a few more seconds of re-checks.
    await rm.waitForLog((l) => l.msg === 'started' && l.container === n('control-crash'), 20_000);
    await rm.waitForLog((l) => l.msg === 'restarted' && l.container === n('control-sick'), 20_000);
    await waitFor('optout unhealthy', async () => (await inspectField(n('optout'), '{{.State.Health.Status}}')) === 'unhealthy', 15_000);
    await new Promise((r) => setTimeout(r, 5000));
  });
  after(async () => {
    await rm?.stop();
    await docker(['unpause', n('paused')]).catch(() => undefined);
    await removeNamespace(ns);
  });

  // Podman 4.3.1 writes the event of a stop only sometimes (a container that exits at once on SIGTERM
  // often gets just its die), so one that exits 3 on the stop's SIGTERM may look crashed there: a known
  // limit on Podman (README, Podman), not a case it can pass every time.
  const noStopEvent = TEST_ENGINE === 'podman' && 'Podman 4.3.1 does not always send a stop event: a stop may be seen as a crash';
  for (const s of ['exit0', 'stopped', 'killed', 'killterm', 'always', 'swarm', 'oneoff', 'optout', 'optout-crash', 'paused']) {
    it(`leaves ${s} alone`, { skip: s === 'stopped' && noStopEvent }, () => {
      assert.deepEqual(rm.actionsOn(n(s)), [], rm.dump());
    });
  }

  it('the engine agrees: nothing was started or restarted', async () => {
    for (const s of ['exit0', 'stopped', 'killed', 'killterm', 'swarm', 'oneoff', 'optout-crash']) {
      if (s === 'stopped' && noStopEvent) continue;
      assert.equal(await inspectField(n(s), '{{.State.Status}}'), 'exited', s);
    }
    if (!noStopEvent) assert.equal(await inspectField(n('stopped'), '{{.State.ExitCode}}'), '3', 'a non-deliberate code, yet stopped by someone');
    assert.equal(await inspectField(n('killterm'), '{{.State.ExitCode}}'), '3');
    assert.equal(await inspectField(n('paused'), '{{.State.Status}}'), 'paused');
    for (const s of ['optout', 'paused']) assert.equal(await inspectField(n(s), '{{.State.StartedAt}}'), startedAt.get(s), s);
    assert.equal(await docker(['ps', '-aq', '--filter', `${namePrefixFilter(n('rm'))}$`]), '', 'the --rm container is gone, not restarted');
  });

  it('counts the reasons in /metrics', async () => {
    const text = await (await fetch(rm.url('/metrics'))).text();
    const count = (reason: string): number => Number(new RegExp(`^repairman_skips_total\\{reason="${reason}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    for (const reason of ['deliberate_exit', 'stopped_by_someone', 'swarm_task', 'one_off', 'autoheal_disabled']) {
      assert.ok(count(reason) >= 1, `skips_total{reason="${reason}"} in\n${text}`);
    }
    assert.ok(count('stopped_by_someone') >= (noStopEvent ? 1 : 2), 'docker stop and docker kill --signal TERM, both exiting 3');
    // Restart policy always: seen between two engine restarts ("restarting") or just exited. Podman
    // restarts it at once (its die event reaches Repairman 0.2-0.4 s later, the container running
    // again), so there the proof is the engine's own count of restarts.
    if (TEST_ENGINE === 'podman') assert.ok(Number(await inspectField(n('always'), '{{.RestartCount}}')) >= 1, 'Podman restarted it');
    else assert.ok(count('restarting') + count('engine_restarts_it') >= 1, text);
    // On Podman the stopped container may have been started as a crash too (see noStopEvent).
    assert.match(text, new RegExp(`^repairman_restarts_total\\{reason="crashed"\\} ${noStopEvent ? '[12]' : 1}$`, 'm'));
    assert.match(text, /^repairman_restarts_total\{reason="unhealthy"\} 1$/m);
  });
});

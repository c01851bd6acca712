// Reliability: the container changes under Repairman's feet while its restart is pending (in the gap
// wait between two restarts) or running (a slow stop that takes the whole stop timeout): it is
// removed, renamed, or removed and re-created under the same name. Repairman must not crash, must
// journal what it did (or failed to do), and must never restart what should not be: not a healthy
// re-created container, not anything before its gap is over. The engine's own event stream is the
// judge of what was really restarted.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { docker, hasTestEngine, removeNamespace, runContainer, testDockerHost, uniqueNamespace, waitFor } from '../helpers/engine.js';
import { startRepairman, type LogLine, type RepairmanProcess } from '../helpers/repairman.js';
import { flagDir, CALM_EXTRA, CALM_HEALTH, HEALTH_OK, sickOnFlag, sickSlowStopOnFlag, type FlagDir } from './helpers/containers.js';
import { assertAliveAndClean, followEngineEvents, secOf, sleep, type EventFollower } from './helpers/observe.js';
import { report } from './helpers/report.js';

const ms = (l: LogLine): number => Date.parse(l.time);
/** Engine messages carry 64-hex ids: shortened for the report. */
const shortId = (text: string): string => text.replace(/([0-9a-f]{12})[0-9a-f]{52}/g, '$1…');
const GAP_SEC = 8;
const SLOW_STOP_SEC = 6;

interface JournalEntry {
  num: number;
  container: string;
  kind: string;
  message: string;
}

describe('reliability: containers removed, renamed or re-created while their restart is pending or running', { skip: !hasTestEngine() && 'REPAIRMAN_TEST_DOCKER_HOST is not set' }, () => {
  const ns = uniqueNamespace('rel-churn');
  let flags: FlagDir;
  let rm: RepairmanProcess;
  let events: EventFollower | undefined;
  const figures: string[] = [];

  // --network none: the test engine runs without a bridge, and dockerd 20.10 then cannot rename a
  // container on the default network once it has been restarted ("sandbox ... not found").
  let NET: string[] = [];
  before(async () => {
    flags = flagDir();
    NET = [...flags.mount, '--network', 'none'];
    // Live: the engine keeps too few past events for --since queries on a busy shared engine.
    events = await followEngineEvents(testDockerHost(), { type: ['container'], event: ['restart'] });
    rm = await startRepairman({
      namespace: ns,
      http: true,
      intervalSec: 3,
      args: ['--seconds-between-restarts', String(GAP_SEC), '--max-restarts-in-frame', '0', '--max-checks-to-give-up', '0'],
    });
  });
  after(async () => {
    if (figures.length) report('container churn', figures.join('; '));
    await rm?.stop();
    await events?.stop();
    await removeNamespace(ns);
    flags?.remove();
  });

  const healthy = (name: string): Promise<unknown> =>
    waitFor(`${name} healthy`, async () => (await docker(['inspect', '--format', '{{.State.Health.Status}}', name])) === 'healthy', 60_000, 200);
  const idOf = (name: string): Promise<string> => docker(['inspect', '--format', '{{.Id}}', name]);
  const journalOf = async (name: string): Promise<JournalEntry[]> =>
    ((await (await fetch(rm.url(`/api/events?limit=50&container=${encodeURIComponent(name)}`))).json()) as { events: JournalEntry[] }).events.reverse();
  /** Restarts the engine did to one container id since `sinceSec` (the engine shares our clock). */
  const engineRestarts = async (id: string, sinceSec: number): Promise<number> => {
    await sleep(500); // let the last events arrive
    return events!.events.filter((e) => e.Action === 'restart' && e.Actor.ID === id && secOf(e) >= sinceSec).length;
  };
  const engineNowSec = (): number => Date.now() / 1000;

  /** A container that has been restarted once and is unhealthy again: Repairman is in its gap wait. */
  async function inGapWait(name: string): Promise<{ untilMs: number; id: string }> {
    await runContainer(name, { cmd: sickOnFlag(name), health: { cmd: HEALTH_OK }, extra: NET });
    await healthy(name);
    flags.raise(name);
    await rm.waitForLog((l) => l.msg === 'restarted' && l.container === name, 15_000);
    await healthy(name);
    flags.raise(name);
    const waiting = await rm.waitForLog((l) => l.msg === 'waiting before the next restart' && l.container === name, 15_000);
    const untilMs = Number(waiting.untilMs);
    assert.ok(untilMs - Date.now() > 2_000, 'the wait still has a while to go');
    return { untilMs, id: await idOf(name) };
  }

  /** A slow-stopping container whose restart (the whole stop timeout) is under way. */
  async function restarting(name: string): Promise<{ id: string; startedAt: LogLine }> {
    await runContainer(name, { cmd: sickSlowStopOnFlag(name), health: { cmd: HEALTH_OK }, extra: NET, labels: { 'org.riotkit.repairman.stop_timeout': String(SLOW_STOP_SEC) } });
    await healthy(name);
    const id = await idOf(name);
    flags.raise(name);
    const startedAt = await rm.waitForLog((l) => l.msg === 'restarting' && l.container === name, 15_000);
    await sleep(1_000); // well inside the stop timeout
    return { id, startedAt };
  }

  it('removed during the gap wait: the wait is dropped and said so (log, journal), nothing is restarted, no crash', async () => {
    const name = `${ns}gap-rm`;
    const { untilMs } = await inGapWait(name);
    const removedAt = Date.now();
    await docker(['rm', '-f', name]);
    const said = await rm.waitForLog((l) => l.msg === 'removed while waiting' && l.container === name, 10_000);
    assert.equal(said.level, 'info');
    assert.equal(said.wait, 'gap');
    await sleep(untilMs - Date.now() + 3_000);
    assert.equal(rm.find((l) => l.container === name && /^(restarting|restart failed|restarted)$/.test(l.msg) && ms(l) > untilMs - GAP_SEC * 1000 + 500).length, 0, 'no restart attempted on a removed container');
    const j = await journalOf(name);
    assert.deepEqual(j.map((e) => e.kind), ['restart', 'recovered', 'wait', 'gone'], JSON.stringify(j));
    assert.match(j[3]!.message, /^Removed during the wait before its next restart \(until .+\): nothing left to restart$/);
    assertAliveAndClean(rm);
    figures.push(`removed in the gap: logged and journaled ${ms(said) - removedAt} ms after \`docker rm -f\` (journal ${j.map((e) => e.kind).join(', ')}), no further action`);
  });

  it('renamed during the gap wait: the old name is not restarted; the new name is healed as its own container', async () => {
    const name = `${ns}gap-mv`;
    const renamed = `${ns}gap-mv2`;
    const { untilMs, id } = await inGapWait(name);
    const since = engineNowSec();
    await docker(['rename', name, renamed]);
    await sleep(Math.max(0, untilMs - Date.now()) + 4_000);
    assert.equal(rm.find((l) => l.container === name && /^(restarting|restart failed)$/.test(l.msg) && ms(l) >= untilMs - 1000).length, 0, 'nothing done under the old name');
    // Still unhealthy under its new name: a container like any other, found by the re-check.
    const r = await rm.waitForLog((l) => l.msg === 'restarted' && l.container === renamed, 15_000);
    assert.equal(await engineRestarts(id, since), 1, 'restarted once, as the new name');
    await healthy(renamed);
    assertAliveAndClean(rm);
    // The old name's wait is dropped, and its journal says where the container went.
    const said = (await journalOf(name)).at(-1); // oldest first
    assert.equal(said?.kind, 'gone', JSON.stringify(said));
    assert.match(said!.message, new RegExp(`^Renamed to ${renamed} during the wait before its next restart`));
    const d = Math.round((ms(r) - untilMs) / 1000);
    figures.push(`renamed in the gap: journaled under the old name ("${said!.message.slice(0, 40)}…"); restarted once, as ${renamed.slice(ns.length)} (a new name, a new budget), ${Math.abs(d)} s ${d < 0 ? 'before' : 'after'} the old name's wait would have ended`);
  });

  it('re-created healthy during the gap wait: the new container is left alone', async () => {
    const name = `${ns}gap-new`;
    const { untilMs } = await inGapWait(name);
    await docker(['rm', '-f', name]);
    await runContainer(name, { cmd: sickOnFlag('never'), health: CALM_HEALTH, extra: [...NET, ...CALM_EXTRA] });
    const newId = await idOf(name);
    const since = engineNowSec();
    await sleep(Math.max(0, untilMs - Date.now()) + 4_000);
    assert.equal(await engineRestarts(newId, since - 2), 0, 'the healthy new container was not restarted');
    assert.equal(rm.find((l) => l.container === name && /^(restarting|restart failed)$/.test(l.msg) && ms(l) >= untilMs - 1000).length, 0);
    assertAliveAndClean(rm);
    figures.push('re-created healthy in the gap: left alone');
  });

  it('re-created unhealthy during the gap wait: restarted, but not before the gap is over (the budget belongs to the name)', async () => {
    const name = `${ns}gap-bad`;
    const { untilMs } = await inGapWait(name);
    await docker(['rm', '-f', name]);
    await runContainer(name, { cmd: sickOnFlag(name), health: { cmd: HEALTH_OK }, extra: NET });
    await healthy(name);
    flags.raise(name);
    const r = await rm.waitForLog((l) => l.msg === 'restarted' && l.container === name && ms(l) >= untilMs - GAP_SEC * 1000 + 1000, 20_000);
    assert.ok(ms(r) >= untilMs - 50, `restarted ${untilMs - ms(r)} ms before the gap ended`);
    await healthy(name);
    assertAliveAndClean(rm);
    figures.push(`re-created unhealthy in the gap: restarted ${ms(r) - untilMs} ms after the gap ended`);
  });

  it('removed while its slow restart runs: the outcome is journaled, no crash, nothing else done', async () => {
    const name = `${ns}run-rm`;
    await restarting(name);
    await docker(['rm', '-f', name]);
    // The engine decides how the interrupted restart ends (usually a 500 "marked for removal").
    const done = await rm.waitForLog((l) => l.container === name && (l.msg === 'restart failed' || l.msg === 'restarted'), SLOW_STOP_SEC * 1000 + 20_000);
    await sleep(GAP_SEC * 1000 + 2_000);
    const j = await journalOf(name);
    assert.ok(j.some((e) => e.kind === (done.msg === 'restarted' ? 'restart' : 'restart_failed')), JSON.stringify(j));
    assert.equal(rm.find((l) => l.container === name && l.msg === 'restarting').length, 1, 'not tried again on a container that is gone');
    assertAliveAndClean(rm);
    figures.push(`removed during a slow restart: ${done.msg === 'restarted' ? 'the engine finished the restart' : `"${shortId(String(done.error))}"`}, journaled; not tried again`);
  });

  it('renamed while its slow restart runs: the restart completes, is journaled once, no crash', async () => {
    const name = `${ns}run-mv`;
    const renamed = `${ns}run-mv2`;
    const since = engineNowSec();
    const { id } = await restarting(name);
    await docker(['rename', name, renamed]);
    const done = await rm.waitForLog((l) => l.container === name && (l.msg === 'restart failed' || l.msg === 'restarted'), SLOW_STOP_SEC * 1000 + 20_000);
    assert.equal(done.msg, 'restarted');
    await healthy(renamed);
    await sleep(4_000);
    assert.equal(await engineRestarts(id, since), 1, 'restarted exactly once');
    assert.equal((await journalOf(name)).filter((e) => e.kind === 'restart').length, 1);
    assert.deepEqual(rm.find((l) => l.container === renamed && /^(restarting|restarted)$/.test(l.msg)), []);
    assertAliveAndClean(rm);
    figures.push('renamed during a slow restart: the restart completed once, journaled under the old name');
  });

  it('re-created while its slow restart runs: the old restart is journaled; the healthy new one is left alone', async () => {
    const name = `${ns}run-new`;
    await restarting(name);
    await docker(['rm', '-f', name]);
    await runContainer(name, { cmd: sickOnFlag('never'), health: CALM_HEALTH, extra: [...NET, ...CALM_EXTRA] });
    const newId = await idOf(name);
    const since = engineNowSec();
    const done = await rm.waitForLog((l) => l.container === name && (l.msg === 'restart failed' || l.msg === 'restarted'), SLOW_STOP_SEC * 1000 + 20_000);
    await sleep(GAP_SEC * 1000 + 3_000);
    assert.equal(await engineRestarts(newId, since - 2), 0, 'the new container was not restarted');
    assert.ok((await journalOf(name)).some((e) => e.kind === (done.msg === 'restarted' ? 'restart' : 'restart_failed')));
    assertAliveAndClean(rm);
    figures.push(`re-created during a slow restart: the old restart ${done.msg === 'restarted' ? 'ended' : `failed ("${shortId(String(done.error))}")`} and was journaled; the new container was left alone`);
  });
});

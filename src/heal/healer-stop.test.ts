// The healer against a fake engine and a manual clock: containers removed or renamed during their
// wait, and restarts in flight when Repairman stops (second: its stop timings want a warm process).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerPolicy } from '../config/types.js';
import { openJournal } from '../journal/journal.js';
import { ev, kinds, neverRecovers, setup, type Setup } from '../../test/helpers/healer-setup.js';
import type { FakeContainer } from '../../test/helpers/fake-engine.js';
import { ManualClock } from '../../test/helpers/manual-clock.js';

describe('healer: a container removed during its wait', () => {
  /** Restarted once at t=0, unhealthy again at once: in the gap wait until t=10 s. */
  async function inGapWait(policy: Partial<ContainerPolicy> = {}): Promise<Setup & { c: FakeContainer }> {
    const s = setup({ policy: { notifyUrls: ['https://hooks.example/x'], notifyLevel: 'DEBUG', ...policy } });
    const c = s.engine.add({ name: 'ns-web', health: 'unhealthy' });
    neverRecovers(s);
    s.healer.handleEvent(ev('health_status: unhealthy', c));
    await s.clock.advance(1_000);
    assert.equal(s.healer.budgetViewOf('ns-web', s.clock.now()).state, policy.maxRestartsInFrame === 1 ? 'longer_wait' : 'waiting');
    return { ...s, c };
  }

  it('destroyed in the gap wait: journaled (not notified), the wait dropped, nothing restarted', async () => {
    const s = await inGapWait();
    s.engine.containers.delete('ns-web');
    s.healer.handleEvent(ev('destroy', s.c));
    assert.deepEqual(kinds(s.journal), ['restart', 'wait', 'gone']);
    const [e] = s.journal.list({ limit: 1 });
    assert.equal(e!.message, 'Removed during the wait before its next restart (until 2024-01-01 12:00:10 UTC): nothing left to restart');
    assert.deepEqual(e!.details, { wait: 'gap', untilMs: Date.UTC(2024, 0, 1, 12, 0, 10) });
    assert.equal(s.healer.pendingWakeMs('ns-web'), null);
    s.engine.calls.length = 0;
    await s.clock.advance(60_000);
    assert.deepEqual(s.engine.calls, [], 'no timer left: not even an inspect');
    assert.deepEqual(s.sent.filter((x) => x.kind === 'gone'), []);
    await s.healer.stop();
  });

  it('renamed in the gap wait: journaled under the old name, whose wait is dropped', async () => {
    const s = await inGapWait();
    s.engine.containers.delete('ns-web');
    s.c.name = 'ns-web2';
    s.c.health = 'healthy';
    s.engine.containers.set('ns-web2', s.c);
    s.healer.handleEvent(ev('rename', s.c, { oldName: '/ns-web' }));
    assert.deepEqual(kinds(s.journal, 'ns-web'), ['restart', 'wait', 'gone']);
    const [e] = s.journal.list({ limit: 1, container: 'ns-web' });
    assert.equal(
      e!.message,
      'Renamed to ns-web2 during the wait before its next restart (until 2024-01-01 12:00:10 UTC): nothing left to restart under this name; the new name has a budget of its own',
    );
    assert.equal(e!.details?.renamedTo, 'ns-web2');
    assert.equal(s.healer.pendingWakeMs('ns-web'), null);
    await s.clock.advance(60_000);
    assert.equal(s.engine.count('restart'), 1, 'healthy under its new name: not restarted again');
    assert.deepEqual(s.sent.filter((x) => x.kind === 'gone'), []);
    await s.healer.stop();
  });

  it('renamed while not waiting: nothing journaled', async () => {
    const s = setup();
    const c = s.engine.add({ name: 'ns-calm', health: 'healthy' });
    s.healer.handleEvent(ev('start', c));
    s.engine.containers.delete('ns-calm');
    c.name = 'ns-calm2';
    s.engine.containers.set('ns-calm2', c);
    s.healer.handleEvent(ev('rename', c, { oldName: '/ns-calm' }));
    await s.clock.advance(0);
    assert.deepEqual(kinds(s.journal, 'ns-calm'), []);
    await s.healer.stop();
  });

  it('removed in the longer wait, seen by a full re-check (no event): journaled once', async () => {
    const s = await inGapWait({ maxRestartsInFrame: 1 });
    s.engine.containers.delete('ns-web');
    await s.healer.recheck('full');
    await s.healer.recheck('full');
    await s.clock.advance(0);
    assert.deepEqual(kinds(s.journal), ['restart', 'longer_wait', 'gone']);
    assert.match(s.journal.list({ limit: 1 })[0]!.message, /^Removed during its longer wait \(until 2024-01-01 12:05:00 UTC\)/);
    await s.healer.stop();
  });

  it('removed in the gap wait without any event: found when the wait ends, journaled', async () => {
    const s = await inGapWait();
    s.engine.containers.delete('ns-web');
    await s.clock.advance(10_000);
    assert.deepEqual(kinds(s.journal), ['restart', 'wait', 'gone']);
    assert.equal(s.engine.count('restart'), 1);
    await s.healer.stop();
  });

  it('keeps max_historic_entries, and says nothing about a container removed while not waiting', async () => {
    const s = await inGapWait({ maxHistoricEntries: 2 });
    s.engine.containers.delete('ns-web');
    s.healer.handleEvent(ev('destroy', s.c));
    assert.deepEqual(kinds(s.journal), ['wait', 'gone']);
    const other = s.engine.add({ name: 'ns-calm', health: 'healthy' });
    s.healer.handleEvent(ev('start', other));
    s.engine.containers.delete('ns-calm');
    s.healer.handleEvent(ev('destroy', other));
    await s.clock.advance(0);
    assert.deepEqual(kinds(s.journal, 'ns-calm'), []);
    await s.healer.stop();
  });
});

// ---- restarts Repairman does not live to see end ------------------------------------------------

/** A restart that lasts until the caller gives up on it (the client rejects with the abort reason). */
function untilAborted(_c: FakeContainer, signal?: AbortSignal): Promise<void> {
  return new Promise((_resolve, reject) => {
    signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

describe('healer: restarts in flight when Repairman stops', () => {
  const LOUD = { notifyUrls: ['https://hooks.example/x'], notifyLevel: 'DEBUG' } as const;

  it('SIGTERM: an abandoned restart is journaled as handed to the engine, once, quickly, not notified', async () => {
    const s = setup({ policy: { ...LOUD, notifyUrls: [...LOUD.notifyUrls] } });
    const c = s.engine.add({ name: 'ns-web', health: 'unhealthy' });
    s.engine.restartHook = untilAborted;
    s.healer.handleEvent(ev('health_status: unhealthy', c));
    await s.clock.advance(0);
    assert.equal(s.engine.count('restart'), 1);
    assert.ok(s.journal.loadBudget('ns-web')?.inFlight, 'the marker is saved before the engine call');
    assert.deepEqual(kinds(s.journal), []);
    const started = performance.now();
    await s.healer.stop();
    const stopMs = performance.now() - started;
    assert.ok(stopMs < 100, `stop took ${stopMs} ms`);
    const [e] = s.journal.list({ limit: 10 });
    assert.deepEqual(kinds(s.journal), ['restart']);
    assert.match(e!.message, /^Restart requested \(unhealthy\) and handed to the engine when Repairman stopped/);
    assert.equal(e!.atMs, s.clock.now(), 'dated when it was asked of the engine');
    assert.equal(e!.details?.interrupted, 'stopped');
    const b = s.journal.loadBudget('ns-web');
    assert.equal(b?.inFlight, undefined, 'the marker went with the entry');
    assert.deepEqual(b?.restartsMs, [s.clock.now()], 'the restart still counts');
    assert.deepEqual(s.sent, [], 'the notifier is closing: nothing sent');
    // The next instance on this database finds nothing left to journal.
    const next = setup({ journal: s.journal, clock: s.clock, engine: s.engine });
    await next.healer.recheck('full');
    await s.clock.advance(0);
    assert.equal(kinds(s.journal).filter((k) => k === 'restart').length, 1, 'journaled once');
    await next.healer.stop();
  });

  it('SIGTERM: the give-up decided with an abandoned restart is journaled with it', async () => {
    const s = setup({ policy: { maxRestartsInFrame: 0, maxChecksToGiveUp: 1 } });
    const c = s.engine.add({ name: 'ns-web', health: 'unhealthy' });
    s.engine.restartHook = untilAborted;
    s.healer.handleEvent(ev('health_status: unhealthy', c));
    await s.clock.advance(0);
    await s.healer.stop();
    assert.deepEqual(kinds(s.journal), ['restart', 'give_up']);
    assert.equal(s.journal.loadBudget('ns-web')?.givenUp, true);
  });

  it('SIGTERM: a restart call that returns while stopping is journaled as done', async () => {
    const s = setup();
    const c = s.engine.add({ name: 'ns-web', health: 'unhealthy' });
    // An engine call that ends just as Repairman stops (not aborted).
    s.engine.restartHook = (_x, signal) => new Promise((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }));
    s.healer.handleEvent(ev('health_status: unhealthy', c));
    await s.clock.advance(0);
    await s.healer.stop();
    const [e] = s.journal.list({ limit: 10 });
    assert.deepEqual(kinds(s.journal), ['restart']);
    assert.match(e!.message, /^Restarted \(unhealthy\), as Repairman stopped/);
    assert.equal(e!.details?.interrupted, undefined);
    assert.equal(s.journal.loadBudget('ns-web')?.inFlight, undefined);
  });

  it('SIGKILL: the next instance journals the restart left in flight once, notifies it, and keeps it in the budget', async () => {
    const journal = openJournal({ dbPath: ':memory:' });
    const clock = new ManualClock();
    const first = setup({ journal, clock, policy: { maxRestartsInFrame: 0, maxChecksToGiveUp: 2 } });
    const c = first.engine.add({ name: 'ns-web', health: 'unhealthy', labels: { 'org.riotkit.repairman.max_historic_entries': '20' } });
    // The first restart completes; the second never does: the instance is "killed" during it (it is
    // simply never stopped, so it writes nothing more).
    first.healer.handleEvent(ev('health_status: unhealthy', c));
    await clock.advance(0);
    first.engine.restartHook = () => new Promise<void>(() => undefined);
    await clock.advance(11_000);
    c.health = 'unhealthy';
    first.healer.handleEvent(ev('health_status: unhealthy', c));
    await clock.advance(0);
    const requestedAt = clock.now();
    assert.equal(first.engine.count('restart'), 2);
    assert.deepEqual(kinds(journal), ['restart']);
    const marker = journal.loadBudget('ns-web')?.inFlight;
    assert.deepEqual(marker, { atMs: requestedAt, verb: 'restart', reason: 'unhealthy', attempt: 2, multipleFailures: true, gaveUp: true, maxHistoricEntries: 20 });

    // The engine finished the restart alone; a new instance starts on the same database.
    first.engine.restartHook = null;
    await clock.advance(5_000);
    const second = setup({ journal, clock, engine: first.engine, policy: { ...LOUD, notifyUrls: [...LOUD.notifyUrls], maxRestartsInFrame: 0, maxChecksToGiveUp: 2 } });
    assert.deepEqual(kinds(journal), ['restart'], 'nothing journaled before the container is seen (its labels decide)');
    await second.healer.recheck('full');
    await clock.advance(0);
    assert.deepEqual(kinds(journal), ['restart', 'multiple_failures', 'restart', 'give_up']);
    const [giveUp, left] = journal.list({ limit: 2 });
    assert.match(left!.message, /^Restart requested \(unhealthy\) before Repairman was stopped or killed; left to the engine to finish/);
    assert.equal(left!.details?.interrupted, 'killed');
    assert.equal(left!.atMs, requestedAt, 'dated when it was asked of the engine');
    assert.equal(giveUp!.atMs, requestedAt);
    const b = journal.loadBudget('ns-web');
    assert.equal(b?.inFlight, undefined, 'the marker is gone');
    assert.equal(b?.givenUp, true);
    assert.equal(b?.restartsMs.length, 2, 'both restarts count');
    assert.deepEqual(second.sent.map((e) => [e.kind, e.atMs]), [['multiple_failures', requestedAt], ['restart', requestedAt], ['give_up', requestedAt]]);
    assert.equal(second.engine.count('restart'), 2, 'given up: nothing more');
    await second.healer.stop();

    // A third instance finds nothing left over: never journaled twice.
    const third = setup({ journal, clock, engine: first.engine });
    await third.healer.recheck('full');
    await clock.advance(0);
    assert.deepEqual(kinds(journal), ['restart', 'multiple_failures', 'restart', 'give_up']);
    await third.healer.stop();
  });

  it('SIGKILL: a leftover of a container gone by the next start is journaled after the first listing, trimmed as it was', async () => {
    const journal = openJournal({ dbPath: ':memory:' });
    const clock = new ManualClock();
    const first = setup({ journal, clock, policy: { maxHistoricEntries: 1 } });
    const c = first.engine.add({ name: 'ns-web', status: 'exited', exitCode: 3 });
    first.engine.start = () => new Promise<void>(() => undefined);
    first.healer.handleEvent(ev('die', c, { exitCode: '3' }));
    await clock.advance(0);
    assert.ok(journal.loadBudget('ns-web')?.inFlight);
    journal.append({ container: 'ns-web', kind: 'config_error', atMs: clock.now(), message: 'older' }, 50);
    first.engine.containers.delete('ns-web');
    const second = setup({ journal, clock, engine: first.engine });
    await second.healer.recheck('full');
    await clock.advance(0);
    const entries = journal.list({ limit: 10 });
    assert.deepEqual(entries.map((e) => e.kind), ['restart'], 'max_historic_entries 1, as when it was restarted');
    assert.match(entries[0]!.message, /^Start requested \(crashed with exit code 3\) before Repairman was stopped or killed/);
    assert.equal(entries[0]!.details?.exitCode, 3);
    assert.equal(journal.loadBudget('ns-web')?.inFlight, undefined);
    await second.healer.stop();
  });
});

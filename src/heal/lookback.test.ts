// The crash look-back (docs/behaviour.md §2.2) with an explicit clock: a crash Repairman did not see
// counts only if it happened at most heal_exited_lookback before Repairman began watching (with a file
// database: before the previous run was last alive); one it saw happen always counts. Old crashes cost
// no inspect when the listing's age already tells.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeLabels } from '../config/labels.js';
import { defaultSettings } from '../config/settings-table.js';
import type { GlobalSettings } from '../config/types.js';
import { openJournal } from '../journal/journal.js';
import { silentLogger } from '../log.js';
import { MetricsRegistry } from '../metrics/registry.js';
import { KeyedSerializer, Limiter } from '../util/keyed-queue.js';
import { FakeEngine, type FakeContainer } from '../../test/helpers/fake-engine.js';
import { ManualClock } from '../../test/helpers/manual-clock.js';
import { classify, exitAgeAtLeastSec } from './classify.js';
import { Healer } from './healer.js';
import { createHealMetrics } from './metrics.js';

const T0 = Date.UTC(2024, 0, 1, 12, 0, 0);
const iso = (ms: number): string => new Date(ms).toISOString();

function setup(opts: { lookbackSec?: number; previousRunLastAliveMs?: number | null } = {}): { healer: Healer; engine: FakeEngine; clock: ManualClock; metrics: MetricsRegistry } {
  const base = defaultSettings();
  const settings: GlobalSettings = { ...base, namespace: 'ns-', healExitedLookbackSec: opts.lookbackSec ?? 300 };
  const engine = new FakeEngine();
  const clock = new ManualClock(T0);
  const journal = openJournal({ dbPath: ':memory:' });
  const metrics = new MetricsRegistry();
  const healer = new Healer({
    engine, settings, log: silentLogger,
    notifier: { send: () => undefined, close: async () => undefined },
    journal: { append: (e, max) => journal.append(e, max), saveBudget: (n, s) => journal.saveBudget(n, s, clock.now()), deleteBudget: (n) => journal.deleteBudget(n) },
    metrics: createHealMetrics(metrics), serializer: new KeyedSerializer(), limiter: new Limiter(settings.parallelism),
    decodeLabels, self: { ids: [], shortId: null }, host: 'h', timeZone: 'UTC', clock,
    previousRunLastAliveMs: opts.previousRunLastAliveMs ?? null,
  });
  return { healer, engine, clock, metrics };
}

function crashed(engine: FakeEngine, name: string, finishedMs: number, ago = '1 second'): FakeContainer {
  return engine.add({ name, status: 'exited', exitCode: 1, finishedAt: iso(finishedMs), exitedAgo: ago });
}

async function fullCheck(s: { healer: Healer; clock: ManualClock }): Promise<void> {
  assert.equal(await s.healer.recheck('full'), true);
  await s.clock.advance(0);
}

describe('crash look-back', () => {
  it('the listing\'s age: a lower bound, null when it does not say', () => {
    assert.equal(exitAgeAtLeastSec('Exited (1) Less than a second ago'), 0);
    assert.equal(exitAgeAtLeastSec('Exited (1) 45 seconds ago'), 45);
    assert.equal(exitAgeAtLeastSec('Exited (1) About a minute ago'), 60);
    assert.equal(exitAgeAtLeastSec('Exited (137) 5 minutes ago'), 300);
    assert.equal(exitAgeAtLeastSec('Exited (1) About an hour ago'), 3600);
    assert.equal(exitAgeAtLeastSec('Exited (1) 30 hours ago'), 108_000);
    assert.equal(exitAgeAtLeastSec('Exited (1) 3 days ago'), 259_200);
    assert.equal(exitAgeAtLeastSec('Exited (1) 2 weeks ago'), 1_209_600);
    assert.equal(exitAgeAtLeastSec('Exited (1) 4 months ago'), 10_368_000);
    assert.equal(exitAgeAtLeastSec('Exited (1) 2 years ago'), 63_072_000);
    for (const odd of ['Up 3 minutes', 'Created', 'Exited (1) a while ago', 'Exited (1) 5 minutes', '', 'Exited (1) -5 minutes ago']) {
      assert.equal(exitAgeAtLeastSec(odd), null, odd);
    }
  });

  it('classify: a crash before the window is an old crash, unless Repairman saw the container alive', async () => {
    const engine = new FakeEngine();
    const c = crashed(engine, 'ns-a', T0 - 301_000);
    const info = await engine.inspect(c.id);
    const policy = defaultSettings().defaults;
    const facts = { namespace: '', isSelf: false, deliberateStop: false };
    assert.equal(classify(info, policy, facts).kind, 'crashed', 'no window: every crash counts');
    const old = classify(info, policy, { ...facts, crashWindow: { sinceMs: T0 - 300_000, sawItAlive: false } });
    assert.equal(old.kind, 'skip');
    assert.equal(old.kind === 'skip' && old.reason, 'old_crash');
    assert.match(old.kind === 'skip' ? old.detail : '', /^crashed with code 1 2024-01-01T11:54:59\.000Z, before Repairman began watching; only crashes since 2024-01-01T11:55:00\.000Z count \(heal_exited_lookback\)$/);
    assert.equal(classify(info, policy, { ...facts, crashWindow: { sinceMs: T0 - 300_000, sawItAlive: true } }).kind, 'crashed');
    assert.equal(classify(info, policy, { ...facts, crashWindow: { sinceMs: T0 - 302_000, sawItAlive: false } }).kind, 'crashed');
    const unreadable = { ...info, State: { ...info.State, FinishedAt: 'garbage' } };
    const r = classify(unreadable, policy, { ...facts, crashWindow: { sinceMs: 0, sawItAlive: false } });
    assert.equal(r.kind === 'skip' && r.reason, 'old_crash', 'an unreadable time never starts a container');
  });

  it('at start: a crash within the look-back is healed, an older one left alone (and inspected at most once)', async () => {
    const s = setup();
    crashed(s.engine, 'ns-recent', T0 - 200_000, '3 minutes');
    crashed(s.engine, 'ns-old-listed', T0 - 7_200_000, '2 hours');
    crashed(s.engine, 'ns-old-unclear', T0 - 7_200_000, '1 second'); // the listing cannot tell
    await fullCheck(s);
    assert.deepEqual(s.engine.calls.filter((c) => c.startsWith('start')), ['start ns-recent']);
    assert.equal(s.engine.calls.filter((c) => c.startsWith('inspect')).length, 2, 'the one the listing dates is not inspected');
    assert.equal(s.metrics.get('repairman_skips_total', { reason: 'old_crash' }), 1);
    s.engine.calls.length = 0;
    await s.clock.advance(30_000);
    await fullCheck(s);
    assert.deepEqual(s.engine.calls.filter((c) => !c.startsWith('list')), [], 'old crashes cost nothing on later re-checks');
    await s.healer.stop();
  });

  it('a crash while watched is healed however long after the start, with or without its die event', async () => {
    const s = setup();
    const quiet = s.engine.add({ name: 'ns-quiet' });
    const loud = s.engine.add({ name: 'ns-loud' });
    await fullCheck(s);
    await s.clock.advance(3_600_000);
    // No die event for `quiet` (a gap in the stream): the listing of an hour later says it crashed.
    Object.assign(quiet, { status: 'exited', exitCode: 2, finishedAt: iso(s.clock.now() - 60_000), exitedAgo: 'About a minute' });
    Object.assign(loud, { status: 'exited', exitCode: 3, finishedAt: iso(s.clock.now()), exitedAgo: 'Less than a second' });
    s.healer.handleEvent({ Type: 'container', Action: 'die', Actor: { ID: loud.id, Attributes: { name: loud.name, exitCode: '3' } }, time: 0, timeNano: 0 });
    await s.clock.advance(0);
    await fullCheck(s);
    assert.deepEqual(s.engine.calls.filter((c) => c.startsWith('start')).sort(), ['start ns-loud', 'start ns-quiet']);
    await s.healer.stop();
  });

  it('with a file database: measured from when the previous run was last alive, so its downtime loses no crash', async () => {
    // The previous run was last alive two hours ago; Repairman was down since.
    const s = setup({ previousRunLastAliveMs: T0 - 7_200_000 });
    crashed(s.engine, 'ns-during-downtime', T0 - 3_600_000, 'About an hour');
    crashed(s.engine, 'ns-just-before', T0 - 7_200_000 - 200_000, '2 hours');
    crashed(s.engine, 'ns-long-before', T0 - 86_400_000, '24 hours');
    await fullCheck(s);
    assert.deepEqual(s.engine.calls.filter((c) => c.startsWith('start')).sort(), ['start ns-during-downtime', 'start ns-just-before']);
    await s.healer.stop();
  });

  it('a last-alive time in the future (a clock set back) counts from now', async () => {
    const s = setup({ previousRunLastAliveMs: T0 + 86_400_000 });
    crashed(s.engine, 'ns-old', T0 - 3_600_000, 'About an hour');
    crashed(s.engine, 'ns-recent', T0 - 60_000, 'About a minute');
    await fullCheck(s);
    assert.deepEqual(s.engine.calls.filter((c) => c.startsWith('start')), ['start ns-recent']);
    await s.healer.stop();
  });

  it('heal_exited_lookback 0: only crashes from the start on', async () => {
    const s = setup({ lookbackSec: 0 });
    crashed(s.engine, 'ns-a-second-ago', T0 - 1_000);
    await fullCheck(s);
    assert.deepEqual(s.engine.calls.filter((c) => c.startsWith('start')), []);
    await s.healer.stop();
  });
});

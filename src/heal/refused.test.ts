// The healer behind a socket proxy that refuses its calls (docs/behaviour.md §9): a refused restart is
// not charged to the budget, journaled once, and tried again at the next re-check only.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeLabels } from '../config/labels.js';
import { defaultSettings } from '../config/settings-table.js';
import type { GlobalSettings } from '../config/types.js';
import { refusedCallError } from '../docker/refusals.js';
import type { DockerEvent } from '../docker/types.js';
import { openJournal } from '../journal/journal.js';
import { silentLogger } from '../log.js';
import { MetricsRegistry } from '../metrics/registry.js';
import type { NotifyEvent } from '../notify/types.js';
import { KeyedSerializer, Limiter } from '../util/keyed-queue.js';
import { Healer } from './healer.js';
import { createHealMetrics } from './metrics.js';
import { FakeEngine, type FakeContainer } from '../../test/helpers/fake-engine.js';
import { ManualClock } from '../../test/helpers/manual-clock.js';

function ev(action: string, c: FakeContainer): DockerEvent {
  return { Type: 'container', Action: action, Actor: { ID: c.id, Attributes: { name: c.name } }, time: 0, timeNano: 0 };
}

function setup(): { healer: Healer; engine: FakeEngine; clock: ManualClock; journal: ReturnType<typeof openJournal>; sent: NotifyEvent[]; metrics: MetricsRegistry } {
  const base = defaultSettings();
  const settings: GlobalSettings = {
    ...base,
    namespace: 'ns-',
    defaults: { ...base.defaults, secondsBetweenRestarts: 0, frameSizeSec: 100, maxRestartsInFrame: 2, maxChecksToGiveUp: 2, notifyUrls: ['https://hooks.example/x'], notifyLevel: 'DEBUG' },
  };
  const engine = new FakeEngine();
  const clock = new ManualClock();
  const journal = openJournal({ dbPath: ':memory:' });
  const sent: NotifyEvent[] = [];
  const metrics = new MetricsRegistry();
  const healer = new Healer({
    engine,
    settings,
    log: silentLogger,
    notifier: { send: (e) => void sent.push(e), close: async () => undefined },
    journal: {
      append: (e, max) => journal.append(e, max),
      saveBudget: (n, st) => journal.saveBudget(n, st, clock.now()),
      deleteBudget: (n) => journal.deleteBudget(n),
      batch: (fn) => journal.batch(fn),
    },
    metrics: createHealMetrics(metrics),
    serializer: new KeyedSerializer(),
    limiter: new Limiter(settings.parallelism),
    decodeLabels,
    self: { ids: [], shortId: null },
    budgets: journal.loadBudgets(),
    host: 'testhost',
    timeZone: 'UTC',
    clock,
  });
  return { healer, engine, clock, journal, sent, metrics };
}

describe('healer: a call refused by a socket proxy', () => {
  it('is not charged, journaled once, retried only by re-checks, and healed once allowed', async () => {
    const s = setup();
    const c = s.engine.add({ name: 'ns-web', health: 'unhealthy' });
    s.engine.failRestart = refusedCallError(`POST /containers/${c.id}/restart`, 'tcp://proxy:2375', '403 Forbidden');
    s.healer.handleEvent(ev('health_status: unhealthy', c));
    await s.clock.advance(0);
    assert.equal(s.engine.count('restart ns-web'), 1);
    // No retry timer of its own: a minute passes without a re-check, nothing is tried.
    await s.clock.advance(60_000);
    assert.equal(s.engine.count('restart ns-web'), 1, 'retried without a re-check');
    for (let i = 0; i < 4; i++) {
      await s.healer.recheck('quick');
      await s.clock.advance(0);
    }
    assert.equal(s.engine.count('restart ns-web'), 5);
    const budget = s.healer.budgetViewOf('ns-web', s.clock.now());
    assert.deepEqual({ state: budget.state, inFrame: budget.restartsInFrame, streak: budget.streak }, { state: 'ok', inFrame: 0, streak: 0 }, 'charged to the budget (max_checks_to_give_up is 2)');
    assert.equal(s.journal.loadBudget('ns-web')?.inFlight, undefined, 'the in-flight marker was left behind');
    const kinds = s.journal.list({ limit: 100 }).map((e) => e.kind);
    assert.deepEqual(kinds, ['refused'], 'journaled once, not per attempt');
    assert.match(s.journal.list({ limit: 1 })[0]!.message, /^Restart \(unhealthy\) refused by the engine: .*allow it with tecnativa.*; not counted against the restart budget/);
    assert.deepEqual(s.sent, [], 'notified per container (the app notifies once per call kind)');
    assert.equal(s.metrics.get('repairman_restart_failures_total'), 0);

    s.engine.failRestart = null;
    await s.healer.recheck('quick');
    await s.clock.advance(0);
    assert.equal(s.engine.count('restart ns-web'), 6);
    assert.deepEqual(s.journal.list({ limit: 100 }).map((e) => e.kind).reverse(), ['refused', 'restart']);
    assert.equal(s.healer.budgetViewOf('ns-web', s.clock.now()).restartsInFrame, 1, 'the restart that went through counts');
    await s.healer.stop();
  });
});

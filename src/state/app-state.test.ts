import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultSettings } from '../config/settings-table.js';
import { RepairmanError } from '../errors.js';
import type { TrackedContainer } from '../heal/healer.js';
import type { Journal } from '../journal/types.js';
import { MetricsRegistry } from '../metrics/registry.js';
import type { BudgetView } from './types.js';
import { AppState, maxCheckAgeMs } from './app-state.js';

const budget: BudgetView = { state: 'ok', untilMs: null, restartsInFrame: 0, reachedMaxInPreviousFrame: false, streak: 0 };

function state(opts: { engineUp: boolean; last: number | null; containers?: TrackedContainer[]; journalFails?: boolean; checkError?: unknown }): AppState {
  const journal = {
    list: () => {
      if (opts.journalFails) throw new Error('disk gone');
      return [{ num: 1, container: 'b', kind: 'restart', atMs: 1, message: 'Restarted (unhealthy)' }];
    },
    restartsSince: () => {
      if (opts.journalFails) throw new Error('disk gone');
      return [];
    },
  } as unknown as Journal;
  return new AppState({
    healer: { containers: () => opts.containers ?? [], budgetViewOf: () => budget, lastFullCheckMs: opts.last, dependencyViewOf: () => ({ providers: [], dependents: [] }), lastCheckError: opts.checkError ?? null },
    watcher: { engineUp: opts.engineUp, engineError: opts.engineUp ? null : 'connect ENOENT' },
    journal,
    metrics: new MetricsRegistry(),
    intervalSec: 30,
    version: '1.2.3',
    startedAtMs: 5,
  });
}

function tracked(name: string, excluded: TrackedContainer['excluded'] = null): TrackedContainer {
  return { id: `${name}-id`, name, state: 'running', health: 'healthy', unhealthySinceMs: null, labels: {}, policy: defaultSettings().defaults, problems: [], excluded, deliberate: null, sawAlive: true };
}

describe('AppState', () => {
  it('health: 503 reasons until the engine answers and a re-check is recent', () => {
    const now = 1_000_000;
    assert.match(state({ engineUp: false, last: now }).health(now).reason, /engine not reachable: connect ENOENT/);
    assert.equal(state({ engineUp: true, last: null }).health(now).ok, false);
    assert.equal(state({ engineUp: true, last: now - 1000 }).health(now).ok, true);
    const stale = state({ engineUp: true, last: now - maxCheckAgeMs(30) - 1 }).health(now);
    assert.equal(stale.ok, false);
    assert.match(stale.reason, /ago/);
  });

  it('health: a re-check that keeps failing with the engine up says why (a listing a socket proxy refuses)', () => {
    const now = 1_000_000;
    const refused = new RepairmanError('RM_ENGINE_REFUSED', 'GET /containers/json: refused by the engine at tcp://proxy:2375 (403); a socket proxy in front of it does not allow GET /containers/json: allow it with CONTAINERS=1');
    const never = state({ engineUp: true, last: null, checkError: refused }).health(now);
    assert.equal(never.ok, false);
    assert.equal(never.reason, `no full re-check done yet; the last one failed: ${refused.message}`);
    const stale = state({ engineUp: true, last: now - maxCheckAgeMs(30) - 1, checkError: refused }).health(now);
    assert.match(stale.reason, /ago \(interval 30 s\); the last one failed: GET \/containers\/json: refused .*allow it with CONTAINERS=1$/);
    assert.equal(state({ engineUp: true, last: null }).health(now).reason, 'no full re-check done yet');
  });

  it('health: the degradations of every source, still ok; a failing source adds nothing', () => {
    const now = 1_000_000;
    const s = state({ engineUp: true, last: now - 1000 });
    assert.deepEqual(s.health(now).degraded, []);
    let journalDown = true;
    s.addDegradationSource(() => (journalDown ? ['the journal cannot be written'] : []));
    s.addDegradationSource(() => {
      throw new Error('broken source');
    });
    s.addDegradationSource(() => ['a proxy refused a call']);
    const h = s.health(now);
    assert.equal(h.ok, true);
    assert.deepEqual(h.degraded, ['the journal cannot be written', 'a proxy refused a call']);
    journalDown = false;
    assert.deepEqual(s.health(now).degraded, ['a proxy refused a call']);
    assert.deepEqual(state({ engineUp: false, last: now }).health(now).degraded, []);
  });

  it('shows containers sorted, with exclusions and their last event', () => {
    const s = state({ engineUp: true, last: 1, containers: [tracked('b'), tracked('a', { reason: 'swarm_task', detail: 'a Swarm task' })] });
    const views = s.containers();
    assert.deepEqual(views.map((v) => [v.name, v.watched, v.excludedReason]), [['a', false, 'a Swarm task'], ['b', true, null]]);
    assert.equal(views[1]?.lastEvent?.message, 'Restarted (unhealthy)');
    assert.equal(s.version, '1.2.3');
  });

  it('never throws on a failing journal', () => {
    const s = state({ engineUp: true, last: 1, containers: [tracked('a')], journalFails: true });
    assert.equal(s.containers()[0]?.lastEvent, null);
    assert.deepEqual(s.events({ limit: 5 }), []);
    assert.deepEqual(s.restartsSince(0), []);
    assert.deepEqual(s.duplicates(), []);
    s.setDuplicatesSource(() => {
      throw new Error('x');
    });
    assert.deepEqual(s.duplicates(), []);
  });
});

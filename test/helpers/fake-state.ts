// A StateView with fixed, editable content for HTTP, page and `repairman status` tests: containers in
// every budget state, a name with markup in it, a secret-bearing label, duplicates, a journal.
import type { JournalEntry } from '../../src/journal/types.js';
import { MetricsRegistry } from '../../src/metrics/registry.js';
import type { BudgetView, ContainerView, DuplicateView, HealthView, StateView } from '../../src/state/types.js';

export const ODD_NAME = 'odd<img src=x onerror="window.__pwned=1">&\'name';
export const SECRET_URL = 'https://hooks.slack.com/services/T000/B000/SECRETTOKEN123';

export interface FakeStateOptions {
  nowMs: number;
}

function budget(over: Partial<BudgetView> = {}): BudgetView {
  return { state: 'ok', untilMs: null, restartsInFrame: 0, reachedMaxInPreviousFrame: false, streak: 0, ...over };
}

export class FakeState implements StateView {
  readonly metrics = new MetricsRegistry();
  readonly version = '9.9.9-test';
  readonly startedAtMs: number;
  nowMs: number;
  containerList: ContainerView[];
  journal: JournalEntry[]; // any order; served newest first
  duplicateList: DuplicateView[];
  restarts: { container: string; atMs: number; kind: string }[];
  healthState: HealthView;
  /** Throw from containers() (to test the 500 path). */
  broken = false;
  /** Every events() query seen, for assertions. */
  readonly eventQueries: { limit: number; beforeNum?: number; container?: string }[] = [];

  constructor(opts: FakeStateOptions) {
    const now = opts.nowMs;
    this.nowMs = now;
    this.startedAtMs = now - 3 * 3600_000 - 125_000;
    this.metrics.counter('repairman_restarts_total', 'Restarts done.').inc({ reason: 'unhealthy' }, 3);
    this.metrics.gauge('repairman_engine_up', 'Engine answers.').set(1);
    const ev = (num: number, container: string, kind: JournalEntry['kind'], agoMs: number, message: string): JournalEntry => ({
      num, container, kind, atMs: now - agoMs, message,
    });
    this.journal = [];
    let n = 0;
    // 30 entries so pagination and limits have something to cut.
    for (let i = 29; i >= 0; i -= 1) {
      n += 1;
      this.journal.push(ev(n, i % 2 ? 'web' : 'db', 'restart', i * 60_000 + 1000, `Container was restarted (${i})`));
    }
    n += 1;
    this.journal.push(ev(n, ODD_NAME, 'restart', 500, `restarted ${ODD_NAME}`));
    n += 1;
    this.journal.push(ev(n, 'notifier', 'restart_failed', 100, `delivery to ${SECRET_URL} failed`));
    const last = (name: string): JournalEntry | null =>
      [...this.journal].filter((e) => e.container === name).sort((a, b) => b.num - a.num)[0] ?? null;
    const c = (name: string, over: Partial<ContainerView>, b: Partial<BudgetView> = {}): ContainerView => ({
      id: `${name.length}`.padEnd(64, 'a'),
      name,
      state: 'running',
      health: 'healthy',
      watched: true,
      excludedReason: null,
      budget: budget(b),
      lastEvent: last(name),
      labelProblems: [],
      dependencies: { providers: [], dependents: [] },
      ...over,
    });
    this.containerList = [
      c('web', { health: 'unhealthy' }, { state: 'waiting', untilMs: now + 12_000, restartsInFrame: 1, streak: 1 }),
      c('db', { health: 'unhealthy' }, { state: 'longer_wait', untilMs: now + 540_000, restartsInFrame: 2, streak: 2 }),
      c('queue', { state: 'exited', health: null }, { state: 'given_up', restartsInFrame: 0, streak: 50 }),
      c('cache', {}, { state: 'ok', restartsInFrame: 1, reachedMaxInPreviousFrame: true, streak: 0 }),
      c('api', {}, { state: 'ok' }),
      c(ODD_NAME, { health: null }, { state: 'ok', restartsInFrame: 1 }),
      c('notifier', {
        labelProblems: [{
          container: 'notifier', label: 'org.riotkit.repairman.notify_url', value: SECRET_URL, expected: 'a URL list',
          fallback: 'the global value', code: 'RM_LABEL_INVALID',
        }],
      }),
      c('swarm-task', { watched: false, excludedReason: 'managed by Swarm' }),
    ];
    this.duplicateList = [
      { name: 'a1b2c3d4e5f6_web', id: 'd'.repeat(64), duplicateOf: 'web', reason: 'compose re-creation leftover', heldBack: null },
      { name: 'f6e5d4c3b2a1_db', id: 'e'.repeat(64), duplicateOf: 'db', reason: 'compose re-creation leftover', heldBack: 'younger than 60 seconds' },
    ];
    this.restarts = [
      { container: 'web', atMs: now - 20 * 3600_000, kind: 'restart' },
      { container: 'web', atMs: now - 2 * 3600_000, kind: 'restart' },
      { container: 'db', atMs: now - 6 * 3600_000, kind: 'restart' },
      { container: 'db', atMs: now - 5.9 * 3600_000, kind: 'restart_failed' },
      { container: ODD_NAME, atMs: now - 500, kind: 'restart' },
      { container: 'gone-container', atMs: now - 12 * 3600_000, kind: 'restart' },
      { container: 'web', atMs: now - 30 * 3600_000, kind: 'restart' }, // outside 24 h
    ];
    this.healthState = { ok: true, reason: 'ok', engineUp: true, lastFullCheckMs: now - 4000, degraded: [] };
  }

  containers(): ContainerView[] {
    if (this.broken) throw new Error('state exploded');
    return this.containerList.map((c) => structuredClone(c));
  }

  events(opts: { limit: number; beforeNum?: number; container?: string }): JournalEntry[] {
    this.eventQueries.push({ ...opts });
    return [...this.journal]
      .sort((a, b) => b.num - a.num)
      .filter((e) => (opts.beforeNum === undefined || e.num < opts.beforeNum) && (opts.container === undefined || e.container === opts.container))
      .slice(0, opts.limit)
      .map((e) => structuredClone(e));
  }

  restartsSince(sinceMs: number): { container: string; atMs: number; kind: string }[] {
    return this.restarts.filter((r) => r.atMs >= sinceMs).map((r) => ({ ...r }));
  }

  duplicates(): DuplicateView[] {
    return this.duplicateList.map((d) => ({ ...d }));
  }

  health(_nowMs: number): HealthView {
    return { ...this.healthState };
  }

  /** Make every container fine: global_status turns true. */
  allGood(): void {
    for (const c of this.containerList) c.budget = budget();
  }

  /** Something works only in part (a journal that cannot be written...): /healthz turns 200 "degraded". */
  degrade(...sentences: string[]): void {
    this.healthState = { ...this.healthState, degraded: [...this.healthState.degraded, ...sentences] };
  }

  engineDown(reason = 'engine not answering: connect ENOENT /tmp/engine/docker.sock'): void {
    this.healthState = { ok: false, reason, engineUp: false, lastFullCheckMs: this.nowMs - 120_000, degraded: [] };
  }
}

// The StateView of a running Repairman (src/state/types.ts): what the HTTP server, the status page and
// `repairman status` read, assembled on demand from the healer, the watcher and the journal.
// Reading never throws: a journal failure shows as an empty list, not a broken page.
import { errorMessage } from '../errors.js';
import type { Journal, JournalEntry } from '../journal/types.js';
import type { Healer } from '../heal/healer.js';
import type { Watcher } from '../heal/watcher.js';
import type { MetricsRegistry } from '../metrics/registry.js';
import type { ExplainProvider } from './explain/live.js';
import type { ContainerView, DuplicateView, HealthView, PauseView, StateView } from './types.js';

export interface AppStateOptions {
  healer: Pick<Healer, 'containers' | 'budgetViewOf' | 'lastFullCheckMs' | 'dependencyViewOf'> & Partial<Pick<Healer, 'actionStateOf' | 'pauses' | 'stoppedByHand' | 'lastCheckError'>>;
  watcher: Pick<Watcher, 'engineUp' | 'engineError'>;
  journal: Pick<Journal, 'list' | 'restartsSince'>;
  metrics: MetricsRegistry;
  intervalSec: number;
  version: string;
  startedAtMs: number;
  now?: () => number;
  /** Serves `explain` (src/state/explain/live.ts); without it the route answers 404. */
  explain?: ExplainProvider;
}

/** A full re-check older than this is "not recent": /healthz turns 503 (two missed intervals). */
export function maxCheckAgeMs(intervalSec: number): number {
  return (2 * Math.max(1, intervalSec) + 10) * 1000;
}

export class AppState implements StateView {
  readonly metrics: MetricsRegistry;
  readonly startedAtMs: number;
  readonly version: string;
  private readonly o: AppStateOptions;
  private duplicatesSource: (() => DuplicateView[]) | null = null;
  private readonly degradationSources: (() => readonly string[])[] = [];

  constructor(opts: AppStateOptions) {
    this.o = opts;
    this.metrics = opts.metrics;
    this.startedAtMs = opts.startedAtMs;
    this.version = opts.version;
    if (opts.explain) this.explain = opts.explain;
  }

  readonly explain?: ExplainProvider;

  /** Hook for the duplicate cleaner (src/dedupe): where duplicates() reads from. */
  setDuplicatesSource(fn: () => DuplicateView[]): void {
    this.duplicatesSource = fn;
  }

  /** Adds a part that can work only in part (the journal...): its sentences, none while all is well. */
  addDegradationSource(fn: () => readonly string[]): void {
    this.degradationSources.push(fn);
  }

  private degradations(): string[] {
    return this.degradationSources.flatMap((fn) => {
      try {
        return [...fn()];
      } catch {
        return [];
      }
    });
  }

  containers(): ContainerView[] {
    const now = (this.o.now ?? Date.now)();
    return this.o.healer
      .containers()
      .map((t) => ({
        id: t.id,
        name: t.name,
        state: t.state,
        health: t.health,
        watched: t.excluded === null,
        excludedReason: t.excluded ? t.excluded.detail : null,
        budget: this.o.healer.budgetViewOf(t.name, now),
        lastEvent: this.lastEventOf(t.name),
        labelProblems: t.problems,
        dependencies: this.o.healer.dependencyViewOf(t.name),
        stoppedByHand: this.o.healer.stoppedByHand?.(t.name) ?? false,
        ...(this.o.healer.actionStateOf ? { action: this.o.healer.actionStateOf(t.name, now) } : {}),
      }))
      // Code-unit order, not localeCompare: that maps ICU's collation data into the RSS of a
      // process that runs for months, for names that are ASCII anyway.
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  pauses(): PauseView[] {
    return this.o.healer.pauses?.((this.o.now ?? Date.now)()) ?? [];
  }

  private lastEventOf(name: string): JournalEntry | null {
    try {
      return this.o.journal.list({ limit: 1, container: name })[0] ?? null;
    } catch {
      return null;
    }
  }

  events(opts: { limit: number; beforeNum?: number; container?: string }): JournalEntry[] {
    try {
      return this.o.journal.list(opts);
    } catch {
      return [];
    }
  }

  restartsSince(sinceMs: number): { container: string; atMs: number; kind: string }[] {
    try {
      return this.o.journal.restartsSince(sinceMs).map((r) => ({ container: r.container, atMs: r.atMs, kind: r.kind }));
    } catch {
      return [];
    }
  }

  duplicates(): DuplicateView[] {
    try {
      return this.duplicatesSource?.() ?? [];
    } catch {
      return [];
    }
  }

  health(nowMs: number): HealthView {
    const engineUp = this.o.watcher.engineUp;
    const last = this.o.healer.lastFullCheckMs;
    const base = { engineUp, lastFullCheckMs: last, degraded: this.degradations() };
    if (!engineUp) return { ok: false, reason: `engine not reachable: ${this.o.watcher.engineError ?? 'unknown'}`, ...base };
    // A re-check that keeps failing with the engine up (a listing a socket proxy refuses): its error says what to fix.
    const failure = this.o.healer.lastCheckError;
    const lastFailed = failure ? `; the last one failed: ${errorMessage(failure)}` : '';
    if (last === null) return { ok: false, reason: `no full re-check done yet${lastFailed}`, ...base };
    const age = nowMs - last;
    if (age > maxCheckAgeMs(this.o.intervalSec)) {
      return { ok: false, reason: `the last full re-check was ${Math.round(age / 1000)} s ago (interval ${this.o.intervalSec} s)${lastFailed}`, ...base };
    }
    return { ok: true, reason: 'ok', ...base };
  }
}

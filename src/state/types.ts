// The read-only view of Repairman's state that the HTTP server, the status page and the `status`
// command show. The running app (src/app.ts) implements it from the healer, the journal and dedupe.
import type { BudgetView } from '../budget/budget.js';
import type { LabelProblem } from '../config/types.js';
import type { FoundDuplicate } from '../dedupe/cleaner.js';
import type { DependencyView } from '../heal/dependents/graph.js';
import type { JournalEntry } from '../journal/types.js';
import type { MetricsRegistry } from '../metrics/registry.js';
import type { Explanation } from './explain/types.js';

// The budget's view is the budget's own type (src/budget/budget.ts): re-exported for the view's readers.
export type { BudgetStateName, BudgetView } from '../budget/budget.js';
export type { DependencyView } from '../heal/dependents/graph.js';

export interface ContainerView {
  id: string;
  name: string; // without leading slash
  state: string; // running, exited, paused...
  health: string | null; // healthy, unhealthy, starting, or null without a healthcheck
  watched: boolean; // false when excluded (namespace, enable_autoheal=false, swarm, itself...)
  excludedReason: string | null;
  budget: BudgetView;
  lastEvent: JournalEntry | null;
  labelProblems: LabelProblem[];
  /** Who it depends on and who depends on it, with how (docs/behaviour.md §10). */
  dependencies: DependencyView;
  /**
   * Exited because a person stopped it (a stop/kill seen, also by a previous run with a journal file, or a
   * deliberate exit code): left alone, not trouble.
   */
  stoppedByHand?: boolean;
  /** What Repairman does about it now (docs/behaviour.md §12): its action, unhealthy_for, budget mode and pause. */
  action?: ActionView;
}

/** A maintenance pause (`repairman pause`): container '*' is every container; untilMs null: until resumed. */
export interface PauseView {
  container: string;
  untilMs: number | null;
  atMs: number;
}

export interface ActionView {
  onUnhealthy: 'restart' | 'stop' | 'kill' | 'notify';
  unhealthyForSec: number;
  budgetMode: 'frames' | 'backoff';
  unhealthySinceMs: number | null;
  /** With unhealthy_for: no action before this moment. */
  actAfterMs: number | null;
  paused: { untilMs: number | null; all: boolean } | null;
}

/** Found by dedupe/: the view is the cleaner's own report. */
export type DuplicateView = FoundDuplicate;

export interface HealthView {
  ok: boolean;
  reason: string; // "ok" or why not
  engineUp: boolean;
  lastFullCheckMs: number | null;
  /**
   * What works only in part (the journal, a socket proxy), one human sentence each. Healing goes on,
   * so /healthz stays 200 ("degraded"): restarting Repairman would not fix any of them.
   */
  degraded: string[];
}

export interface StateView {
  containers(): ContainerView[];
  /** Journal newest first; `beforeNum` pages backwards. */
  events(opts: { limit: number; beforeNum?: number; container?: string }): JournalEntry[];
  /** Restarts since a moment, for the timeline. */
  restartsSince(sinceMs: number): { container: string; atMs: number; kind: string }[];
  duplicates(): DuplicateView[];
  /** The maintenance pauses in force (`repairman pause`), the pause of all first. */
  pauses?(): PauseView[];
  health(nowMs: number): HealthView;
  /** `repairman explain NAME` (docs/behaviour.md §11), with times in `timeZone`; absent where nobody can explain. */
  explain?(name: string, opts: { nowMs: number; timeZone: string; signal?: AbortSignal }): Promise<Explanation>;
  readonly metrics: MetricsRegistry;
  readonly startedAtMs: number;
  readonly version: string;
}

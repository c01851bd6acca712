// Restarts whose end Repairman did not handle as usual: the ones it was stopped during, and the ones
// a previous instance left in flight (a marker in the budget, BudgetState.inFlight). Each gets the
// journal entries a restart gets, written in one transaction with the budget that drops the marker,
// so every restart asked of the engine is journaled exactly once.
import type { BudgetState, InFlightRestart } from '../budget/budget.js';
import type { GlobalSettings } from '../config/types.js';
import type { BudgetBook } from './budget-book.js';
import type { HealContext } from './context.js';
import type { OutcomeReporter } from './reporter.js';
import type { TrackedContainer } from './tracking.js';

export class InterruptedRestarts {
  /**
   * Budgets loaded with a restart marker: the previous instance died while the engine restarted
   * them. Journaled when the container is first tracked (its labels decide trimming and
   * notifications), or after the first full listing when it is gone.
   */
  private readonly markersFromLastRun = new Set<string>();

  constructor(
    private readonly ctx: HealContext,
    private readonly budgets: BudgetBook,
    private readonly reporter: OutcomeReporter,
  ) {
    for (const name of budgets.names()) if (budgets.stored(name)?.inFlight) this.markersFromLastRun.add(name);
  }

  /** A container is tracked (with its labels): journal a marker the previous instance left for it. */
  onTracked(t: TrackedContainer): void {
    if (this.markersFromLastRun.size > 0) this.journalLeftover(t.name, t);
  }

  /** After a full listing: markers of containers that are gone by now. */
  journalGoneLeftovers(isTracked: (name: string) => boolean): void {
    for (const name of [...this.markersFromLastRun]) if (!isTracked(name)) this.journalLeftover(name, null);
  }

  private journalLeftover(name: string, t: TrackedContainer | null): void {
    if (!this.markersFromLastRun.delete(name)) return;
    const marker = this.budgets.stored(name)?.inFlight;
    if (!marker) return;
    this.journal(t ?? untracked(name, this.ctx.settings), marker, 'killed', true);
  }

  /**
   * The journal entries of a restart from its marker. `how`:
   * - 'done': the call returned while Repairman was stopping;
   * - 'stopped': abandoned at SIGTERM (the aborted call; the engine finishes the restart);
   * - 'killed': a marker left by an instance that ended during the call without recording it (a
   *   SIGKILL, an OOM kill, a power cut; or a SIGTERM whose journaling failed), found at this start.
   *   Notified like a restart would have been when `notify` (never while stopping).
   * When the transaction fails the marker stays, and the next start journals it.
   */
  journal(t: TrackedContainer, marker: InFlightRestart, how: 'done' | 'stopped' | 'killed', notify: boolean): void {
    const name = t.name;
    const record = this.reporter.recordOf(t, { kind: 'interrupted_restart', marker: marker, how, notify });
    const before = this.budgets.stored(name);
    const after = before?.inFlight?.atMs === marker.atMs ? withoutInFlight(before) : before;
    const max = t.id ? t.policy.maxHistoricEntries : marker.maxHistoricEntries;
    // Written while stopping too (the journal closes after the healer), so not reporter.append().
    const written = this.reporter.atomically(name, () => {
      for (const e of record.entries) this.ctx.journal.append(e, max);
      if (after && after !== before) this.ctx.journal.saveBudget(name, after);
    });
    if (!written) return;
    if (after && after !== before) this.budgets.setWritten(name, after);
    if (how === 'killed') this.ctx.log.info('restart journaled from before this start', { container: name, reason: marker.reason, requestedAtMs: marker.atMs, gaveUp: marker.gaveUp });
    else if (how === 'stopped') this.ctx.log.info(`${marker.verb} left to the engine`, { container: name, reason: marker.reason });
    for (const n of record.notifications) this.reporter.notify(n, null);
  }
}

/** A stand-in for a container no longer there (its global policy; id '' marks it). */
function untracked(name: string, settings: GlobalSettings): TrackedContainer {
  return { id: '', name, state: 'unknown', health: null, unhealthySinceMs: null, labels: {}, policy: settings.defaults, problems: [], excluded: null, deliberate: null, sawAlive: false };
}

/** The state without its in-flight marker (the same object when it has none). */
export function withoutInFlight(state: BudgetState): BudgetState {
  if (state.inFlight === undefined) return state;
  const { inFlight: _done, ...rest } = state;
  return rest;
}

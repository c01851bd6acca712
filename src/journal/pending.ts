// What the journal could not write yet, kept in memory until the file works again
// (docs/behaviour.md §9). Bounded: per container no more than max_historic_entries (what the file would
// keep anyway), and MAX_PENDING_ENTRIES in all, the oldest going first.
import type { BudgetState } from '../budget/budget.js';
import type { DeliberateStopMark, JournalEntry, RestartMark } from './types.js';

/** Entries kept in memory at most while the file cannot be written: a few MB at worst. */
export const MAX_PENDING_ENTRIES = 10_000;

export interface PendingEntry {
  entry: JournalEntry;
  maxPerContainer: number;
}

/** A budget to store (the newest state), or null: delete the stored one. */
export type PendingBudget = { state: BudgetState; atMs: number } | null;

export class PendingWrites {
  private queue: PendingEntry[] = [];
  private readonly perContainer = new Map<string, number>();
  private readonly budgetsByName = new Map<string, PendingBudget>();
  private readonly stopsByName = new Map<string, DeliberateStopMark | null>();
  private droppedCount = 0;

  constructor(private readonly maxEntries = MAX_PENDING_ENTRIES) {}

  /** Entries waiting. */
  get size(): number {
    return this.queue.length;
  }

  /** Entries given up to stay within MAX_PENDING_ENTRIES since the last clear(). */
  get dropped(): number {
    return this.droppedCount;
  }

  get empty(): boolean {
    return this.queue.length === 0 && this.budgetsByName.size === 0 && this.stopsByName.size === 0;
  }

  /** Oldest first, as they are to be written. */
  get entries(): readonly PendingEntry[] {
    return this.queue;
  }

  get budgets(): ReadonlyMap<string, PendingBudget> {
    return this.budgetsByName;
  }

  /** Deliberate stops by container: the newest mark, or null: clear the stored one. */
  get stops(): ReadonlyMap<string, DeliberateStopMark | null> {
    return this.stopsByName;
  }

  addEntry(entry: JournalEntry, maxPerContainer: number): void {
    this.queue.push({ entry, maxPerContainer });
    const n = (this.perContainer.get(entry.container) ?? 0) + 1;
    this.perContainer.set(entry.container, n);
    // As the file trims (only a real number does): these would be gone once written anyway.
    const keep = Number.isFinite(maxPerContainer) ? Math.max(0, Math.floor(maxPerContainer)) : Infinity;
    if (n > keep) this.removeOldestOf(entry.container, n - keep);
    while (this.queue.length > this.maxEntries) {
      const gone = this.queue.shift();
      if (gone) this.count(gone.entry.container, -1);
      this.droppedCount++;
    }
  }

  setBudget(container: string, state: BudgetState, atMs: number): void {
    this.budgetsByName.set(container, { state, atMs });
  }

  deleteBudget(container: string): void {
    this.budgetsByName.set(container, null);
  }

  setStop(container: string, mark: DeliberateStopMark | null): void {
    this.stopsByName.set(container, mark);
  }

  /** Newest first, like the file's list(). */
  list(opts: { limit: number; beforeNum?: number; container?: string }): JournalEntry[] {
    const out: JournalEntry[] = [];
    for (let i = this.queue.length - 1; i >= 0 && out.length < opts.limit; i--) {
      const e = this.queue[i]!.entry;
      if (opts.container !== undefined && e.container !== opts.container) continue;
      if (opts.beforeNum !== undefined && !(e.num < opts.beforeNum)) continue;
      out.push(e);
    }
    return out;
  }

  restartsSince(sinceMs: number): RestartMark[] {
    return this.queue
      .map((p) => p.entry)
      .filter((e) => (e.kind === 'restart' || e.kind === 'restart_failed') && e.atMs >= sinceMs)
      .map((e) => ({ container: e.container, atMs: e.atMs, kind: e.kind }));
  }

  /** Everything was written: forget it (and the count of dropped entries). */
  clear(): void {
    this.queue = [];
    this.perContainer.clear();
    this.budgetsByName.clear();
    this.stopsByName.clear();
    this.droppedCount = 0;
  }

  private removeOldestOf(container: string, howMany: number): void {
    let left = howMany;
    this.queue = this.queue.filter((p) => {
      if (left > 0 && p.entry.container === container) {
        left--;
        return false;
      }
      return true;
    });
    this.count(container, -(howMany - left));
  }

  private count(container: string, by: number): void {
    const n = (this.perContainer.get(container) ?? 0) + by;
    if (n > 0) this.perContainer.set(container, n);
    else this.perContainer.delete(container);
  }
}

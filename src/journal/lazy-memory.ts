// The default ':memory:' journal, opened on its first write (src/journal/journal.ts opens it).
import { RepairmanError } from '../errors.js';
import type { BudgetState } from '../budget/budget.js';
import type { DeliberateStopMark, Journal, JournalEntry, JournalEntryInput, PauseMark, ResetMark, RestartMark } from './types.js';

/**
 * The default ':memory:' journal, opened on its first write. Until then it is empty, so every read
 * answers what an empty database would, without loading SQLite: an instance that has healed nothing
 * (most of the time, on most hosts) does not pay SQLite's RSS for a journal with no rows. Nothing
 * else differs: the first write opens the SQLite journal and everything goes to it from then on.
 */
export class LazyMemoryJournal implements Journal {
  readonly dbPath = ':memory:';
  readonly persistent = false;
  readonly readonly = false;
  private db: Journal | null = null;
  private closed = false;

  constructor(private readonly open: () => Journal) {}

  private closedError(doing: string): RepairmanError {
    return new RepairmanError('RM_JOURNAL', `the journal database ${this.dbPath} is closed (${doing}).`, { details: { dbPath: this.dbPath, doing } });
  }

  /** The real journal, opened now if needed (for writes). */
  private opened(doing: string): Journal {
    if (this.closed) throw this.closedError(doing);
    return (this.db ??= this.open());
  }

  /** The real journal if it exists; null means "still empty" (for reads). */
  private ifOpen(doing: string): Journal | null {
    if (this.closed) throw this.closedError(doing);
    return this.db;
  }

  append(entry: JournalEntryInput, maxPerContainer: number): JournalEntry {
    return this.opened('append').append(entry, maxPerContainer);
  }

  batch<T>(fn: () => T): T {
    return this.opened('batch').batch(fn);
  }

  list(opts: { limit: number; beforeNum?: number; container?: string }): JournalEntry[] {
    return this.ifOpen('list')?.list(opts) ?? [];
  }

  restartsSince(sinceMs: number): RestartMark[] {
    return this.ifOpen('restartsSince')?.restartsSince(sinceMs) ?? [];
  }

  count(): number {
    return this.ifOpen('count')?.count() ?? 0;
  }

  lastNum(): number {
    return this.ifOpen('lastNum')?.lastNum() ?? 0;
  }

  loadBudgets(): Map<string, BudgetState> {
    return this.ifOpen('loadBudgets')?.loadBudgets() ?? new Map();
  }

  loadBudget(container: string): BudgetState | null {
    return this.ifOpen('loadBudget')?.loadBudget(container) ?? null;
  }

  saveBudget(container: string, state: BudgetState, nowMs: number): boolean {
    return this.opened('saveBudget').saveBudget(container, state, nowMs);
  }

  deleteBudget(container: string): void {
    // Nothing to delete in a journal never written to.
    this.ifOpen('deleteBudget')?.deleteBudget(container);
  }

  resetContainer(container: string, nowMs: number, maxPerContainer?: number): JournalEntry | null {
    // An empty journal holds no budget: nothing to reset, nothing written (as the SQLite journal does).
    return this.ifOpen('reset')?.resetContainer(container, nowMs, maxPerContainer) ?? null;
  }

  lastAliveMs(): number | null {
    // Nothing before this process in memory.
    return null;
  }

  markAlive(): void {
    // Kept nowhere: a heartbeat must not open the in-memory database (it stays lazy).
  }

  lastResetSeq(): number {
    return this.ifOpen('lastResetSeq')?.lastResetSeq() ?? 0;
  }

  resetsAfter(afterSeq: number): ResetMark[] {
    return this.ifOpen('resetsAfter')?.resetsAfter(afterSeq) ?? [];
  }

  pauses(): PauseMark[] {
    return this.ifOpen('pauses')?.pauses() ?? [];
  }

  setPause(container: string, untilMs: number | null, nowMs: number): JournalEntry {
    return this.opened('pause').setPause(container, untilMs, nowMs);
  }

  resume(container: string, nowMs: number): string[] {
    return this.ifOpen('resume')?.resume(container, nowMs) ?? [];
  }

  deliberateStops(): DeliberateStopMark[] {
    return this.ifOpen('deliberateStops')?.deliberateStops() ?? [];
  }

  setDeliberateStop(mark: DeliberateStopMark): void {
    // Nothing outlives this process in memory, and the healer keeps the mark itself: stay lazy.
    this.ifOpen('setDeliberateStop')?.setDeliberateStop(mark);
  }

  clearDeliberateStop(container: string): void {
    this.ifOpen('clearDeliberateStop')?.clearDeliberateStop(container);
  }

  checkpoint(): void {
    // In memory: no write-ahead log, no file to copy.
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db?.close();
    this.db = null;
  }
}

// The journal of a running Repairman on a file that may fail (docs/behaviour.md §9): corrupt, not a
// database, a directory, a read-only file system, a full disk. None of these stops healing or makes
// Repairman exit (under `restart: unless-stopped` an exit is a restart loop that heals nothing): the
// journal turns degraded, says so once, keeps what it could not write in memory (bounded, see
// pending.ts) and tries the file again with a backoff until it works, then writes all of it.
import { statSync } from 'node:fs';
import type { BudgetState } from '../budget/budget.js';
import { RepairmanError, errorMessage, isRepairmanError } from '../errors.js';
import type { Logger } from '../log.js';
import { systemClock, type Clock } from '../util/clock.js';
import { adviceFor } from './journal-errors.js';
import { JournalOutage, type JournalProblem } from './outage.js';
import { PendingWrites } from './pending.js';
import type { DeliberateStopMark, Journal, JournalEntry, JournalEntryInput, PauseMark, ResetMark, RestartMark } from './types.js';

export interface DegradableJournalOptions {
  dbPath: string;
  /** Opens the file (src/journal/journal.ts); throws RM_JOURNAL when it cannot. */
  open: () => Journal;
  log: Logger;
  /** Aborting it ends the retries (close() still tries once more). */
  signal: AbortSignal;
  /** Time and the retry timer (tests drive a manual one). */
  clock?: Clock;
  /** Told when the journal turns degraded (true) or writes again (false). */
  onChange?: (degraded: boolean) => void;
  /** Entries kept in memory at most (default MAX_PENDING_ENTRIES). */
  maxPending?: number;
}

type Op =
  | { kind: 'append'; entry: JournalEntry; max: number }
  | { kind: 'budget'; container: string; state: BudgetState; atMs: number }
  | { kind: 'delete'; container: string }
  | { kind: 'stop'; container: string; mark: DeliberateStopMark | null };

function problemOf(doing: JournalProblem['doing'], err: unknown, dbPath: string): JournalProblem {
  const details = isRepairmanError(err) ? err.details : {};
  if (typeof details.reason === 'string') {
    return { doing, reason: details.reason, advice: typeof details.advice === 'string' ? details.advice : adviceFor(err, dbPath) };
  }
  // Our own refusals (another program's tables, a newer schema) say everything in their message.
  return { doing, reason: errorMessage(err), advice: isRepairmanError(err) ? '' : adviceFor(err, dbPath) };
}

function fileIdentity(path: string): string | null {
  try {
    const st = statSync(path);
    return `${st.dev}:${st.ino}`;
  } catch {
    return null;
  }
}

export class DegradableJournal implements Journal {
  readonly persistent = true;
  readonly readonly = false;
  readonly dbPath: string;
  private file: Journal | null = null;
  /** dev:ino of the file opened: a file moved away and replaced is opened afresh. */
  private fileId: string | null = null;
  private readonly outage: JournalOutage;
  private readonly pending: PendingWrites;
  private readonly clock: Clock;
  /** Writes of a batch() in progress, written together when it ends. */
  private batchOps: Op[] | null = null;
  /** The highest num known: given to entries kept in memory (the file gives the same ones later). */
  private highestNum = 0;
  /** Resets already in a file opened late are history (this run's budgets were never theirs). */
  private resetBase = 0;
  private timer: unknown;
  private closed = false;

  constructor(private readonly o: DegradableJournalOptions) {
    this.dbPath = o.dbPath;
    this.clock = o.clock ?? systemClock;
    this.outage = new JournalOutage(() => this.clock.now());
    this.pending = new PendingWrites(o.maxPending);
    o.signal.addEventListener('abort', () => this.clock.clearTimeout(this.timer), { once: true });
    try {
      this.useFile(o.open());
    } catch (err) {
      this.fail('opening', err);
    }
  }

  /** True while the file cannot be used: budgets live in memory, entries wait in memory. */
  get degraded(): boolean {
    return this.outage.degraded;
  }

  /** Entries waiting in memory to be written. */
  get pendingEntries(): number {
    return this.pending.size;
  }

  /** One sentence for /healthz, the status page and `repairman status`; none while all is well. */
  degradations(): string[] {
    const p = this.outage.problem;
    if (!p) return [];
    const waiting = this.pending.size;
    return [
      `the journal ${this.dbPath} cannot be ${p.doing === 'opening' ? 'opened' : 'written'} (${p.reason}): healing goes on with the restart budgets in memory, ` +
        `${waiting} ${waiting === 1 ? 'entry waits' : 'entries wait'} to be written, retrying.${p.advice ? ` ${p.advice}` : ''}`,
    ];
  }

  private useFile(file: Journal): void {
    this.file = file;
    this.fileId = fileIdentity(this.dbPath);
    this.highestNum = Math.max(this.highestNum, file.lastNum());
  }

  private dropFile(): void {
    const file = this.file;
    this.file = null;
    this.fileId = null;
    try {
      file?.close();
    } catch {
      // It failed already; closing is only tidying up.
    }
  }

  private fail(doing: JournalProblem['doing'], err: unknown): void {
    const problem = problemOf(doing, err, this.dbPath);
    const kind = this.outage.failed(problem);
    const retryInSec = Math.round((this.outage.retryInMs() ?? 0) / 1000);
    if (kind === 'new') {
      this.o.log.error(`the journal cannot be ${doing === 'opening' ? 'opened' : 'written'}: healing goes on with the restart budgets in memory, and Repairman keeps trying the file`, {
        code: 'RM_JOURNAL_DEGRADED',
        dbPath: this.dbPath,
        reason: problem.reason,
        fix: problem.advice || undefined,
        retryInSec,
      });
      this.o.onChange?.(true);
    } else if (kind === 'relapse') {
      // Said when it began (see RELAPSE_MS); /healthz and the metric still show it.
      this.o.log.debug('the journal cannot be written again', { dbPath: this.dbPath, reason: problem.reason, retryInSec });
      this.o.onChange?.(true);
    } else {
      this.o.log.debug('the journal file is still unusable', { dbPath: this.dbPath, reason: problem.reason, retryInSec, pending: this.pending.size });
    }
    this.schedule();
  }

  private schedule(): void {
    this.clock.clearTimeout(this.timer);
    const inMs = this.outage.retryInMs();
    if (this.closed || this.o.signal.aborted || inMs === null) return;
    this.timer = this.clock.setTimeout(() => this.retry(), inMs);
  }

  /** Tries the file again: (re)opens it when needed, writes everything waiting. True when it worked. */
  private attempt(): boolean {
    // A file moved away (and maybe replaced) while open: the open connection still writes to the old one.
    if (this.file && fileIdentity(this.dbPath) !== this.fileId) this.dropFile();
    if (!this.file) {
      try {
        this.useFile(this.o.open());
        this.resetBase = this.file!.lastResetSeq();
      } catch (err) {
        this.fail('opening', err);
        return false;
      }
    }
    const written = this.pending.size;
    const dropped = this.pending.dropped;
    try {
      this.flush(this.file!);
    } catch (err) {
      this.fail('writing', err);
      return false;
    }
    const quiet = this.outage.isRelapse && written === 0 && dropped === 0;
    const downMs = this.outage.recovered();
    if (downMs !== null) {
      const fields = { dbPath: this.dbPath, written, dropped, downSec: Math.round(downMs / 1000) };
      if (quiet) this.o.log.debug('the journal is written again', fields);
      else this.o.log.info('the journal is written again', fields);
      this.o.onChange?.(false);
    }
    return true;
  }

  private retry(): void {
    if (this.closed || this.o.signal.aborted || !this.outage.degraded) return;
    this.attempt();
  }

  /** Everything waiting, in one transaction, with a heartbeat: it proves the file takes writes. */
  private flush(file: Journal): void {
    file.batch(() => {
      for (const p of this.pending.entries) file.append(p.entry, p.maxPerContainer);
      for (const [container, b] of this.pending.budgets) {
        if (b) file.saveBudget(container, b.state, b.atMs);
        else file.deleteBudget(container);
      }
      for (const [container, mark] of this.pending.stops) {
        if (mark) file.setDeliberateStop(mark);
        else file.clearDeliberateStop(container);
      }
      file.markAlive(this.clock.now());
    });
    this.pending.clear();
    this.highestNum = Math.max(this.highestNum, file.lastNum());
  }

  private usable(): Journal | null {
    return this.outage.degraded ? null : this.file;
  }

  private checkOpen(doing: string): void {
    if (this.closed) throw new RepairmanError('RM_JOURNAL', `the journal database ${this.dbPath} is closed (${doing}).`, { details: { dbPath: this.dbPath, doing } });
  }

  private provisional(entry: JournalEntryInput): JournalEntry {
    const out: JournalEntry = { ...entry, atMs: Math.round(entry.atMs), num: ++this.highestNum };
    if (entry.details === undefined) delete out.details;
    return out;
  }

  private keep(ops: readonly Op[]): void {
    for (const op of ops) {
      if (op.kind === 'append') this.pending.addEntry(op.entry, op.max);
      else if (op.kind === 'budget') this.pending.setBudget(op.container, op.state, op.atMs);
      else if (op.kind === 'delete') this.pending.deleteBudget(op.container);
      else this.pending.setStop(op.container, op.mark);
    }
  }

  /** Writes ops to the file in one transaction, or keeps them for later (turning degraded). */
  private write(ops: readonly Op[]): void {
    const file = this.usable();
    if (file) {
      try {
        file.batch(() => {
          for (const op of ops) {
            if (op.kind === 'append') file.append(op.entry, op.max);
            else if (op.kind === 'budget') file.saveBudget(op.container, op.state, op.atMs);
            else if (op.kind === 'delete') file.deleteBudget(op.container);
            else if (op.mark) file.setDeliberateStop(op.mark);
            else file.clearDeliberateStop(op.container);
          }
        });
        return;
      } catch (err) {
        this.keep(ops);
        this.fail('writing', err);
        return;
      }
    }
    this.keep(ops);
  }

  append(entry: JournalEntryInput, maxPerContainer: number): JournalEntry {
    this.checkOpen('append');
    const file = this.usable();
    if (file && !this.batchOps) {
      try {
        const written = file.append(entry, maxPerContainer);
        this.highestNum = Math.max(this.highestNum, written.num);
        return written;
      } catch (err) {
        const kept = this.provisional(entry);
        this.keep([{ kind: 'append', entry: kept, max: maxPerContainer }]);
        this.fail('writing', err);
        return kept;
      }
    }
    const op: Op = { kind: 'append', entry: this.provisional(entry), max: maxPerContainer };
    if (this.batchOps) this.batchOps.push(op);
    else this.keep([op]);
    return op.entry;
  }

  /** The writes fn makes are written together when it returns (or kept together); none when it throws. */
  batch<T>(fn: () => T): T {
    this.checkOpen('batch');
    if (this.batchOps) {
      const mark = this.batchOps.length;
      try {
        return fn();
      } catch (err) {
        this.batchOps.length = mark;
        throw err;
      }
    }
    const ops: Op[] = [];
    this.batchOps = ops;
    let out: T;
    try {
      out = fn();
    } finally {
      this.batchOps = null;
    }
    this.write(ops);
    return out;
  }

  saveBudget(container: string, state: BudgetState, nowMs: number): boolean {
    this.checkOpen('saveBudget');
    const file = this.usable();
    if (file && !this.batchOps) {
      try {
        return file.saveBudget(container, state, nowMs);
      } catch (err) {
        this.keep([{ kind: 'budget', container, state, atMs: nowMs }]);
        this.fail('writing', err);
        return true;
      }
    }
    const op: Op = { kind: 'budget', container, state, atMs: nowMs };
    if (this.batchOps) this.batchOps.push(op);
    else this.keep([op]);
    return true;
  }

  deleteBudget(container: string): void {
    this.later('deleteBudget', { kind: 'delete', container });
  }

  setDeliberateStop(mark: DeliberateStopMark): void {
    this.later('setDeliberateStop', { kind: 'stop', container: mark.container, mark });
  }

  clearDeliberateStop(container: string): void {
    this.later('clearDeliberateStop', { kind: 'stop', container, mark: null });
  }

  /** A write whose result nobody reads: with the batch in progress, or now (or kept). */
  private later(doing: string, op: Op): void {
    this.checkOpen(doing);
    if (this.batchOps) this.batchOps.push(op);
    else this.write([op]);
  }

  // ---- reads: the file where it can be read, with what waits in memory on top ---------------------

  /** A read of the file; nothing (fallback) when there is no file or it fails to read. */
  private read<T>(fn: (file: Journal) => T, fallback: T): T {
    this.checkOpen('read');
    if (!this.file) return fallback;
    try {
      return fn(this.file);
    } catch {
      return fallback;
    }
  }

  list(opts: { limit: number; beforeNum?: number; container?: string }): JournalEntry[] {
    const waiting = this.pending.list(opts);
    const stored = this.read((f) => f.list(opts), []);
    if (!waiting.length) return stored;
    return [...waiting, ...stored].sort((a, b) => b.num - a.num).slice(0, Math.max(0, opts.limit));
  }

  restartsSince(sinceMs: number): RestartMark[] {
    const waiting = this.pending.restartsSince(sinceMs);
    const stored = this.read((f) => f.restartsSince(sinceMs), []);
    return waiting.length ? [...stored, ...waiting].sort((a, b) => a.atMs - b.atMs) : stored;
  }

  count(): number {
    return this.read((f) => f.count(), 0) + this.pending.size;
  }

  lastNum(): number {
    return Math.max(this.highestNum, this.read((f) => f.lastNum(), 0));
  }

  loadBudgets(): Map<string, BudgetState> {
    const out = this.read((f) => f.loadBudgets(), new Map<string, BudgetState>());
    for (const [name, b] of this.pending.budgets) {
      if (b) out.set(name, b.state);
      else out.delete(name);
    }
    return out;
  }

  loadBudget(container: string): BudgetState | null {
    const waiting = this.pending.budgets.get(container);
    if (waiting !== undefined) return waiting?.state ?? null;
    return this.read((f) => f.loadBudget(container), null);
  }

  lastAliveMs(): number | null {
    return this.read((f) => f.lastAliveMs(), null);
  }

  markAlive(nowMs: number): void {
    this.checkOpen('markAlive');
    const file = this.usable();
    if (!file) return; // the retry writes one
    try {
      file.markAlive(nowMs);
    } catch (err) {
      this.fail('writing', err);
    }
  }

  lastResetSeq(): number {
    return this.read((f) => f.lastResetSeq(), 0);
  }

  resetsAfter(afterSeq: number): ResetMark[] {
    return this.read((f) => f.resetsAfter(Math.max(afterSeq, this.resetBase)), []);
  }

  pauses(): PauseMark[] {
    return this.read((f) => f.pauses(), []);
  }

  deliberateStops(): DeliberateStopMark[] {
    const marks = new Map(this.read((f) => f.deliberateStops(), []).map((m) => [m.container, m]));
    for (const [container, mark] of this.pending.stops) {
      if (mark) marks.set(container, mark);
      else marks.delete(container);
    }
    return [...marks.values()].sort((a, b) => (a.container < b.container ? -1 : a.container > b.container ? 1 : 0));
  }

  // ---- what the commands write on their own connection: only to a working file --------------------

  private writableFile(doing: string): Journal {
    this.checkOpen(doing);
    const file = this.usable();
    if (!file) {
      throw new RepairmanError('RM_JOURNAL', `the journal database ${this.dbPath} cannot be written now (${doing}): ${this.outage.problem?.reason ?? 'not open'}.`, {
        details: { dbPath: this.dbPath, doing },
      });
    }
    return file;
  }

  resetContainer(container: string, nowMs: number, maxPerContainer?: number): JournalEntry | null {
    return this.writableFile('reset').resetContainer(container, nowMs, maxPerContainer);
  }

  setPause(container: string, untilMs: number | null, nowMs: number): JournalEntry {
    return this.writableFile('pause').setPause(container, untilMs, nowMs);
  }

  resume(container: string, nowMs: number): string[] {
    return this.writableFile('resume').resume(container, nowMs);
  }

  checkpoint(): void {
    this.usable()?.checkpoint();
  }

  /**
   * A clean stop: one last try to write what waits (said when it cannot: those entries are lost),
   * then the write-ahead log is copied into the file so the `.db` alone is the whole journal.
   */
  close(): void {
    if (this.closed) return;
    this.clock.clearTimeout(this.timer);
    if (this.outage.degraded && !this.attempt()) {
      this.clock.clearTimeout(this.timer);
      if (!this.pending.empty) {
        this.o.log.error('the journal could not be written before stopping: what was kept in memory is lost', {
          dbPath: this.dbPath,
          lost: this.pending.size,
          reason: this.outage.problem?.reason,
        });
      }
    }
    this.closed = true;
    if (this.file && !this.outage.degraded) {
      try {
        this.file.checkpoint();
      } catch (err) {
        this.o.log.warn('the journal file could not be checkpointed: copy its -wal file along with it', { dbPath: this.dbPath, error: errorMessage(err) });
      }
    }
    this.dropFile();
  }
}

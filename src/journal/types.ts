// The journal: what happened to which container, newest kept per container.
import type { BudgetState } from '../budget/budget.js';

export type JournalKind =
  | 'restart' // a restart (or start of a crashed container) was done
  | 'wait' // waiting for the gap between restarts
  | 'multiple_failures' // second or later restart while never recovered
  | 'longer_wait' // maximum restarts reached in the frame, waiting seconds_between_next_frame
  | 'give_up' // Admin, help: not touching this container any more
  | 'recovered' // healthy again
  | 'restart_failed'
  | 'refused' // the engine answered 403 (a socket proxy does not allow the call): not counted
  | 'duplicate_removed'
  | 'config_error'
  | 'reset' // repairman reset NAME
  | 'stopped' // on_unhealthy stop: stopped, stays down (docs/behaviour.md §12)
  | 'killed' // on_unhealthy kill
  | 'unhealthy' // on_unhealthy notify: only told
  | 'held' // not acted on yet: unhealthy_for not reached, or a maintenance pause
  | 'left_to_engine' // unhealthy, and the engine acts on it itself (Podman's --health-on-failure)
  | 'post_action' // the post-action command ran and exited 0
  | 'post_action_failed' // it failed, could not start, or was killed at its time limit
  | 'pause' // repairman pause
  | 'resume' // repairman resume, or a pause whose time is up
  | 'gone'; // removed while a wait before its next restart was in progress (journaled, never notified)

export type Severity = 'debug' | 'info' | 'warning';

export interface JournalEntryInput {
  container: string; // name without leading slash
  kind: JournalKind;
  atMs: number; // UTC epoch ms
  message: string;
  /** Free-form facts (exit code, wait until, reason); never secrets. */
  details?: Record<string, unknown>;
}

export interface JournalEntry extends JournalEntryInput {
  num: number; // increasing id
}

/** A restart (or failed restart) for the status page's timeline. */
export interface RestartMark {
  container: string;
  atMs: number;
  kind: JournalKind;
}

/** One `repairman reset NAME`, as a running instance sees it when it polls (see Journal.resetsAfter). */
export interface ResetMark {
  seq: number;
  container: string;
  atMs: number;
}

/** One maintenance pause (`repairman pause`): container '*' is every container; untilMs null: until resumed. */
export interface PauseMark {
  container: string;
  untilMs: number | null;
  atMs: number;
}

/**
 * A `docker stop` / `docker kill` (or Repairman's own on_unhealthy stop or kill) seen on container `id`
 * since its last start: its next exit is not a crash (docs/behaviour.md §2.2), also after Repairman restarts.
 */
export interface DeliberateStopMark {
  container: string;
  id: string;
  action: string;
  /** The kill's signal as the engine gave it; null for a stop. */
  signal: string | null;
  atMs: number;
  /** Repairman's own stop or kill (on_unhealthy): left alone too, but not "stopped by hand". */
  own?: boolean;
}

/**
 * The SQLite journal (src/journal/journal.ts). Synchronous and fast (prepared statements). Every
 * method throws RepairmanError RM_JOURNAL when SQLite fails (disk full, file damaged); callers on the
 * healing path catch it and keep healing.
 */
export interface Journal {
  /** ':memory:' or the file. */
  readonly dbPath: string;
  /** False for ':memory:': nothing survives the process. */
  readonly persistent: boolean;
  readonly readonly: boolean;
  /** Adds an entry and trims that container to its newest `maxPerContainer` entries (0 keeps none). */
  append(entry: JournalEntryInput, maxPerContainer: number): JournalEntry;
  /**
   * Runs `fn` (synchronous) in one transaction: every write it makes is kept, or none (a SIGKILL
   * cannot keep half of them). Nests: an append inside is a savepoint of its own.
   */
  batch<T>(fn: () => T): T;
  /** Newest first; `beforeNum` pages backwards (entries with num < beforeNum). */
  list(opts: { limit: number; beforeNum?: number; container?: string }): JournalEntry[];
  /** Restarts and failed restarts at or after `sinceMs`, oldest first. */
  restartsSince(sinceMs: number): RestartMark[];
  count(): number;
  /** The highest num ever given (0 when none). */
  lastNum(): number;
  /** Every persisted budget; damaged rows are skipped (and reported through onWarning). */
  loadBudgets(): Map<string, BudgetState>;
  loadBudget(container: string): BudgetState | null;
  /**
   * Stores a container's budget. Returns false, storing nothing, when a `repairman reset` of that
   * container arrived that this connection has not yet seen through resetsAfter(): the reset wins, and
   * the caller applies it at its next poll (so a save racing a reset, then a crash, cannot undo it).
   */
  saveBudget(container: string, state: BudgetState, nowMs: number): boolean;
  deleteBudget(container: string): void;
  /**
   * `repairman reset NAME` in one transaction: deletes the budget, logs the reset for running
   * instances, journals a `reset` entry. Null (and nothing written) when NAME has no budget.
   * Without maxPerContainer nothing is trimmed (the CLI does not know the container's label value;
   * the running instance trims at its next append).
   */
  resetContainer(container: string, nowMs: number, maxPerContainer?: number): JournalEntry | null;
  /** When a Repairman using this file was last alive (UTC ms; null if never recorded). */
  lastAliveMs(): number | null;
  /** Record that this instance is alive now (a heartbeat; the in-memory journal keeps nothing). */
  markAlive(nowMs: number): void;
  /** The highest reset seq (0 when none): where a running instance starts polling. */
  lastResetSeq(): number;
  /** Resets with seq > afterSeq, oldest first; marks them seen (see saveBudget). */
  resetsAfter(afterSeq: number): ResetMark[];
  /** The pauses stored, in force or not (readers compare untilMs with their clock). */
  pauses(): PauseMark[];
  /**
   * `repairman pause`: stores (or replaces) the pause of `container` ('*': all) and journals it, in one
   * transaction; pauses already over are removed.
   */
  setPause(container: string, untilMs: number | null, nowMs: number): JournalEntry;
  /**
   * `repairman resume`: removes the pause of `container`, or with '*' every pause (of all and of each
   * container), journaling each one removed. Returns the containers whose pause was removed.
   */
  resume(container: string, nowMs: number): string[];
  /** The stops and kills seen and not yet followed by a start (empty on a read-only file older than schema 5). */
  deliberateStops(): DeliberateStopMark[];
  /** Stores (or replaces) the mark of `mark.container`. */
  setDeliberateStop(mark: DeliberateStopMark): void;
  /** Removes the mark of `container` (started again, removed, or re-created under another id). */
  clearDeliberateStop(container: string): void;
  /**
   * Copies the write-ahead log into the file and empties it (WAL checkpoint TRUNCATE), so the `.db`
   * alone is the whole journal (a backup copy after a stop). Nothing to do in memory.
   */
  checkpoint(): void;
  close(): void;
}

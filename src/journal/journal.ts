// The SQLite journal and the persisted restart budgets (docs/behaviour.md §3). ':memory:' by default; with a file
// it uses WAL and synchronous=NORMAL: a committed append survives a SIGKILL of Repairman (the WAL is
// in the OS's hands once the transaction commits), and readers (`repairman history`) never block the
// running instance. Everything is synchronous: each call is a few microseconds of SQLite.
import { existsSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import type { StatementSync } from 'node:sqlite';
import { RepairmanError, errorMessage } from '../errors.js';
import { createPrivateFile } from './file.js';
import { DAMAGED_ADVICE, adviceFor, journalError } from './journal-errors.js';
import { parseBudgetState, type BudgetState } from '../budget/budget.js';
import { SCHEMA_VERSION, migrate, schemaVersion } from './migrations.js';
import { LazyMemoryJournal } from './lazy-memory.js';
import { loadSqlite, pragma, transaction, type Database } from './sqlite.js';
import type { DeliberateStopMark, Journal, JournalEntry, JournalEntryInput, JournalKind, PauseMark, ResetMark, RestartMark } from './types.js';

export interface OpenJournalOptions {
  /** ':memory:' or a file path. */
  dbPath: string;
  /** Open without writing anything (for `repairman history`); the file must exist. */
  readonly?: boolean;
  /** Refuse to create a new file (for `repairman reset`, where a new file means a wrong path). */
  mustExist?: boolean;
  /** Problems that do not stop the journal (a damaged budget row); never contains secrets. */
  onWarning?: (message: string) => void;
  /** How long a write waits for another process holding the lock (`repairman reset`), in ms. */
  busyTimeoutMs?: number;
}

// node:sqlite is loaded when a database is really opened; an in-memory journal opens on its first
// write (see LazyMemoryJournal).

/** SQLite's page cache for a journal file, in KiB (PRAGMA cache_size takes negative KiB). */
export const PAGE_CACHE_KIB = 256;

/** Reset log rows kept: enough for any instance polling every few seconds. */
const RESETS_KEPT = 1000;
/** Entries returned by one list() call at most. */
const MAX_LIST = 10_000;

type Row = { num: number; container: string; kind: string; at_ms: number; message: string; details: string | null };

/** ':memory:' (or empty): nothing on disk. */
export function isMemory(dbPath: string): boolean {
  return dbPath === ':memory:' || dbPath === '';
}

function parseDetails(text: string | null): Record<string, unknown> | undefined {
  if (text === null) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function detailsText(details: Record<string, unknown> | undefined): string | null {
  if (details === undefined) return null;
  try {
    return JSON.stringify(details, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  } catch {
    return JSON.stringify({ note: 'details could not be serialised' });
  }
}

function toEntry(r: Row): JournalEntry {
  const details = parseDetails(r.details);
  const e: JournalEntry = { num: r.num, container: r.container, kind: r.kind as JournalKind, atMs: r.at_ms, message: r.message };
  if (details !== undefined) e.details = details;
  return e;
}

function whole(n: number, fallback: number): number {
  return Number.isFinite(n) ? Math.max(0, Math.floor(n)) : fallback;
}

/** Opens (creating and migrating when needed) the journal. Throws RepairmanError RM_JOURNAL. */
export function openJournal(opts: OpenJournalOptions): Journal {
  // Checked without loading SQLite, so that an older Node fails at the start, not at the first write.
  if (!isBuiltin('node:sqlite')) {
    throw new RepairmanError('RM_JOURNAL', `this is Node.js ${process.version}, without node:sqlite: Repairman needs Node.js 24 or newer (README: "Run it").`, {
      details: { node: process.version },
    });
  }
  const memory = isMemory(opts.dbPath);
  if (memory && opts.readonly === true) {
    throw new RepairmanError('RM_JOURNAL', 'an in-memory journal (:memory:) cannot be opened read-only: it only exists inside the running instance.', {
      details: { dbPath: ':memory:' },
    });
  }
  if (memory) return new LazyMemoryJournal(() => openSqliteJournal(opts));
  return openSqliteJournal(opts);
}

function openSqliteJournal(opts: OpenJournalOptions): SqliteJournal {
  const memory = isMemory(opts.dbPath);
  const dbPath = memory ? ':memory:' : opts.dbPath;
  const ro = opts.readonly === true;
  if (!memory && (ro || opts.mustExist) && !existsSync(dbPath)) {
    throw new RepairmanError(
      'RM_JOURNAL',
      `there is no journal database at ${dbPath}. Check --db-path / DB_PATH: it must be the same file the running Repairman uses.`,
      { details: { dbPath, doing: 'open' } },
    );
  }

  if (!memory && !ro) createPrivateFile(dbPath);
  let db: Database;
  try {
    const { DatabaseSync } = loadSqlite();
    db = new DatabaseSync(dbPath, { readOnly: ro, timeout: opts.busyTimeoutMs ?? 5000 });
  } catch (err) {
    throw journalError(dbPath, 'opening', err, adviceFor(err, dbPath));
  }

  try {
    if (!memory) {
      // This journal is a few MB at most and its hot pages (the b-tree roots and the newest leaves) fit
      // in far less than SQLite's default cache. Pages beyond the cache are read again through the
      // OS's file cache (microseconds), instead of staying in Repairman's RSS after quick_check or a
      // timeline query reads the whole file. (A :memory: database IS its page cache: no limit there.)
      db.exec(`PRAGMA cache_size = -${PAGE_CACHE_KIB}`);
    }
    if (!memory && !ro) {
      db.exec('PRAGMA journal_mode = WAL');
      // NORMAL in WAL mode: durable across a crash of the process; only an OS crash or power loss can
      // lose the last transactions. FULL would fsync on every append for little gain here.
      db.exec('PRAGMA synchronous = NORMAL');
    }
    const version = schemaVersion(db);
    if (version > SCHEMA_VERSION) {
      throw new RepairmanError(
        'RM_JOURNAL',
        `the journal database ${dbPath} has schema version ${version}, written by a newer Repairman (this one knows up to ${SCHEMA_VERSION}). Upgrade Repairman, or point --db-path / DB_PATH at another file.`,
        { details: { dbPath, version, known: SCHEMA_VERSION } },
      );
    }
    if (version === 0) {
      const tables = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").get() as unknown as { n: number };
      if (tables.n > 0 || ro) {
        throw new RepairmanError(
          'RM_JOURNAL',
          ro && tables.n === 0
            ? `the database ${dbPath} is empty: no Repairman has written to it yet. Check --db-path / DB_PATH.`
            : `the database ${dbPath} is not a Repairman journal (it holds other tables). Point --db-path / DB_PATH at another file.`,
          { details: { dbPath, version } },
        );
      }
    }
    if (!memory && !ro && version > 0) {
      // Finds a damaged file at start instead of in the middle of healing. The journal is small
      // (max_historic_entries per container), so this takes milliseconds.
      const check = pragma(db, 'quick_check(1)');
      if (check !== 'ok') throw new Error(`integrity check: ${check}`);
    }
    if (!ro) migrate(db);
  } catch (err) {
    db.close();
    if (err instanceof RepairmanError) throw err;
    const damaged = /integrity check/.test(errorMessage(err));
    throw journalError(dbPath, 'opening', err, damaged ? DAMAGED_ADVICE : adviceFor(err, dbPath));
  }
  const journal = new SqliteJournal(db, dbPath, !memory, ro, opts.onWarning ?? (() => {}));
  // Resets made before this open are history: budgets were loaded after them (see saveBudget).
  if (!ro) journal.markResetsSeen();
  return journal;
}

class SqliteJournal implements Journal {
  private readonly statements = new Map<string, StatementSync>();
  private closed = false;
  /** The newest reset this connection has handed out (or that existed when it opened). */
  private seenResetSeq: number | null = null;

  constructor(
    private readonly db: Database,
    readonly dbPath: string,
    readonly persistent: boolean,
    readonly readonly: boolean,
    private readonly onWarning: (message: string) => void,
  ) {}

  // Prepared once, on first use: a read-only connection to an older schema prepares only what it reads.
  private stmt(sql: string): StatementSync {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private guard<T>(doing: string, fn: () => T): T {
    if (this.closed) throw new RepairmanError('RM_JOURNAL', `the journal database ${this.dbPath} is closed (${doing}).`, { details: { dbPath: this.dbPath, doing } });
    try {
      return fn();
    } catch (err) {
      if (err instanceof RepairmanError) throw err;
      throw journalError(this.dbPath, doing, err, adviceFor(err, this.dbPath));
    }
  }

  // A read-only connection may sit on an older schema (nothing migrates it) without the reset log.
  private hasResetLog(): boolean {
    return !this.readonly || schemaVersion(this.db) >= 2;
  }

  private writable(doing: string): void {
    if (this.readonly) {
      throw new RepairmanError('RM_JOURNAL', `the journal database ${this.dbPath} is open read-only (${doing}).`, { details: { dbPath: this.dbPath, doing } });
    }
  }

  private insert(entry: JournalEntryInput, maxPerContainer: number | undefined): JournalEntry {
    const info = this.stmt('INSERT INTO journal (container, kind, at_ms, message, details) VALUES (?, ?, ?, ?, ?)').run(
      entry.container,
      entry.kind,
      Math.round(entry.atMs),
      entry.message,
      detailsText(entry.details),
    );
    // Only a real number trims: a NaN from a bug must not wipe a container's history.
    if (maxPerContainer !== undefined && Number.isFinite(maxPerContainer)) {
      const keep = whole(maxPerContainer, 0);
      // Everything older than the keep-th newest entry of this container goes (index container, num).
      const cutoff = this.stmt('SELECT num FROM journal WHERE container = ? ORDER BY num DESC LIMIT 1 OFFSET ?').get(entry.container, keep) as
        | { num: number }
        | undefined;
      if (cutoff) this.stmt('DELETE FROM journal WHERE container = ? AND num <= ?').run(entry.container, cutoff.num);
    }
    const out: JournalEntry = { ...entry, atMs: Math.round(entry.atMs), num: Number(info.lastInsertRowid) };
    if (entry.details === undefined) delete out.details;
    return out;
  }

  append(entry: JournalEntryInput, maxPerContainer: number): JournalEntry {
    this.writable('append');
    return this.guard('append', () => transaction(this.db, () => this.insert(entry, maxPerContainer)));
  }

  batch<T>(fn: () => T): T {
    this.writable('batch');
    return this.guard('batch', () => transaction(this.db, fn));
  }

  list(opts: { limit: number; beforeNum?: number; container?: string }): JournalEntry[] {
    return this.guard('list', () => {
      const limit = Math.min(whole(opts.limit, 20), MAX_LIST);
      const before = opts.beforeNum === undefined || !Number.isFinite(opts.beforeNum) ? null : opts.beforeNum;
      let rows: Row[];
      // Four fixed statements rather than "? IS NULL OR": each one uses its index.
      if (opts.container !== undefined) {
        rows = (before === null
          ? this.stmt('SELECT * FROM journal WHERE container = ? ORDER BY num DESC LIMIT ?').all(opts.container, limit)
          : this.stmt('SELECT * FROM journal WHERE container = ? AND num < ? ORDER BY num DESC LIMIT ?').all(opts.container, before, limit)) as Row[];
      } else {
        rows = (before === null
          ? this.stmt('SELECT * FROM journal ORDER BY num DESC LIMIT ?').all(limit)
          : this.stmt('SELECT * FROM journal WHERE num < ? ORDER BY num DESC LIMIT ?').all(before, limit)) as Row[];
      }
      return rows.map(toEntry);
    });
  }

  restartsSince(sinceMs: number): RestartMark[] {
    return this.guard('restartsSince', () => {
      const rows = this.stmt(
        "SELECT container, at_ms, kind FROM journal WHERE kind IN ('restart', 'restart_failed') AND at_ms >= ? ORDER BY at_ms, num",
      ).all(Number.isFinite(sinceMs) ? sinceMs : 0) as { container: string; at_ms: number; kind: JournalKind }[];
      return rows.map((r) => ({ container: r.container, atMs: r.at_ms, kind: r.kind }));
    });
  }

  count(): number {
    return this.guard('count', () => (this.stmt('SELECT count(*) AS n FROM journal').get() as { n: number }).n);
  }

  lastNum(): number {
    // sqlite_sequence remembers the highest num even after the newest rows were trimmed.
    return this.guard('lastNum', () => {
      const r = this.stmt("SELECT seq FROM sqlite_sequence WHERE name = 'journal'").get() as { seq: number } | undefined;
      return r?.seq ?? 0;
    });
  }

  loadBudgets(): Map<string, BudgetState> {
    return this.guard('loadBudgets', () => {
      const out = new Map<string, BudgetState>();
      for (const r of this.stmt('SELECT container, state FROM budgets').all() as { container: string; state: string }[]) {
        const state = this.parseBudget(r.container, r.state);
        if (state) out.set(r.container, state);
      }
      return out;
    });
  }

  loadBudget(container: string): BudgetState | null {
    return this.guard('loadBudget', () => {
      const r = this.stmt('SELECT state FROM budgets WHERE container = ?').get(container) as { state: string } | undefined;
      return r ? this.parseBudget(container, r.state) : null;
    });
  }

  private parseBudget(container: string, text: string): BudgetState | null {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    const state = parseBudgetState(value);
    if (!state) this.onWarning(`the restart budget stored for ${container} in ${this.dbPath} is unreadable; starting it afresh`);
    return state;
  }

  /** @internal Called by openJournal: resets that exist now count as seen. */
  markResetsSeen(): void {
    this.seenResetSeq = this.lastResetSeq();
  }

  saveBudget(container: string, state: BudgetState, nowMs: number): boolean {
    this.writable('saveBudget');
    return this.guard('saveBudget', () => {
      this.seenResetSeq ??= this.lastResetSeq();
      const pending = this.stmt('SELECT 1 FROM resets WHERE container = ? AND seq > ? LIMIT 1').get(container, this.seenResetSeq);
      if (pending) return false;
      this.stmt(
        'INSERT INTO budgets (container, state, updated_at_ms) VALUES (?, ?, ?) ON CONFLICT (container) DO UPDATE SET state = excluded.state, updated_at_ms = excluded.updated_at_ms',
      ).run(container, JSON.stringify(state), Math.round(nowMs));
      return true;
    });
  }

  deleteBudget(container: string): void {
    this.writable('deleteBudget');
    this.guard('deleteBudget', () => {
      this.stmt('DELETE FROM budgets WHERE container = ?').run(container);
    });
  }

  resetContainer(container: string, nowMs: number, maxPerContainer?: number): JournalEntry | null {
    this.writable('reset');
    return this.guard('reset', () =>
      // IMMEDIATE: take the write lock before reading, so a running instance cannot slip in between.
      transaction(
        this.db,
        () => {
        const had = this.stmt('DELETE FROM budgets WHERE container = ?').run(container).changes > 0;
        if (!had) return null;
        const atMs = Math.round(nowMs);
        this.stmt('INSERT INTO resets (container, at_ms) VALUES (?, ?)').run(container, atMs);
        this.stmt('DELETE FROM resets WHERE seq <= (SELECT max(seq) FROM resets) - ?').run(RESETS_KEPT);
        return this.insert(
          { container, kind: 'reset', atMs, message: 'restart budget reset by `repairman reset`: give-up, waits and streak cleared' },
          maxPerContainer,
        );
        },
        'IMMEDIATE',
      ),
    );
  }

  lastAliveMs(): number | null {
    return this.guard('lastAliveMs', () => {
      // A read-only connection may sit on a schema from before the heartbeat.
      if (this.readonly && schemaVersion(this.db) < 3) return null;
      const row = this.stmt('SELECT last_alive_ms FROM liveness WHERE id = 1').get() as { last_alive_ms: number } | undefined;
      return row ? Number(row.last_alive_ms) : null;
    });
  }

  markAlive(nowMs: number): void {
    this.writable('markAlive');
    this.guard('markAlive', () => {
      this.stmt('INSERT INTO liveness (id, last_alive_ms) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET last_alive_ms = excluded.last_alive_ms').run(Math.round(nowMs));
    });
  }

  lastResetSeq(): number {
    return this.guard('lastResetSeq', () => {
      if (!this.hasResetLog()) return 0;
      return (this.stmt('SELECT coalesce(max(seq), 0) AS seq FROM resets').get() as { seq: number }).seq;
    });
  }

  resetsAfter(afterSeq: number): ResetMark[] {
    return this.guard('resetsAfter', () => {
      if (!this.hasResetLog()) return [];
      const rows = this.stmt('SELECT seq, container, at_ms FROM resets WHERE seq > ? ORDER BY seq').all(Number.isFinite(afterSeq) ? afterSeq : 0) as {
        seq: number;
        container: string;
        at_ms: number;
      }[];
      const newest = rows.at(-1)?.seq;
      if (newest !== undefined && newest > (this.seenResetSeq ?? 0)) this.seenResetSeq = newest;
      return rows.map((r) => ({ seq: r.seq, container: r.container, atMs: r.at_ms }));
    });
  }

  // A read-only connection may sit on a schema older than the pauses table.
  private hasPauses(): boolean {
    return !this.readonly || schemaVersion(this.db) >= 4;
  }

  pauses(): PauseMark[] {
    return this.guard('pauses', () => {
      if (!this.hasPauses()) return [];
      const rows = this.stmt('SELECT container, until_ms, at_ms FROM pauses ORDER BY container').all() as { container: string; until_ms: number | null; at_ms: number }[];
      return rows.map((r) => ({ container: r.container, untilMs: r.until_ms, atMs: r.at_ms }));
    });
  }

  setPause(container: string, untilMs: number | null, nowMs: number): JournalEntry {
    this.writable('pause');
    return this.guard('pause', () =>
      transaction(this.db, () => {
        const atMs = Math.round(nowMs);
        this.stmt('DELETE FROM pauses WHERE until_ms IS NOT NULL AND until_ms <= ?').run(atMs);
        this.stmt('INSERT INTO pauses (container, until_ms, at_ms) VALUES (?, ?, ?) ON CONFLICT (container) DO UPDATE SET until_ms = excluded.until_ms, at_ms = excluded.at_ms').run(
          container,
          untilMs === null ? null : Math.round(untilMs),
          atMs,
        );
        const who = container === '*' ? 'every container' : 'this container';
        const until = untilMs === null ? 'until `repairman resume`' : `for ${Math.round((untilMs - atMs) / 1000)} s`;
        return this.insert({ container, kind: 'pause', atMs, message: `Paused for maintenance by \`repairman pause\`: no action on ${who} ${until}`, details: { untilMs } }, undefined);
      }, 'IMMEDIATE'),
    );
  }

  resume(container: string, nowMs: number): string[] {
    this.writable('resume');
    return this.guard('resume', () =>
      transaction(this.db, () => {
        const atMs = Math.round(nowMs);
        const rows = (container === '*'
          ? this.stmt('SELECT container, until_ms FROM pauses ORDER BY container').all()
          : this.stmt('SELECT container, until_ms FROM pauses WHERE container = ?').all(container)) as { container: string; until_ms: number | null }[];
        const resumed: string[] = [];
        for (const r of rows) {
          this.stmt('DELETE FROM pauses WHERE container = ?').run(r.container);
          if (r.until_ms !== null && r.until_ms <= atMs) continue;
          resumed.push(r.container);
          const who = r.container === '*' ? 'every container' : 'this container';
          this.insert({ container: r.container, kind: 'resume', atMs, message: `Resumed by \`repairman resume\`: Repairman acts on ${who} again`, details: { untilMs: r.until_ms } }, undefined);
        }
        return resumed;
      }, 'IMMEDIATE'),
    );
  }

  deliberateStops(): DeliberateStopMark[] {
    return this.guard('deliberateStops', () => {
      // A read-only connection may sit on a schema older than the table.
      if (this.readonly && schemaVersion(this.db) < 5) return [];
      const rows = this.stmt('SELECT container, container_id, action, signal, own, at_ms FROM deliberate_stops ORDER BY container').all() as {
        container: string; container_id: string; action: string; signal: string | null; own: number; at_ms: number;
      }[];
      return rows.map((r) => ({ container: r.container, id: r.container_id, action: r.action, signal: r.signal, atMs: r.at_ms, ...(r.own ? { own: true } : {}) }));
    });
  }

  setDeliberateStop(m: DeliberateStopMark): void {
    this.writable('setDeliberateStop');
    this.guard('setDeliberateStop', () => {
      this.stmt(
        'INSERT INTO deliberate_stops (container, container_id, action, signal, own, at_ms) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (container) DO UPDATE SET container_id = excluded.container_id, action = excluded.action, signal = excluded.signal, own = excluded.own, at_ms = excluded.at_ms',
      ).run(m.container, m.id, m.action, m.signal, m.own ? 1 : 0, Math.round(m.atMs));
    });
  }

  clearDeliberateStop(container: string): void {
    this.writable('clearDeliberateStop');
    this.guard('clearDeliberateStop', () => {
      this.stmt('DELETE FROM deliberate_stops WHERE container = ?').run(container);
    });
  }

  checkpoint(): void {
    if (!this.persistent || this.readonly) return;
    this.guard('checkpoint', () => {
      // Short: a reader in the middle of a read must not hold a SIGTERM past its second.
      this.db.exec('PRAGMA busy_timeout = 200');
      const row = this.db.prepare('PRAGMA wal_checkpoint(TRUNCATE)').get() as { busy?: number } | undefined;
      if (row?.busy) throw new Error('a reader kept part of the write-ahead log from being copied into the file');
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.statements.clear();
    try {
      this.db.close();
    } catch {
      // Closing twice or after a failed open is harmless.
    }
  }
}

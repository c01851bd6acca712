// The SQLite driver: Node's built-in node:sqlite (synchronous, in-process, no native addon to install
// or compile), loaded on first use, plus the three things the journal needs on top of it: a pragma's
// value, transactions that nest, and SQLite's error names.
import type { DatabaseSync } from 'node:sqlite';

export type Database = DatabaseSync;
export type Sqlite = typeof import('node:sqlite');

/**
 * True for the one warning Node 24.0 to 24.14 print when node:sqlite is loaded ("ExperimentalWarning:
 * SQLite is an experimental feature..."), once per process; 24.15 made the module a release candidate.
 */
export function isSqliteExperimentalWarning(warning: unknown, typeOrOptions: unknown): boolean {
  const type = typeof typeOrOptions === 'string' ? typeOrOptions : (typeOrOptions as { type?: unknown } | undefined)?.type;
  const text = warning instanceof Error ? warning.message : String(warning);
  return (type === 'ExperimentalWarning' || (warning instanceof Error && warning.name === 'ExperimentalWarning')) && /\bSQLite\b/.test(text);
}

/**
 * Loads node:sqlite. Early Node 24 releases print an ExperimentalWarning on stderr when it loads: a
 * line that is not JSON in the middle of Repairman's JSON log, about an API whose use here is fixed.
 * Only that warning is dropped, only while the module loads; every other warning still reaches stderr.
 * (A --disable-warning flag would have to be given by every way of starting Repairman.)
 */
export function loadSqlite(load: () => Sqlite | undefined = () => process.getBuiltinModule('node:sqlite')): Sqlite {
  const emitWarning = process.emitWarning;
  process.emitWarning = function filtered(this: unknown, warning: unknown, ...rest: unknown[]): void {
    if (isSqliteExperimentalWarning(warning, rest[0])) return;
    (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
  } as typeof process.emitWarning;
  let sqlite: Sqlite | undefined;
  let cause: unknown;
  try {
    sqlite = load();
  } catch (err) {
    cause = err;
  } finally {
    process.emitWarning = emitWarning;
  }
  // Node 20 has no node:sqlite (getBuiltinModule answers undefined): say what to do instead.
  if (!sqlite) throw new Error(`node:sqlite is not available in Node.js ${process.version}: Repairman needs Node.js 24 or newer`, { cause });
  return sqlite;
}

/** The first column of a pragma's first row (e.g. `pragma(db, 'user_version')`), or undefined. */
export function pragma(db: Database, text: string): unknown {
  const row = db.prepare(`PRAGMA ${text}`).get();
  return row ? Object.values(row)[0] : undefined;
}

let savepointNo = 0;

/**
 * Runs fn in a transaction: committed when it returns, rolled back when it throws. Inside another
 * transaction it becomes a savepoint, so a journal.batch() of appends is one transaction and a failed
 * inner step undoes only itself. IMMEDIATE takes the write lock before the first read.
 */
export function transaction<T>(db: Database, fn: () => T, mode: 'DEFERRED' | 'IMMEDIATE' = 'DEFERRED'): T {
  if (db.isTransaction) {
    const name = `rm_sp${++savepointNo}`;
    db.exec(`SAVEPOINT ${name}`);
    try {
      const out = fn();
      db.exec(`RELEASE ${name}`);
      return out;
    } catch (err) {
      db.exec(`ROLLBACK TO ${name}`);
      db.exec(`RELEASE ${name}`);
      throw err;
    }
  }
  db.exec(`BEGIN ${mode}`);
  try {
    const out = fn();
    db.exec('COMMIT');
    return out;
  } catch (err) {
    // A failed COMMIT or statement may already have ended the transaction (SQLITE_FULL, for one).
    if (db.isTransaction) db.exec('ROLLBACK');
    throw err;
  }
}

/** SQLite's primary result codes the journal explains; node:sqlite reports them as `errcode`. */
const CODE_NAMES: Record<number, string> = {
  3: 'SQLITE_PERM',
  5: 'SQLITE_BUSY',
  6: 'SQLITE_LOCKED',
  8: 'SQLITE_READONLY',
  10: 'SQLITE_IOERR',
  11: 'SQLITE_CORRUPT',
  13: 'SQLITE_FULL',
  14: 'SQLITE_CANTOPEN',
  26: 'SQLITE_NOTADB',
};

/** 'SQLITE_BUSY' and so on for an error of node:sqlite (extended codes folded to the primary one). */
export function sqliteCode(err: unknown): string | undefined {
  const errcode = (err as { errcode?: unknown } | null)?.errcode;
  return typeof errcode === 'number' ? CODE_NAMES[errcode & 0xff] : undefined;
}

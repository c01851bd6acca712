// The journal's errors: RM_JOURNAL with what failed and what the admin can do about it (the reason and
// the advice also apart in its details, for /healthz while the journal is degraded).
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { RepairmanError, errorMessage } from '../errors.js';
import { sqliteCode } from './sqlite.js';

export const DAMAGED_ADVICE =
  'The file is damaged or is not a Repairman journal: move the file away (a new one is created, history ' +
  'and restart budgets start empty), or point --db-path / DB_PATH at another file.';

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** How to fix what SQLite said about the file at dbPath. */
export function adviceFor(err: unknown, dbPath: string): string {
  const code = sqliteCode(err);
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') return DAMAGED_ADVICE;
  if (code === 'SQLITE_FULL') return 'The disk is full: free some space.';
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') return 'Another process holds the database locked; try again in a moment.';
  if (dbPath !== ':memory:' && isDirectory(dbPath)) {
    return `${dbPath} is a directory: point --db-path / DB_PATH at a file (for example ${dbPath.replace(/\/+$/, '')}/repairman.db), or remove the directory.`;
  }
  if (dbPath !== ':memory:' && !existsSync(dirname(dbPath))) return 'Create the directory (or mount the volume) first, or point --db-path / DB_PATH elsewhere.';
  if (code === 'SQLITE_CANTOPEN' || code === 'SQLITE_READONLY' || code === 'SQLITE_PERM' || code === 'SQLITE_IOERR') {
    return `Check that ${dbPath} and its directory exist and that Repairman may read and write them (a volume mounted read-write, not full).`;
  }
  return 'Check the file and its directory; if it is damaged, move it away (a new one is created).';
}

/** RM_JOURNAL for a failed step; details carry the reason and the advice apart (for /healthz). */
export function journalError(dbPath: string, doing: string, err: unknown, advice: string): RepairmanError {
  const reason = errorMessage(err);
  return new RepairmanError('RM_JOURNAL', `the journal database ${dbPath}: ${doing} failed (${reason}). ${advice}`, {
    cause: err,
    details: { dbPath, doing, reason, advice },
  });
}

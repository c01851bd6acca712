// The journal's errors: RM_JOURNAL with what failed and what the admin can do about it.
import { RepairmanError, errorMessage } from '../errors.js';
import { sqliteCode } from './sqlite.js';

export function journalError(dbPath: string, doing: string, err: unknown, advice: string): RepairmanError {
  const reason = errorMessage(err);
  return new RepairmanError('RM_JOURNAL', `the journal database ${dbPath}: ${doing} failed (${reason}). ${advice}`, {
    cause: err,
    details: { dbPath, doing, reason },
  });
}

export const DAMAGED_ADVICE =
  'The file is damaged or is not a Repairman journal: stop Repairman, move the file away (a new one is ' +
  'created, history and restart budgets start empty), or point --db-path / DB_PATH at another file.';

export function adviceFor(err: unknown, dbPath: string): string {
  const code = sqliteCode(err);
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') return DAMAGED_ADVICE;
  if (code === 'SQLITE_CANTOPEN' || code === 'SQLITE_READONLY' || code === 'SQLITE_PERM')
    return `Check that ${dbPath} and its directory exist and that Repairman may read and write them (a volume mounted read-write).`;
  if (code === 'SQLITE_FULL') return 'The disk is full: free some space.';
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED')
    return 'Another process holds the database locked; try again in a moment.';
  return `Check the file and its directory; if it is damaged, move it away (a new one is created).`;
}

// The journal file on disk: created private, since it holds container names and label values.
import { closeSync, fchmodSync, openSync } from 'node:fs';

/** The mode of a journal file Repairman creates; SQLite gives its -wal and -shm files the same. */
export const JOURNAL_FILE_MODE = 0o600;

/**
 * Creates an absent journal file with mode 0600, whatever the umask (SQLite would make it 0644 minus
 * the umask). An existing file is left as it is: never widened. Failures are left to SQLite's open,
 * which explains them.
 */
export function createPrivateFile(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'wx', JOURNAL_FILE_MODE);
  } catch {
    return;
  }
  try {
    fchmodSync(fd, JOURNAL_FILE_MODE);
  } catch {
    // A file system without modes (some network mounts): nothing more to do.
  } finally {
    closeSync(fd);
  }
}

// What the commands on the --db-path file share (history, reset, pause, resume): the file, or why
// there is none (a ':memory:' journal lives only inside the running Repairman), and one form for
// their errors: `repairman COMMAND: message [CODE]`.
import { errorMessage, isRepairmanError } from '../errors.js';
import { openJournal } from '../journal/journal.js';
import type { Journal } from '../journal/types.js';
import type { LoadedSettings } from './open-settings.js';
import type { CommandContext } from './types.js';

/**
 * The journal file, or the exit code after saying why not. `inMemory` ends the sentence "the journal
 * is in memory (...), so " with what that means for this command (newline-terminated lines).
 */
export function openJournalFile(
  ctx: CommandContext,
  command: string,
  settings: LoadedSettings['settings'],
  how: { readonly: true } | { mustExist: true },
  inMemory: string,
): Journal | number {
  if (settings.dbPath === ':memory:' || settings.dbPath === '') {
    ctx.stderr.write(`repairman ${command}: the journal is in memory (--db-path / DB_PATH is ":memory:"), so ${inMemory}`);
    return 1;
  }
  try {
    return openJournal({ dbPath: settings.dbPath, ...how });
  } catch (err) {
    return commandFailed(ctx, command, err);
  }
}

/** Says what failed (with its stable code) and returns exit code 1. */
export function commandFailed(ctx: CommandContext, command: string, err: unknown): number {
  ctx.stderr.write(`repairman ${command}: ${errorMessage(err)}${isRepairmanError(err) ? ` [${err.code}]` : ''}\n`);
  return 1;
}

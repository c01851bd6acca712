// What `repairman pause` and `repairman resume` share: NAME (optional, '*' = every container) and the
// journal file, which is how a running instance learns of them (it reads the pauses every second;
// the HTTP server stays read-only).
import { oneLine } from '../journal/format.js';
import type { Journal } from '../journal/types.js';
import { openJournalFile } from './journal-file.js';
import type { LoadedSettings } from './open-settings.js';
import type { CommandContext } from './types.js';

/** The container a pause or resume is about ('*': all), or the exit code after a usage message. */
export function maintenanceTarget(ctx: CommandContext, command: string, positionals: readonly string[]): string | number {
  if (positionals.length > 1) {
    ctx.stderr.write(`repairman ${command}: at most one container NAME (got ${positionals.length}: ${positionals.map(oneLine).join(', ')}) [RM_USAGE]\n`);
    return 2;
  }
  const name = (positionals[0] ?? '').replace(/^\//, '');
  if (positionals.length === 1 && (name === '' || name === '*')) {
    ctx.stderr.write(`repairman ${command}: NAME is a container name; leave it out for every container [RM_USAGE]\n`);
    return 2;
  }
  return name === '' ? '*' : name;
}

/** The journal file the running instance uses, or the exit code after saying why not. */
export function openMaintenanceJournal(ctx: CommandContext, command: string, settings: LoadedSettings['settings']): Journal | number {
  return openJournalFile(ctx, command, settings, { mustExist: true },
    'a running Repairman cannot learn of a pause.\n' +
      '  Run Repairman with --db-path /data/repairman.db (a file on a volume) and point this command at the same file.\n');
}

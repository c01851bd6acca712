// `repairman reset NAME`: clears the restart budget of one container (give-up, waits, streak, frame)
// in --db-path and journals a `reset` entry. A running instance on the same file notices it before
// its next decision for NAME (Journal.resetsAfter) and starts that container's budget afresh.
import { closest } from '../util/suggest.js';
import { oneLine } from '../journal/format.js';
import { commandFailed, openJournalFile } from './journal-file.js';
import type { CommandRun } from './types.js';
import { openSettings } from './open-settings.js';

export const run: CommandRun = async (ctx) => {
  const loaded = openSettings(ctx, 'reset');
  if (typeof loaded === 'number') return loaded;
  const { settings, positionals } = loaded;
  if (positionals.length !== 1 || !positionals[0]?.replace(/^\//, '')) {
    ctx.stderr.write(
      positionals.length === 0
        ? 'repairman reset: which container? Usage: repairman reset NAME [--db-path PATH] [RM_USAGE]\n'
        : `repairman reset: one container NAME at a time (got ${positionals.length}: ${positionals.map(oneLine).join(', ')}) [RM_USAGE]\n`,
    );
    return 2;
  }
  const name = (positionals[0] as string).replace(/^\//, '');

  const journal = openJournalFile(ctx, 'reset', settings, { mustExist: true },
    'restart budgets live only inside the running Repairman and cannot be changed from outside.\n' +
      '  Restarting that Repairman clears every budget; to reset one container at a time, run Repairman with ' +
      '--db-path /data/repairman.db (a file on a volume) and point this command at the same file.\n');
  if (typeof journal === 'number') return journal;
  try {
    const entry = journal.resetContainer(name, Date.now());
    if (!entry) {
      const known = [...journal.loadBudgets().keys()];
      const guess = closest(name, known);
      ctx.stderr.write(
        `repairman reset: no restart budget is stored for "${oneLine(name)}" in ${settings.dbPath}: nothing to reset.` +
          (guess ? ` Did you mean ${guess}?` : '') +
          ' NAME is the container name without the leading slash (as `docker ps` shows it).\n',
      );
      return 1;
    }
    ctx.stdout.write(
      `Restart budget of ${oneLine(name)} reset (give-up, waits and restart streak cleared; journal entry #${entry.num}).\n` +
        `A running Repairman using ${settings.dbPath} picks this up before its next decision for ${oneLine(name)}.\n`,
    );
    return 0;
  } catch (err) {
    return commandFailed(ctx, 'reset', err);
  } finally {
    journal.close();
  }
};

// `repairman resume [NAME]` (docs/behaviour.md §12): ends the maintenance pause of NAME, or without NAME
// every pause (of all containers and of each one). A running instance on the same --db-path acts again
// within a second.
import { oneLine } from '../journal/format.js';
import { commandFailed } from './journal-file.js';
import { maintenanceTarget, openMaintenanceJournal } from './maintenance.js';
import { openSettings } from './open-settings.js';
import type { CommandRun } from './types.js';

export const run: CommandRun = async (ctx) => {
  const loaded = openSettings(ctx, 'resume');
  if (typeof loaded === 'number') return loaded;
  const { settings, positionals } = loaded;
  const target = maintenanceTarget(ctx, 'resume', positionals);
  if (typeof target === 'number') return target;
  const journal = openMaintenanceJournal(ctx, 'resume', settings);
  if (typeof journal === 'number') return journal;
  try {
    const resumed = journal.resume(target, Date.now());
    const allStillPaused = target !== '*' && journal.pauses().some((p) => p.container === '*' && (p.untilMs === null || p.untilMs > Date.now()));
    if (resumed.length === 0) {
      ctx.stdout.write(`Nothing to resume: ${target === '*' ? 'no pause is in force' : `${oneLine(target)} has no pause of its own`}.${allStillPaused ? ' Every container is paused: `repairman resume` without NAME ends that.' : ''}\n`);
      return 0;
    }
    const names = resumed.map((c) => (c === '*' ? 'every container' : oneLine(c)));
    ctx.stdout.write(
      `Resumed ${names.join(', ')}.` + (allStillPaused ? ' Every container is still paused: `repairman resume` without NAME ends that.' : '') + '\n' +
        `A running Repairman using ${settings.dbPath} acts again within a second.\n`,
    );
    return 0;
  } catch (err) {
    return commandFailed(ctx, 'resume', err);
  } finally {
    journal.close();
  }
};

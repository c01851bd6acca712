// `repairman pause [NAME] [--for 30m]` (docs/behaviour.md §12): no action on NAME (or on any container)
// until the time is up or `repairman resume`. Stored in --db-path with a journal entry; a running
// instance on the same file follows within a second and keeps it across its own restarts.
import { secondsParser, secondsExpected } from '../config/parsers.js';
import { oneLine } from '../journal/format.js';
import { commandFailed } from './journal-file.js';
import { maintenanceTarget, openMaintenanceJournal } from './maintenance.js';
import { openSettings } from './open-settings.js';
import type { CommandRun } from './types.js';

const parseFor = secondsParser({ min: 1 });

export const run: CommandRun = async (ctx) => {
  const loaded = openSettings(ctx, 'pause');
  if (typeof loaded === 'number') return loaded;
  const { settings, positionals, options } = loaded;
  const target = maintenanceTarget(ctx, 'pause', positionals);
  if (typeof target === 'number') return target;
  let forSec: number | null = null;
  if (options.for !== undefined) {
    const parsed = parseFor(String(options.for));
    if (!parsed.ok) {
      ctx.stderr.write(`repairman pause: --for expects ${secondsExpected({ min: 1 })}, got "${oneLine(String(options.for))}" [RM_USAGE]\n`);
      return 2;
    }
    forSec = parsed.value;
  }
  const journal = openMaintenanceJournal(ctx, 'pause', settings);
  if (typeof journal === 'number') return journal;
  try {
    const now = Date.now();
    const untilMs = forSec === null ? null : now + forSec * 1000;
    const entry = journal.setPause(target, untilMs, now);
    const who = target === '*' ? 'every container' : oneLine(target);
    const until = untilMs === null ? 'until `repairman resume' + (target === '*' ? '`' : ` ${oneLine(target)}\``) : `until ${new Date(untilMs).toISOString()}`;
    ctx.stdout.write(
      `Paused ${who} for maintenance ${until} (journal entry #${entry.num}).\n` +
        `A running Repairman using ${settings.dbPath} takes no action on ${target === '*' ? 'any container' : 'it'} from within a second.\n`,
    );
    return 0;
  } catch (err) {
    return commandFailed(ctx, 'pause', err);
  } finally {
    journal.close();
  }
};

// `repairman history [NAME]`: the journal kept in --db-path, newest first, as a table (times in TZ)
// or JSON. It opens the database read-only, so it can run beside the instance that writes it and never
// creates or migrates a file. With ':memory:' there is nothing outside the running process to read.
import { renderEntries } from '../journal/format.js';
import { timeFormatter } from '../util/time-format.js';
import { commandFailed, openJournalFile } from './journal-file.js';
import type { CommandRun } from './types.js';
import { openSettings } from './open-settings.js';

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 10_000;

function wholeNumber(raw: string | boolean | undefined): number | null {
  if (typeof raw !== 'string' || !/^\s*\d+\s*$/.test(raw)) return null;
  return Number(raw.trim());
}

/** Where a running instance serves its journal, for the ':memory:' explanation. */
export function apiHint(httpAddress: string, httpPort: number, httpPrefix: string): string {
  if (httpPort === 0) return '';
  const host = httpAddress === '0.0.0.0' || httpAddress === '::' || httpAddress === '' ? '127.0.0.1' : httpAddress;
  const prefix = httpPrefix.replace(/\/+$/, '');
  return `http://${host.includes(':') ? `[${host}]` : host}:${httpPort}${prefix}/api/events`;
}

export const run: CommandRun = async (ctx) => {
  const loaded = openSettings(ctx, 'history');
  if (typeof loaded === 'number') return loaded;
  const { settings, positionals, options } = loaded;
  const usage: string[] = [];
  if (positionals.length > 1) usage.push(`history takes at most one container NAME (got ${positionals.length}: ${positionals.join(', ')})`);
  let limit = DEFAULT_LIMIT;
  if (options.limit !== undefined) {
    const n = wholeNumber(options.limit);
    if (n === null || n < 1 || n > MAX_LIMIT) usage.push(`--limit expects a whole number from 1 to ${MAX_LIMIT}, got "${String(options.limit)}"`);
    else limit = n;
  }
  let beforeNum: number | undefined;
  if (options.before !== undefined) {
    const n = wholeNumber(options.before);
    if (n === null || n < 1) usage.push(`--before expects an entry number (1 or more), got "${String(options.before)}"`);
    else beforeNum = n;
  }
  if (usage.length) {
    ctx.stderr.write(usage.map((u) => `repairman history: ${u} [RM_USAGE]\n`).join(''));
    return 2;
  }
  const name = positionals[0]?.replace(/^\//, '');

  const url = apiHint(settings.httpAddress, settings.httpPort, settings.httpPrefix);
  const journal = openJournalFile(ctx, 'history', settings, { readonly: true },
    'there is no persisted history to read: it lives only inside the running Repairman.\n' +
      (url ? `  Ask the running instance instead: curl ${url}\n` : '') +
      '  Or run Repairman with --db-path /data/repairman.db (a file on a volume) and point this command at the same file.\n');
  if (typeof journal === 'number') return journal;
  try {
    const entries = journal.list({ limit, beforeNum, container: name });
    if (options.json === true) {
      const out = entries.map((e) => ({ ...e, date: new Date(e.atMs).toISOString() }));
      ctx.stdout.write(JSON.stringify(out, null, 2) + '\n');
      return 0;
    }
    if (entries.length === 0) {
      ctx.stdout.write(name ? `No journal entries for ${name} in ${settings.dbPath}.\n` : `The journal in ${settings.dbPath} is empty.\n`);
      return 0;
    }
    const time = timeFormatter(ctx.env.TZ);
    if (time.unknownZone !== undefined) ctx.stderr.write(`repairman history: unknown time zone TZ="${time.unknownZone}"; showing UTC\n`);
    ctx.stdout.write(renderEntries(entries, time));
    const oldest = entries.at(-1);
    if (entries.length === limit && oldest) {
      ctx.stdout.write(`(the newest ${limit}; for older entries add --before ${oldest.num})\n`);
    }
    return 0;
  } catch (err) {
    return commandFailed(ctx, 'history', err);
  } finally {
    journal.close();
  }
};

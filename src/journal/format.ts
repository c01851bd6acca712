// Showing journal entries to people: times in TZ (storage is always UTC, SPEC section 1) and plain
// aligned text tables for `repairman history` (and anything else printing rows to a terminal).
import { maskUrlsInText } from '../util/mask.js';
import type { JournalEntry } from './types.js';

export interface TimeFormatter {
  (ms: number): string;
  /** The zone actually used (an unknown TZ falls back to UTC). */
  readonly timeZone: string;
  /** Set when TZ named a zone this Node.js does not know. */
  readonly unknownZone?: string;
}

/**
 * `2024-01-31 13:05:09 +01:00` (or `... UTC`): sortable and unambiguous whatever the locale, in `tz`
 * (the TZ variable; undefined = the system's zone). Offsets rather than abbreviations: Intl only knows
 * abbreviations for some zones and would print "GMT+1" for the others anyway.
 */
export function timeFormatter(tz: string | undefined): TimeFormatter {
  let unknownZone: string | undefined;
  let fmt: Intl.DateTimeFormat;
  const options: Intl.DateTimeFormatOptions = {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'longOffset',
  };
  // POSIX lets TZ start with ':' (":Europe/Warsaw"); Intl does not.
  const zone = tz?.trim().replace(/^:/, '') || undefined;
  try {
    fmt = new Intl.DateTimeFormat('en-US', { ...options, timeZone: zone });
  } catch {
    unknownZone = zone;
    fmt = new Intl.DateTimeFormat('en-US', { ...options, timeZone: 'UTC' });
  }
  const resolved = fmt.resolvedOptions().timeZone;
  const isUtc = /^(Etc\/)?(UTC|UCT|GMT|Zulu|Universal)$/i.test(resolved);
  const f = ((ms: number): string => {
    if (!Number.isFinite(ms)) return '?';
    const p: Record<string, string> = {};
    for (const part of fmt.formatToParts(new Date(ms))) p[part.type] = part.value;
    const offset = (p.timeZoneName ?? '').replace(/^GMT/, '');
    return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second} ${isUtc ? 'UTC' : offset || '+00:00'}`;
  }) as TimeFormatter;
  Object.defineProperty(f, 'timeZone', { value: resolved });
  if (unknownZone !== undefined) Object.defineProperty(f, 'unknownZone', { value: unknownZone });
  return f;
}

/** One line, no control characters (a message must not break the table or the terminal). */
export function oneLine(text: string): string {
  return maskUrlsInText(text)
    .replace(/\r?\n/g, ' ⏎ ')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
}

/** Columns padded to their widest cell, two spaces apart; the last column is not padded. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** The history table: number, time in TZ, container, kind, message. */
export function renderEntries(entries: readonly JournalEntry[], time: TimeFormatter): string {
  return renderTable(
    ['#', 'TIME', 'CONTAINER', 'KIND', 'MESSAGE'],
    entries.map((e) => [String(e.num), time(e.atMs), oneLine(e.container), e.kind, oneLine(e.message)]),
  );
}

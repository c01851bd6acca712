// Showing journal entries to people: plain aligned text tables for `repairman history` (and anything
// else printing rows to a terminal); times come formatted (src/util/time-format.ts).
import { maskUrlsInText } from '../util/mask.js';
import type { JournalEntry } from './types.js';

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
export function renderEntries(entries: readonly JournalEntry[], time: (ms: number) => string): string {
  return renderTable(
    ['#', 'TIME', 'CONTAINER', 'KIND', 'MESSAGE'],
    entries.map((e) => [String(e.num), time(e.atMs), oneLine(e.container), e.kind, oneLine(e.message)]),
  );
}

// The words people read about healing: durations, and the facts a notification carries (the times
// in them come from src/util/time-format.ts). Pure.
import type { ContainerInspect } from '../docker/types.js';

/** "90 s", "10 min", "7 min 30 s", "1 h 30 min": a duration as people say it, exact to the second. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  // A budget frame of 450 s read "3 in 8 min": the seconds are kept so the figure is the setting's.
  const parts = h >= 2 ? [`${h} h`, m ? `${m} min` : ''] : [`${h * 60 + m} min`];
  if (rest) parts.push(`${rest} s`);
  return parts.filter(Boolean).join(' ');
}

/** The output of the last health check, trimmed; undefined without one. */
export function lastHealthOutput(inspect: ContainerInspect | null | undefined, maxChars = 2000): string | undefined {
  const log = inspect?.State?.Health?.Log;
  if (!log || log.length === 0) return undefined;
  const last = log[log.length - 1];
  if (!last) return undefined;
  const text = `exit code ${last.ExitCode}${last.Output ? `: ${last.Output.trim()}` : ''}`;
  return text.length > maxChars ? `${text.slice(0, maxChars)}…` : text;
}

/** The last lines of a log, each cut to a readable length (a notification is not a log archive). */
export function trimLogLines(lines: string[], maxLines = 10, maxCharsPerLine = 500): string[] {
  return lines
    .slice(-maxLines)
    .map((l) => l.replace(/\r?\n$/, ''))
    .map((l) => (l.length > maxCharsPerLine ? `${l.slice(0, maxCharsPerLine)}…` : l));
}

// The words people read about healing: times in their time zone (TZ), what happens next, and the
// facts a notification carries. Pure except for the time zone Node takes from TZ.
import type { ContainerInspect } from '../docker/types.js';

// Building an Intl.DateTimeFormat is slow, and its ICU objects stay in malloc'd memory that the heap
// does not see: one per restart (two with the zone check) grew RSS by ~25 KB a call, 1,000 calls
// +26 MB, not given back after a GC. So: one formatter per zone, one check per zone name, and the
// process's zone looked up again only when TZ changes (Node re-reads the zone only then).
const MAX_CACHED_ZONES = 16;
const formatters = new Map<string, Intl.DateTimeFormat>();
const knownZones = new Map<string, boolean>();
let systemZone: { tz: string | undefined; zone: string } | null = null;

function remember<V>(cache: Map<string, V>, key: string, value: V): V {
  // Zone names come from settings (one or two values); a bound keeps a caller passing many cheap.
  if (cache.size >= MAX_CACHED_ZONES) cache.clear();
  cache.set(key, value);
  return value;
}

function formatterFor(zone: string): Intl.DateTimeFormat {
  return (
    formatters.get(zone) ??
    remember(formatters, zone, new Intl.DateTimeFormat('en-GB', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    }))
  );
}

/** "2024-05-01 12:05:30 (Europe/Warsaw)": storage is UTC, people read local time (SPEC 1, TZ). */
export function formatWhen(atMs: number, timeZone?: string): string {
  const zone = resolveZone(timeZone);
  const parts = formatterFor(zone).formatToParts(new Date(atMs));
  const get = (t: string): string => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}:${get('second')} (${zone})`;
}

function isKnownZone(timeZone: string): boolean {
  let known = knownZones.get(timeZone);
  if (known === undefined) {
    try {
      new Intl.DateTimeFormat('en-GB', { timeZone });
      known = true;
    } catch {
      known = false;
    }
    remember(knownZones, timeZone, known);
  }
  return known;
}

/** A valid IANA zone: the one asked for, else the process's (from TZ or the system), else UTC. */
export function resolveZone(timeZone?: string): string {
  // An invalid TZ must not break messages; it falls through to the system zone.
  if (timeZone && isKnownZone(timeZone)) return timeZone;
  const tz = process.env.TZ;
  if (!systemZone || systemZone.tz !== tz) systemZone = { tz, zone: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC' };
  return systemZone.zone;
}

/** "90 s", "10 min", "1 h 30 min": a duration as people say it. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m} min`;
  const h = Math.floor(m / 60);
  const rest = m % 60;
  return rest ? `${h} h ${rest} min` : `${h} h`;
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

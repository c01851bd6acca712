// Times people read, in one style everywhere (journal messages, notifications, `history`, `status`):
// "2024-05-01 14:03:04 +02:00", or "... UTC" in UTC. Stored times are UTC; people read them in TZ
// (docs/behaviour.md §1). An offset, not a zone name or abbreviation: it is sortable, unambiguous in
// the hour a DST change repeats, and Intl knows abbreviations for some zones only ("GMT+2" otherwise).
// The status page runs in the browser and keeps its own copy of the date-time part, the clock and the
// short duration (src/http/page-view.ts; src/http/page-time.test.ts proves the copies agree).

// Building an Intl.DateTimeFormat is slow, and its ICU objects stay in malloc'd memory the heap does
// not see: one per call grew RSS by ~25 KB, not given back after a GC. So: one formatter per zone,
// one check per zone name, both bounded (zone names come from settings: one or two values).
const MAX_CACHED_ZONES = 16;
const formatters = new Map<string, Intl.DateTimeFormat>();
const knownZones = new Map<string, string | null>();
let processZone: { tz: string | undefined; zone: string } | null = null;

function remember<V>(cache: Map<string, V>, key: string, value: V): V {
  if (cache.size >= MAX_CACHED_ZONES) cache.clear();
  cache.set(key, value);
  return value;
}

/**
 * The canonical name of a zone Intl knows (" europe/warsaw" -> "Europe/Warsaw"; POSIX's leading ':'
 * as in ":Europe/Warsaw" allowed), else null.
 */
export function knownTimeZone(name: string): string | null {
  const cached = knownZones.get(name);
  if (cached !== undefined) return cached;
  const wanted = name.trim().replace(/^:/, '');
  let zone: string | null = null;
  if (wanted) {
    try {
      zone = new Intl.DateTimeFormat('en-GB', { timeZone: wanted }).resolvedOptions().timeZone || null;
    } catch {
      zone = null;
    }
  }
  return remember(knownZones, name, zone);
}

/** The zone Node derived for the process from TZ or the system, else UTC; looked up again when TZ changes. */
export function processTimeZone(): string {
  const tz = process.env.TZ;
  if (!processZone || processZone.tz !== tz) {
    // Node reports no zone (or "Etc/Unknown") for a TZ it cannot use.
    const derived = Intl.DateTimeFormat().resolvedOptions().timeZone;
    processZone = { tz, zone: (derived && knownTimeZone(derived)) || 'UTC' };
  }
  return processZone.zone;
}

/**
 * The zone times are shown in: `tz` (the TZ setting) when Intl knows it, the process's zone when none
 * is given, UTC for a zone Intl does not know (and the times then say "UTC", so nobody is misled).
 */
export function resolveTimeZone(tz?: string): string {
  if (tz === undefined || !tz.trim().replace(/^:/, '')) return processTimeZone();
  return knownTimeZone(tz) ?? 'UTC';
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
      timeZoneName: 'longOffset',
    }))
  );
}

const UTC_NAMES = /^(Etc\/)?(UTC|UCT|GMT|Zulu|Universal|Greenwich)$/i;

/** The parts of a time in `zone` (already resolved): "2024-05-01 14:03:04" and "+02:00" or "UTC". */
function parts(ms: number, zone: string): { dateTime: string; offset: string } {
  const p: Record<string, string> = {};
  for (const part of formatterFor(zone).formatToParts(new Date(ms))) p[part.type] = part.value;
  const offset = UTC_NAMES.test(zone) ? 'UTC' : (p.timeZoneName ?? '').replace(/^GMT/, '') || '+00:00';
  return { dateTime: `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`, offset };
}

/** "2024-05-01 14:03:04" in the zone (see resolveTimeZone), without saying which: for a page that says it once. */
export function formatDateTime(ms: number, tz?: string): string {
  if (!Number.isFinite(ms)) return 'unknown time';
  return parts(ms, resolveTimeZone(tz)).dateTime;
}

/** "2024-05-01 14:03:04 +02:00" ("... UTC" in UTC) in the zone (see resolveTimeZone); never throws. */
export function formatTime(ms: number, tz?: string): string {
  if (!Number.isFinite(ms)) return 'unknown time';
  const { dateTime, offset } = parts(ms, resolveTimeZone(tz));
  return `${dateTime} ${offset}`;
}

export interface TimeFormatter {
  (ms: number): string;
  /** The zone actually used. */
  readonly timeZone: string;
  /** Set when TZ named a zone this Node.js does not know (times are then in UTC). */
  readonly unknownZone?: string;
}

/** formatTime for one zone, with the zone it settled on: for a command that warns about a bad TZ once. */
export function timeFormatter(tz: string | undefined): TimeFormatter {
  const zone = resolveTimeZone(tz);
  const f = ((ms: number): string => formatTime(ms, zone)) as TimeFormatter;
  Object.defineProperty(f, 'timeZone', { value: zone });
  const given = tz?.trim().replace(/^:/, '');
  if (given && knownTimeZone(given) === null) Object.defineProperty(f, 'unknownZone', { value: given });
  return f;
}

/** Only the time when it falls on the same day as now (in the zone), else date and time to the minute: "14:03:04", "2024-05-01 14:03". */
export function formatClock(ms: number, nowMs: number, tz?: string): string {
  const a = formatDateTime(ms, tz);
  const b = formatDateTime(nowMs, tz);
  return a.slice(0, 10) === b.slice(0, 10) ? a.slice(11) : a.slice(0, 16);
}

/** 75_000 -> "1m 15s"; 3_723_000 -> "1h 2m"; 50 h -> "2d 2h": how long, short (the status page, `status`, `explain`). */
export function shortDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

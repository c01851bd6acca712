// Times are stored in UTC and shown in TZ (SPEC 1): the zone named by env TZ when Intl knows it,
// else the zone Node derived for the process, else UTC (Node reports none for a TZ it cannot use).

/** The canonical name of a zone Intl knows ("europe/warsaw" -> "Europe/Warsaw"), else null. */
export function canonicalTimeZone(tz: string): string | null {
  try {
    return new Intl.DateTimeFormat('en', { timeZone: tz }).resolvedOptions().timeZone || null;
  } catch {
    return null;
  }
}

export function resolveTimeZone(tz: string | undefined): string {
  const wanted = tz?.trim();
  const known = wanted ? canonicalTimeZone(wanted) : null;
  if (known) return known;
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

// API version negotiation, as the docker CLI does it: talk the newest version both sides know. Never
// a pinned version: a pinned low one loses fields on new engines, a pinned high one is refused by old
// engines ("client version is too new").

/** The newest Engine API version this client knows the shapes of. */
export const CLIENT_MAX_API_VERSION = '1.51';
/** The oldest engine Repairman supports (Docker 20.10); older ones lack fields it reads. */
export const CLIENT_MIN_API_VERSION = '1.41';

/** [major, minor] of "1.41", or undefined when it is not such a version. */
export function parseApiVersion(text: string | undefined | null): [number, number] | undefined {
  if (typeof text !== 'string') return undefined;
  const m = /^\s*(\d{1,4})\.(\d{1,4})\s*$/.exec(text);
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2])];
}

/** Negative, 0 or positive like a sort comparator; both must parse. */
export function compareApiVersions(a: string, b: string): number {
  const pa = parseApiVersion(a);
  const pb = parseApiVersion(b);
  if (!pa || !pb) throw new TypeError(`not an API version: ${pa ? b : a}`);
  return pa[0] - pb[0] || pa[1] - pb[1];
}

export type Negotiation =
  | { ok: true; version: string }
  | { ok: false; tooOld: boolean; reason: string };

/**
 * The version to talk given the engine's newest (its /_ping API-Version header or /version ApiVersion).
 * Normalises "1.041" style text to "1.41".
 */
export function negotiateApiVersion(engineMax: string | undefined | null, clientMax = CLIENT_MAX_API_VERSION, clientMin = CLIENT_MIN_API_VERSION): Negotiation {
  const engine = parseApiVersion(engineMax);
  if (!engine) return { ok: false, tooOld: false, reason: `the engine reported no usable API version (${JSON.stringify(engineMax ?? null)})` };
  const text = `${engine[0]}.${engine[1]}`;
  if (compareApiVersions(text, clientMin) < 0) {
    return { ok: false, tooOld: true, reason: `the engine speaks API ${text}, older than ${clientMin} (Docker 20.10), the oldest Repairman supports` };
  }
  return { ok: true, version: compareApiVersions(text, clientMax) < 0 ? text : clientMax };
}

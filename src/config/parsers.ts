// Parsers shared by switches, environment variables and labels (docs/behaviour.md §1). They never throw:
// a bad value is a result, so label decoding (which runs for every container on every re-check) stays
// cheap and total. Every regular expression is compiled once, here.
import { isIP } from 'node:net';
import { normalizeLevel, type NotifyLevel } from '../notify/levels.js';
import { parseNotifyTarget, splitNotifyUrls } from '../notify/targets.js';
import { maskUrl } from '../util/mask.js';

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason?: string };
export type Parser<T> = (raw: string) => Parsed<T>;

const TRUE_WORDS = new Set(['true', 'yes', 'y', '1', 'on']);
const FALSE_WORDS = new Set(['false', 'no', 'n', '0', 'off']);

export const BOOLEAN_EXPECTED = 'true/false, yes/no, y/n, 1/0 or on/off (any case)';

export const parseBoolean: Parser<boolean> = (raw) => {
  const word = raw.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return { ok: true, value: true };
  if (FALSE_WORDS.has(word)) return { ok: true, value: false };
  return { ok: false };
};

/**
 * setTimeout cannot wait longer than 2^31-1 ms (about 24.8 days) and fires at once beyond that, so
 * no duration may exceed it: a wait that silently became "now" would be a restart nobody asked for.
 */
export const MAX_SECONDS = Math.floor((2 ** 31 - 1) / 1000); // 2147483 s
/** Counts (restarts, entries, parallelism) beyond this are typos, not intentions. */
export const MAX_COUNT = 1_000_000;

const DIGITS = /^\d+$/;
const DURATION = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/i;

export interface RangeOpts {
  min?: number;
  max?: number;
}

/** Whole seconds ("90") or a duration ("90s", "5m", "1h30m"). */
export function secondsParser(opts: RangeOpts = {}): Parser<number> {
  const min = opts.min ?? 0;
  const max = opts.max ?? MAX_SECONDS;
  return (raw) => {
    const text = raw.trim();
    if (text === '') return { ok: false, reason: 'empty' };
    let value: number;
    if (DIGITS.test(text)) {
      value = Number(text);
    } else {
      const m = DURATION.exec(text);
      if (!m || (m[1] === undefined && m[2] === undefined && m[3] === undefined)) return { ok: false };
      value = Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
    }
    if (!Number.isSafeInteger(value) || value > max) return { ok: false, reason: `more than ${max} seconds` };
    if (value < min) return { ok: false, reason: `less than ${min}` };
    return { ok: true, value };
  };
}

/** A whole number (no durations: these are counts). */
export function countParser(opts: RangeOpts = {}): Parser<number> {
  const min = opts.min ?? 0;
  const max = opts.max ?? MAX_COUNT;
  return (raw) => {
    const text = raw.trim();
    if (text === '') return { ok: false, reason: 'empty' };
    if (!DIGITS.test(text)) return { ok: false };
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value > max) return { ok: false, reason: `more than ${max}` };
    if (value < min) return { ok: false, reason: `less than ${min}` };
    return { ok: true, value };
  };
}

export function secondsExpected(opts: RangeOpts = {}): string {
  const min = opts.min ?? 0;
  return `whole seconds from ${min} to ${opts.max ?? MAX_SECONDS}, or a duration like 90s, 5m, 1h30m`;
}

export function countExpected(opts: RangeOpts = {}): string {
  return `a whole number from ${opts.min ?? 0} to ${opts.max ?? MAX_COUNT}`;
}

/** The notifier's own level words (src/notify/levels.ts), so configuration and sending never disagree. */
export const parseNotifyLevel: Parser<NotifyLevel> = (raw) => {
  const level = normalizeLevel(raw);
  return level ? { ok: true, value: level } : { ok: false };
};

/**
 * "" means no notifications. Several URLs are separated by commas or spaces (duplicates once); each
 * must be what the notifier can post to: http(s), optionally with a format prefix (json+https://...).
 * The notifier's own parser decides, so configuration and delivery never disagree.
 */
export const parseNotifyUrls: Parser<string[]> = (raw) => {
  const urls = splitNotifyUrls(raw);
  const bad: string[] = [];
  for (const url of urls) {
    const target = parseNotifyTarget(url);
    if (!target.ok) bad.push(target.error);
  }
  if (bad.length) return { ok: false, reason: bad.join('; ') };
  return { ok: true, value: urls };
};

export const parsePort: Parser<number> = countParser({ min: 0, max: 65535 });

// Characters that cannot be part of a request path as it arrives (a query or fragment would never match).
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused here
const PREFIX_FORBIDDEN = /[\s?#\u0000-\u001f\u007f]/;

/** Literal path prefix: a leading slash is added, trailing slashes removed; "" and "/" mean the root (""). */
export const parseHttpPrefix: Parser<string> = (raw) => {
  const text = raw.trim();
  if (PREFIX_FORBIDDEN.test(text)) return { ok: false, reason: 'contains a space, ?, # or a control character' };
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 47 /* / */) end--;
  const trimmed = text.slice(0, end);
  if (trimmed === '') return { ok: true, value: '' };
  return { ok: true, value: trimmed.startsWith('/') ? trimmed : `/${trimmed}` };
};

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** An IP address (v4 or v6, brackets allowed) or a host name to listen on. */
export const parseHttpAddress: Parser<string> = (raw) => {
  let text = raw.trim();
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  if (text === '') return { ok: false, reason: 'empty' };
  if (isIP(text) !== 0 || HOSTNAME.test(text)) return { ok: true, value: text };
  return { ok: false };
};

/** Any text, kept as is (the namespace may legitimately be empty). */
export const parseAnyText: Parser<string> = (raw) => ({ ok: true, value: raw });

/** Any text that is not empty after trimming (kept untrimmed: file names may end with a space). */
export const parseNonEmpty: Parser<string> = (raw) => (raw.trim() === '' ? { ok: false, reason: 'empty' } : { ok: true, value: raw });

/** Origins (scheme://host[:port]) separated by commas or spaces, each normalised (`LABEL_NOTIFY_ORIGINS`). */
export const parseOrigins: Parser<string[]> = (raw) => {
  const out: string[] = [];
  const bad: string[] = [];
  for (const part of raw.split(/[\s,]+/).filter((p) => p !== '')) {
    let url: URL | undefined;
    try {
      url = new URL(part);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '' || (url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username) {
      // An origin has no path: one given with a path (a webhook URL by mistake) may hold a token.
      bad.push(JSON.stringify(maskUrl(part)));
      continue;
    }
    if (!out.includes(url.origin)) out.push(url.origin);
  }
  if (bad.length) return { ok: false, reason: `not an origin: ${bad.join(', ')}` };
  return { ok: true, value: out };
};

/** Host names separated by commas or spaces, lower case (`HTTP_HOSTS`). */
export const parseHostNames: Parser<string[]> = (raw) => {
  const out: string[] = [];
  const bad: string[] = [];
  for (const part of raw.split(/[\s,]+/).filter((p) => p !== '')) {
    const host = part.toLowerCase().replace(/^\[|\]$/g, '');
    if (isIP(host) === 0 && !HOSTNAME.test(host)) bad.push(JSON.stringify(part));
    else if (!out.includes(host)) out.push(host);
  }
  if (bad.length) return { ok: false, reason: `not a host name: ${bad.join(', ')}` };
  return { ok: true, value: out };
};

/** Container names for depends_on: comma or space separated, a leading slash dropped, at most 64. */
export const parseContainerNames: Parser<string[]> = (raw) => {
  const names: string[] = [];
  for (const part of raw.split(/[,\s]+/)) {
    const name = part.trim().replace(/^\//, '');
    if (name === '') continue;
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name) || name.length > 255) return { ok: false, reason: `"${name.slice(0, 60)}" is not a container name` };
    if (!names.includes(name)) names.push(name);
  }
  if (names.length > 64) return { ok: false, reason: 'more than 64 names' };
  return { ok: true, value: names };
};

/** One of a few words, any case, spaces around ignored. */
export function choiceParser<T extends string>(words: readonly T[]): Parser<T> {
  return (raw) => {
    const word = raw.trim().toLowerCase();
    const found = words.find((w) => w === word);
    return found ? { ok: true, value: found } : { ok: false };
  };
}

// One line per event to stdout: JSON when stdout is not a terminal, readable text when it is.
// Secrets never reach a line: every string passes through maskUrlsInText, and fields whose name says
// they hold a secret (token, password, notify_url...) are masked whole. Logging never throws.
import type { Writable } from 'node:stream';
import { maskUrl, maskUrlsInText } from './util/mask.js';
import { printable } from './util/printable.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  out: Writable & { isTTY?: boolean };
  level?: LogLevel;
  /** Force a format; by default JSON unless out is a terminal. */
  format?: 'json' | 'text';
  now?: () => Date;
}

/** Field names whose values are secrets whatever they look like. */
const SECRET_KEY = /token|secret|passw|authori[sz]ation|api_?key|notify_?urls?|webhook/i;
const MAX_DEPTH = 6;

function maskSecretValue(value: unknown): unknown {
  if (typeof value === 'string') return value.includes('://') ? maskUrl(value) : value === '' ? '' : '***';
  if (Array.isArray(value)) return value.map(maskSecretValue);
  if (value === null || value === undefined || typeof value === 'boolean' || typeof value === 'number') return value;
  return '***';
}

function clean(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return maskUrlsInText(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'function' || typeof value === 'symbol') return String(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[nested]';
  seen.add(value);
  try {
    if (value instanceof Error) {
      const code = (value as { code?: unknown }).code;
      const message = maskUrlsInText(value.message);
      return code === undefined ? message : { message, code: clean(code, depth + 1, seen) };
    }
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
    if (Array.isArray(value)) return value.map((v) => clean(v, depth + 1, seen));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? maskSecretValue(v) : clean(v, depth + 1, seen);
    return out;
  } finally {
    // Only an object inside itself is circular; the same object twice side by side is fine.
    seen.delete(value);
  }
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** Local time for people (TZ applies), with its UTC offset so it is never ambiguous. */
function localTime(d: Date): string {
  const offsetMin = -d.getTimezoneOffset();
  const sign = offsetMin >= 0 ? '+' : '-';
  const abs = Math.abs(offsetMin);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** `untilMs=1796271750245` means nothing to people: a …Ms field holding a date (after 2001) is shown as a time. */
function isEpochField(key: string, value: unknown): value is number {
  return key.endsWith('Ms') && typeof value === 'number' && Number.isFinite(value) && value >= 1e12 && value < 1e14;
}

const NEEDS_QUOTES = /[\s"=]/;
const LINE_BREAKS = /[\r\n]+/g;

/** On a terminal, text from containers (label keys with ESC sequences) must not act: made visible. */
function textValue(v: unknown): string {
  if (typeof v === 'string') return v !== '' && !NEEDS_QUOTES.test(v) ? printable(v) : printable(JSON.stringify(v));
  return printable(JSON.stringify(v) ?? String(v));
}

export function createLogger(opts: LoggerOptions, bound: LogFields = {}): Logger {
  const min = ORDER[opts.level ?? 'info'];
  const format = opts.format ?? (opts.out.isTTY ? 'text' : 'json');
  const now = opts.now ?? (() => new Date());
  const write = (level: LogLevel, msg: string, fields: LogFields = {}): void => {
    if (ORDER[level] < min) return;
    let line: string;
    try {
      const all = clean({ ...bound, ...fields }) as LogFields;
      const text = maskUrlsInText(String(msg));
      const time = now();
      if (format === 'json') {
        line = JSON.stringify({ time: time.toISOString(), level, msg: text, ...all });
      } else {
        const extra = Object.entries(all)
          .map(([k, v]) => (isEpochField(k, v) ? `${k.slice(0, -2)}=${localTime(new Date(v))}` : `${k}=${textValue(v)}`))
          .join(' ');
        line = `${localTime(time)} ${level.toUpperCase().padEnd(5)} ${printable(text.replace(LINE_BREAKS, ' ⏎ '))}${extra ? ' ' + extra : ''}`;
      }
    } catch (err) {
      // A field that cannot be serialised must not take the program down, nor lose the event.
      line = JSON.stringify({ time: new Date().toISOString(), level, msg: maskUrlsInText(String(msg)), logError: String(err) });
    }
    try {
      opts.out.write(line + '\n');
    } catch {
      // stdout closed (EPIPE): nothing sensible left to do with a log line.
    }
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (fields) => createLogger(opts, { ...bound, ...fields }),
  };
}

/** The process logger: stdout, debug level with --debug, format by terminal or not. */
export function createProcessLogger(
  settings: { debug: boolean },
  out: Writable & { isTTY?: boolean } = process.stdout,
): Logger {
  return createLogger({ out, level: settings.debug ? 'debug' : 'info' });
}

/** A logger that drops everything (tests of code that logs). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};

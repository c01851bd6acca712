// One line per event to stdout: JSON when stdout is not a terminal, readable text when it is.
// Secrets never reach a line: every string field passes through maskUrlsInText.
import type { Writable } from 'node:stream';
import { maskUrlsInText } from './util/mask.js';

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

function clean(value: unknown): unknown {
  if (typeof value === 'string') return maskUrlsInText(value);
  if (value instanceof Error) return maskUrlsInText(value.message);
  if (Array.isArray(value)) return value.map(clean);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = clean(v);
    return out;
  }
  return value;
}

export function createLogger(opts: LoggerOptions, bound: LogFields = {}): Logger {
  const min = ORDER[opts.level ?? 'info'];
  const format = opts.format ?? (opts.out.isTTY ? 'text' : 'json');
  const now = opts.now ?? (() => new Date());
  const write = (level: LogLevel, msg: string, fields: LogFields = {}): void => {
    if (ORDER[level] < min) return;
    const all = clean({ ...bound, ...fields }) as LogFields;
    const time = now().toISOString();
    let line: string;
    if (format === 'json') {
      line = JSON.stringify({ time, level, msg: maskUrlsInText(msg), ...all });
    } else {
      const extra = Object.entries(all)
        .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`)
        .join(' ');
      line = `${time} ${level.toUpperCase().padEnd(5)} ${maskUrlsInText(msg)}${extra ? ' ' + extra : ''}`;
    }
    opts.out.write(line + '\n');
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (fields) => createLogger(opts, { ...bound, ...fields }),
  };
}

/** A logger that drops everything (tests of code that logs). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};

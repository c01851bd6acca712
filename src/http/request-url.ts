// Strict parsing of a request target. Node hands us req.url as the raw bytes of the request line
// (latin1); URLSearchParams would silently turn bad percent-encoding or invalid UTF-8 into U+FFFD.
// Here anything malformed is reported, so the server answers 400 instead of guessing.

export interface ParsedTarget {
  /** The path as sent (still percent-encoded). */
  rawPath: string;
  /** The decoded path. */
  path: string;
  /** Decoded query parameters, every value of every name, in order. */
  query: Map<string, string[]>;
}

export type ParseResult = { ok: true; target: ParsedTarget } | { ok: false; message: string };

function strictDecode(text: string, plusIsSpace: boolean): string | null {
  const s = plusIsSpace ? text.replace(/\+/g, ' ') : text;
  try {
    // decodeURIComponent throws URIError on a lone or truncated %XX and on bytes that are not UTF-8.
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

export function parseTarget(url: string | undefined): ParseResult {
  if (url === undefined || url === '') return { ok: false, message: 'empty request target' };
  // Only origin-form ("/path?query"); absolute-form and "*" are not served.
  if (!url.startsWith('/')) return { ok: false, message: 'request target must start with /' };
  // Raw bytes >= 0x80 or control characters: a well-behaved client percent-encodes them.
  if (/[^\x21-\x7e]/.test(url)) return { ok: false, message: 'request target holds characters that are not percent-encoded' };
  const hashAt = url.indexOf('#');
  const noHash = hashAt >= 0 ? url.slice(0, hashAt) : url;
  const q = noHash.indexOf('?');
  const rawPath = q >= 0 ? noHash.slice(0, q) : noHash;
  const rawQuery = q >= 0 ? noHash.slice(q + 1) : '';
  const path = strictDecode(rawPath, false);
  if (path === null) return { ok: false, message: 'the path is not valid percent-encoded UTF-8' };
  if (path.includes('\0')) return { ok: false, message: 'the path holds a NUL character' };
  const query = new Map<string, string[]>();
  if (rawQuery !== '') {
    for (const part of rawQuery.split('&')) {
      if (part === '') continue;
      const eq = part.indexOf('=');
      const k = strictDecode(eq >= 0 ? part.slice(0, eq) : part, true);
      const v = strictDecode(eq >= 0 ? part.slice(eq + 1) : '', true);
      if (k === null || v === null) return { ok: false, message: 'the query is not valid percent-encoded UTF-8' };
      const list = query.get(k);
      if (list) list.push(v);
      else query.set(k, [v]);
    }
  }
  return { ok: true, target: { rawPath, path, query } };
}

export class QueryError extends Error {
  constructor(readonly param: string, message: string) {
    super(message);
    this.name = 'QueryError';
  }
}

/** The one value of a parameter, undefined when absent; repeated is an error (which one would win?). */
export function single(query: Map<string, string[]>, name: string): string | undefined {
  const list = query.get(name);
  if (!list) return undefined;
  if (list.length > 1) throw new QueryError(name, `"${name}" is given ${list.length} times; give it once`);
  return list[0];
}

/** A whole number in [min, max] written in plain decimal digits (no sign, no exponent, no spaces). */
export function intParam(query: Map<string, string[]>, name: string, opts: { min: number; max: number; def?: number }): number | undefined {
  const raw = single(query, name);
  if (raw === undefined) return opts.def;
  const shown = JSON.stringify(raw.length > 40 ? `${raw.slice(0, 40)}…` : raw);
  if (!/^[0-9]{1,16}$/.test(raw)) {
    throw new QueryError(name, `"${name}" must be a whole number from ${opts.min} to ${opts.max}, got ${shown}`);
  }
  const n = Number(raw);
  if (n < opts.min || n > opts.max) {
    throw new QueryError(name, `"${name}" must be a whole number from ${opts.min} to ${opts.max}, got ${shown}`);
  }
  return n;
}

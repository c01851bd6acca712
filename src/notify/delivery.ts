// One delivery attempt (a POST with a timeout) and the retry policy around it. The URL is a secret:
// nothing here returns or logs it except masked (scheme and host).
import { maskUrlsInText } from '../util/mask.js';
import { GetError, openRequest, type OpenedRequest } from '../http-client/client.js';
import type { PreparedRequest } from './format.js';
import type { NotifyTarget } from './targets.js';

export interface AttemptResult {
  ok: boolean;
  /** HTTP status when an answer came. */
  status?: number;
  /** Worth another attempt: network error, timeout, 408, 429, 5xx. */
  retryable: boolean;
  /** From Retry-After (429/503), milliseconds from now, not capped here. */
  retryAfterMs?: number;
  /** Why it failed, masked; undefined when ok. */
  error?: string;
  /** The attempt was cut by the caller's signal (shutdown), not by its own timeout. */
  aborted: boolean;
  durationMs: number;
}

export interface AttemptOptions {
  timeoutMs: number;
  /** How the POST is sent; httpTransport (node:http / node:https) unless a test gives another. */
  transport?: NotifyTransport;
  /** Aborts the attempt (shutdown). */
  signal?: AbortSignal;
  now?: () => number;
  /** Read the start of an error answer's body into the error (default true). False for URLs from
   * labels: their answers are not logged nor shown (a label may point at an internal service). */
  readBody?: boolean;
}

/** An answer whose status line and headers are in; its body is read on demand. */
export interface PostAnswer {
  status: number;
  /** The reason phrase ("Forbidden"); '' when the server sent none. */
  statusText: string;
  /** A header's value (name in lower case); undefined when absent. */
  header(name: string): string | undefined;
  /** The start of the body: at most maxChars characters (read: at most 4 bytes each); the rest is
   * never read. Rejects when the connection fails or is cut. */
  readSome(maxChars: number): Promise<string>;
  /** Ends the exchange and closes the connection; idempotent. */
  close(): void;
}

/**
 * Sends one POST of url with the request's headers and body, exactly (plus Content-Length and Host),
 * and resolves once the answer's headers are in. Never follows a redirect. Rejects with the network
 * error as Node gives it ("connect ECONNREFUSED 127.0.0.1:9"). The signal ends it at any point (the
 * attempt's timeout, shutdown); attemptDelivery does not rely on that to settle in time.
 */
export type NotifyTransport = (url: string, request: PreparedRequest, signal: AbortSignal) => Promise<PostAnswer>;

/** node:http / node:https (loaded only for https URLs), a connection per attempt, no keep-alive. */
export const httpTransport: NotifyTransport = async (url, request, signal) => {
  let opened: OpenedRequest;
  try {
    opened = await openRequest(url, { method: 'POST', headers: request.headers, body: request.body, signal });
  } catch (err) {
    // Node's own error ("connect ECONNREFUSED 127.0.0.1:9"), not openRequest's one-word summary; and
    // never a message that repeats the URL (targets are parsed before: this is a belt).
    if (err instanceof GetError && err.reason === 'bad_url') throw new Error('not a usable http(s) URL');
    throw err instanceof GetError && err.reason === 'network' && err.cause instanceof Error ? err.cause : err;
  }
  const { res, close } = opened;
  return {
    status: res.statusCode ?? 0,
    statusText: res.statusMessage ?? '',
    header: (name) => {
      const v = res.headers[name.toLowerCase()];
      return Array.isArray(v) ? v.join(', ') : v;
    },
    readSome: (maxChars) => new Promise<string>((resolve, reject) => {
      const maxBytes = maxChars * 4;
      const chunks: Buffer[] = [];
      let size = 0;
      const done = (): void => {
        close();
        resolve(Buffer.concat(chunks, size).toString('utf8').slice(0, maxChars));
      };
      res.on('data', (c: Buffer) => {
        if (size >= maxBytes) return;
        // A copy of what is kept: not the whole socket chunk.
        const part = Buffer.from(c.subarray(0, maxBytes - size));
        chunks.push(part);
        size += part.length;
        // Enough read: the rest of the body is not downloaded (the connection is closed).
        if (size >= maxBytes) done();
      });
      res.on('end', done);
      res.on('error', reject);
      res.on('close', () => reject(new Error('the connection closed before the whole answer was read')));
    }),
    close: () => close(),
  };
};

/** How much of an error answer's body is read (and shown, masked) to explain a failure. */
const ERROR_BODY_CHARS = 200;

/**
 * Retry-After: delay-seconds or an HTTP-date (RFC 9110 10.2.3) -> milliseconds from nowMs (>= 0);
 * undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  if (v === '' || !/[a-z]/i.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** Exponential backoff before retry number n (1-based): base, 2*base, 4*base... capped at maxMs. */
export function backoffDelayMs(retry: number, baseMs: number, maxMs: number): number {
  const exp = Math.min(Math.max(retry, 1) - 1, 30);
  return Math.min(maxMs, baseMs * 2 ** exp);
}

/** Which answers are worth retrying: 408, 425, 429 and 5xx. Other 4xx (and 3xx) will not change. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

// Certificate verification failures that a private (or self-signed) CA causes, as Node reports them.
const UNTRUSTED_CERT_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);

/**
 * A network error as a short, masked sentence: "connect ECONNREFUSED 127.0.0.1:9" (its causes after
 * it, its code when the message does not say it, and for an untrusted certificate what to do).
 */
export function describeNetworkError(err: unknown): string {
  if (!(err instanceof Error)) return maskUrlsInText(String(err));
  const parts: string[] = [];
  let code: string | undefined;
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 4; depth++) {
    if (e.message && !parts.includes(e.message)) parts.push(e.message);
    const c = (e as NodeJS.ErrnoException).code;
    if (code === undefined && typeof c === 'string') code = c;
    e = (e as { cause?: unknown }).cause;
  }
  let text = parts.join(': ');
  if (code !== undefined && !text.includes(code)) text += ` (${code})`;
  if (code !== undefined && UNTRUSTED_CERT_CODES.has(code)) {
    // Node 24 appends its own hint about --use-system-ca; Repairman's advice below is the one that applies.
    text = text.replace(/; if the root CA is installed locally, try running Node\.js with --use-system-ca/, '');
    text += ': the server\'s certificate is not signed by a trusted CA (a private CA can be added with NODE_EXTRA_CA_CERTS=/path/to/ca.pem)';
  }
  return maskUrlsInText(text);
}

/** One POST of a prepared request. Never throws; always settles within timeoutMs (plus a tick). */
export async function attemptDelivery(target: NotifyTarget, request: PreparedRequest, opts: AttemptOptions): Promise<AttemptResult> {
  const now = opts.now ?? Date.now;
  const transport = opts.transport ?? httpTransport;
  const started = now();
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error('timeout'));
  }, opts.timeoutMs);
  const onAbort = (): void => controller.abort(new Error('aborted'));
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  // Settles when the timer fires even if a transport ignores its signal.
  const cut = new Promise<never>((_, reject) => {
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason as Error), { once: true });
  });
  cut.catch(() => undefined);
  let sending: Promise<PostAnswer> | undefined;
  try {
    sending = transport(target.postUrl, request, controller.signal);
    const res = await Promise.race([sending, cut]);
    // The status is what counts: a body cut by the timeout or a broken connection is just not shown.
    const said = opts.readBody === false ? '' : (await Promise.race([res.readSome(ERROR_BODY_CHARS), cut]).catch(() => '')).replace(/\s+/g, ' ').trim();
    const durationMs = now() - started;
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status, retryable: false, aborted: false, durationMs };
    const retryAfterMs = res.status === 429 || res.status === 503 ? parseRetryAfter(res.header('retry-after'), Date.now()) : undefined;
    let error = `HTTP ${res.status}${res.statusText ? ' ' + res.statusText : ''}${said ? `: ${said}` : ''}`;
    // Not followed: a webhook that redirects would get the POST turned into a GET, or the message sent
    // elsewhere; the configured URL is to be fixed.
    if (res.status >= 300 && res.status < 400) error += ' (redirects are not followed: configure the final URL)';
    return {
      ok: false,
      status: res.status,
      retryable: isRetryableStatus(res.status),
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      error: maskUrlsInText(error),
      aborted: false,
      durationMs,
    };
  } catch (err) {
    const durationMs = now() - started;
    if (timedOut) return { ok: false, retryable: true, error: `no answer within ${opts.timeoutMs} ms`, aborted: false, durationMs };
    if (opts.signal?.aborted) return { ok: false, retryable: false, error: 'abandoned: shutting down', aborted: true, durationMs };
    return { ok: false, retryable: true, error: describeNetworkError(err), aborted: false, durationMs };
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
    // The answer is closed (the rest of its body never read), even one that comes after the cut;
    // anything still running (a transport that ignored the race) is told to stop.
    sending?.then((a) => a.close(), () => undefined);
    if (!controller.signal.aborted) controller.abort(new Error('done'));
  }
}

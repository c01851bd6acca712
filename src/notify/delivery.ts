// One delivery attempt (a POST with a timeout) and the retry policy around it. The URL is a secret:
// nothing here returns or logs it except masked (scheme and host).
import { maskUrlsInText } from '../util/mask.js';
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
  fetchImpl?: typeof fetch;
  /** Aborts the attempt (shutdown). */
  signal?: AbortSignal;
  now?: () => number;
}

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

/** A network error as a short, masked sentence: "connect ECONNREFUSED 127.0.0.1:9" rather than "fetch failed". */
export function describeNetworkError(err: unknown): string {
  if (!(err instanceof Error)) return maskUrlsInText(String(err));
  const parts = [err.message];
  let cause: unknown = (err as { cause?: unknown }).cause;
  for (let depth = 0; cause instanceof Error && depth < 3; depth++) {
    if (cause.message && !parts.includes(cause.message)) parts.push(cause.message);
    cause = (cause as { cause?: unknown }).cause;
  }
  return maskUrlsInText(parts.join(': '));
}

async function readSome(res: Response, maxChars: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    while (text.length < maxChars) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    // Do not download a large answer; releases the connection.
    await reader.cancel().catch(() => undefined);
  }
  return text.slice(0, maxChars);
}

/** One POST of a prepared request. Never throws; always settles within timeoutMs (plus a tick). */
export async function attemptDelivery(target: NotifyTarget, request: PreparedRequest, opts: AttemptOptions): Promise<AttemptResult> {
  const now = opts.now ?? Date.now;
  const fetchImpl = opts.fetchImpl ?? fetch;
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
  // Settles when the timer fires even if a fetchImpl ignores its signal.
  const cut = new Promise<never>((_, reject) => {
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason as Error), { once: true });
  });
  cut.catch(() => undefined);
  try {
    const res = await Promise.race([
      fetchImpl(target.postUrl, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
        signal: controller.signal,
        // A webhook that redirects would turn the POST into a GET (or send the body elsewhere): no.
        redirect: 'manual',
      }),
      cut,
    ]);
    const answer = await Promise.race([readSome(res, ERROR_BODY_CHARS), cut]).catch(() => '');
    const durationMs = now() - started;
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status, retryable: false, aborted: false, durationMs };
    const retryAfterMs = res.status === 429 || res.status === 503 ? parseRetryAfter(res.headers.get('retry-after'), Date.now()) : undefined;
    const said = answer.replace(/\s+/g, ' ').trim();
    let error = `HTTP ${res.status}${res.statusText ? ' ' + res.statusText : ''}${said ? `: ${said}` : ''}`;
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
    // Anything still running (a fetchImpl that ignored the race) is told to stop.
    if (!controller.signal.aborted) controller.abort(new Error('done'));
  }
}

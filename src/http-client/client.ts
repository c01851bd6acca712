// Outgoing HTTP requests over node:http / node:https, without fetch: undici (Node's fetch) costs
// several times more RSS at its first requests, too much under the container's 80 MB cap
// (BENCHMARKS.md, "Notification footprint"). Used by `repairman healthcheck` and `repairman status`
// (httpGet) and by notification delivery (openRequest, src/notify/delivery.ts).
//
// openRequest: one request on a connection of its own (no keep-alive: nothing idle keeps the process
// alive at shutdown, and nothing is pooled), one deadline for connect, headers and body, and an
// AbortSignal. Redirects are never followed. node:https (with node:tls) is loaded only for https://
// URLs.
//
// httpGet: a GET whose body is buffered once, with a cap. Both commands often run inside Repairman's
// own container (`docker exec`, the image's HEALTHCHECK): an answer larger than the caller's cap is
// refused (at once when its Content-Length says so).
import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import type https from 'node:https';
import { createRequire } from 'node:module';
import { formatBytes } from '../util/format-bytes.js';

const requireBuiltin = createRequire(import.meta.url);
/** node:https, loaded on first use (plain-HTTP callers never pay for node:tls). */
export const loadHttps = (): typeof https => requireBuiltin('node:https') as typeof https;

export interface GetResult {
  status: number;
  contentType: string;
  body: string;
}

export class GetError extends Error {
  constructor(message: string, readonly reason: 'timeout' | 'network' | 'too_large' | 'aborted' | 'bad_url', options?: ErrorOptions) {
    super(message, options);
    this.name = 'GetError';
  }
}

/** The default cap: /healthz answers a few hundred bytes. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export interface OpenOptions {
  method?: string;
  headers?: OutgoingHttpHeaders;
  /** Sent whole, with its Content-Length (unless headers set one). */
  body?: string | Buffer;
  /** One deadline for connect, headers and body (until close()); none when undefined. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface OpenedRequest {
  /** The answer, status and headers read; its body not yet. Listen to its 'error': the deadline and
   * the signal destroy it with a GetError ('timeout' / 'aborted'). */
  res: IncomingMessage;
  /** Ends the request: the deadline and the signal are let go, the connection closed (what is left of
   * the body is not read). With an error, res is destroyed with it. Idempotent. */
  close(err?: Error): void;
}

/**
 * Sends a request and resolves once the answer's status line and headers are in. Rejects with a
 * GetError: 'bad_url', 'timeout', 'aborted', or 'network' (the message as `CODE` or `CODE: message`,
 * the error as Node gave it in `cause`).
 */
export function openRequest(url: string, opts: OpenOptions = {}): Promise<OpenedRequest> {
  return new Promise((resolve, reject) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      reject(new GetError(`not a URL: ${url}`, 'bad_url'));
      return;
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      reject(new GetError(`only http:// and https:// URLs are supported, got ${target.protocol}`, 'bad_url'));
      return;
    }
    if (opts.signal?.aborted) {
      reject(new GetError('aborted', 'aborted'));
      return;
    }
    const send = target.protocol === 'https:' ? loadHttps().request : http.request;
    const headers: OutgoingHttpHeaders = { ...opts.headers };
    const hasLength = Object.keys(headers).some((k) => k.toLowerCase() === 'content-length');
    if (opts.body !== undefined && !hasLength) headers['content-length'] = Buffer.byteLength(opts.body);
    let res: IncomingMessage | undefined;
    let closed = false;
    const close = (err?: Error): void => {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (err && res) res.destroy(err);
      else if (err) reject(err);
      req.destroy();
    };
    // agent: false: a connection of its own, closed after the answer (Connection: close).
    const req = send(target, { method: opts.method ?? 'GET', headers, agent: false }, (answer: IncomingMessage) => {
      res = answer;
      // The caller listens too; this one only keeps an error after close() from being unhandled.
      answer.on('error', () => undefined);
      if (closed) answer.destroy();
      else resolve({ res: answer, close });
    });
    const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => close(new GetError(`no answer within ${opts.timeoutMs} ms`, 'timeout')), opts.timeoutMs);
    const onAbort = (): void => close(new GetError('aborted', 'aborted'));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (err: NodeJS.ErrnoException) => {
      const message = err.code ? `${err.code}${err.message.includes(err.code) ? '' : `: ${err.message}`}` : err.message;
      close(new GetError(message, 'network', { cause: err }));
    });
    req.end(opts.body);
  });
}

export async function httpGet(url: string, opts: { timeoutMs: number; signal?: AbortSignal; accept?: string; maxBodyBytes?: number; bearer?: string }): Promise<GetResult> {
  const cap = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const headers: Record<string, string> = { accept: opts.accept ?? 'application/json' };
  if (opts.bearer !== undefined) headers.authorization = `Bearer ${opts.bearer}`;
  const { res, close } = await openRequest(url, { method: 'GET', headers, timeoutMs: opts.timeoutMs, signal: opts.signal });
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | null, result?: GetResult): void => {
      if (settled) return;
      settled = true;
      close();
      if (err) reject(err);
      else resolve(result as GetResult);
    };
    // The deadline and the signal end here too (close() destroys res with their GetError).
    res.on('error', (err) => finish(err instanceof GetError ? err : new GetError(err.message, 'network', { cause: err })));
    res.on('close', () => finish(new GetError('the connection closed before the whole answer was read', 'network')));
    const tooLarge = (size: string): GetError =>
      new GetError(`the answer is ${size} the ${formatBytes(cap)} accepted here: is it a Repairman answering at ${new URL(url).origin}?`, 'too_large');
    const header = res.headers['content-length'];
    const length = header !== undefined && /^\d+$/.test(header) ? Number(header) : undefined;
    if (length !== undefined && length > cap) {
      finish(tooLarge(`${formatBytes(length)}, more than`));
      return;
    }
    // A known length is read straight into one buffer; otherwise chunks, joined once at the end.
    const whole = length !== undefined ? Buffer.allocUnsafe(length) : undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      if (settled) return;
      if (size + c.length > (whole ? whole.length : cap)) {
        finish(tooLarge('larger than'));
        return;
      }
      if (whole) c.copy(whole, size);
      else chunks.push(c);
      size += c.length;
    });
    res.on('end', () => {
      const body = whole ? whole.subarray(0, size) : Buffer.concat(chunks, size);
      chunks.length = 0;
      finish(null, { status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: body.toString('utf8') });
    });
  });
}

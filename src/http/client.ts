// A small GET for `repairman healthcheck` and `repairman status`: node:http(s), one overall
// deadline (connect, headers and body), a cap on the body size, and an AbortSignal. Both commands
// often run inside Repairman's own container (`docker exec`, the image's HEALTHCHECK), whose memory
// is capped at 80 MB and mostly taken by Repairman: an answer larger than the caller's cap is refused
// (at once when its Content-Length says so), and the body is buffered once.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface GetResult {
  status: number;
  contentType: string;
  body: string;
}

export class GetError extends Error {
  constructor(message: string, readonly reason: 'timeout' | 'network' | 'too_large' | 'aborted' | 'bad_url') {
    super(message);
    this.name = 'GetError';
  }
}

/** The default cap: /healthz answers a few hundred bytes. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${Math.round((n / (1024 * 1024)) * 10) / 10} MB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KB`;
  return `${n} bytes`;
}

export function httpGet(url: string, opts: { timeoutMs: number; signal?: AbortSignal; accept?: string; maxBodyBytes?: number }): Promise<GetResult> {
  const cap = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
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
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    let settled = false;
    const finish = (err: GetError | null, result?: GetResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (err) {
        req.destroy();
        reject(err);
      } else resolve(result as GetResult);
    };
    const req = send(target, { method: 'GET', headers: { accept: opts.accept ?? 'application/json' }, agent: false }, (res: IncomingMessage) => {
      res.on('error', (err) => finish(new GetError(err.message, 'network')));
      const tooLarge = (size: string): GetError =>
        new GetError(`the answer is ${size} the ${formatBytes(cap)} accepted here: is it a Repairman answering at ${target.origin}?`, 'too_large');
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
    const timer = setTimeout(() => finish(new GetError(`no answer within ${opts.timeoutMs} ms`, 'timeout')), opts.timeoutMs);
    const onAbort = (): void => finish(new GetError('aborted', 'aborted'));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (err: NodeJS.ErrnoException) => finish(new GetError(err.code ? `${err.code}${err.message.includes(err.code) ? '' : `: ${err.message}`}` : err.message, 'network')));
    req.end();
  });
}

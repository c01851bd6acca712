// A small GET for `repairman healthcheck` and `repairman status`: node:http(s), one overall
// deadline (connect, headers and body), a cap on the body size, and an AbortSignal.
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

const MAX_BODY_BYTES = 32 * 1024 * 1024;

export function httpGet(url: string, opts: { timeoutMs: number; signal?: AbortSignal; accept?: string }): Promise<GetResult> {
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
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY_BYTES) finish(new GetError(`answer larger than ${MAX_BODY_BYTES} bytes`, 'too_large'));
        else chunks.push(c);
      });
      res.on('end', () => finish(null, { status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (err) => finish(new GetError(err.message, 'network')));
    });
    const timer = setTimeout(() => finish(new GetError(`no answer within ${opts.timeoutMs} ms`, 'timeout')), opts.timeoutMs);
    const onAbort = (): void => finish(new GetError('aborted', 'aborted'));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (err: NodeJS.ErrnoException) => finish(new GetError(err.code ? `${err.code}${err.message.includes(err.code) ? '' : `: ${err.message}`}` : err.message, 'network')));
    req.end();
  });
}

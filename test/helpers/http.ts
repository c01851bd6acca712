// Small HTTP clients for tests: one over node:http with the path sent exactly as given, one that
// writes raw bytes on a socket (for requests node:http refuses to build, like non-UTF-8 paths).
import { request } from 'node:http';
import { connect } from 'node:net';

export interface TestResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function httpRequest(
  port: number,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; host?: string; timeoutMs?: number; agent?: false } = {},
): Promise<TestResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: opts.host ?? '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers ?? {}, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(opts.timeoutMs ?? 10_000, () => req.destroy(new Error(`timeout on ${path}`)));
    req.on('error', reject);
    req.end();
  });
}

/** Write `head` (bytes) to the server and return the status code and raw answer. */
export function rawRequest(port: number, head: Buffer, timeoutMs = 10_000): Promise<{ status: number; raw: string }> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error('raw request timed out'));
    }, timeoutMs);
    sock.on('connect', () => sock.write(head));
    sock.on('data', (c: Buffer) => {
      chunks.push(c);
      // Stop at the end of the first answer (Content-Length known) so keep-alive does not stall us.
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const len = /content-length:\s*(\d+)/i.exec(text);
      if (end >= 0 && len && text.length >= end + 4 + Number(len[1])) sock.end();
    });
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks).toString('utf8');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
      resolve({ status: m ? Number(m[1]) : 0, raw });
    });
  });
}

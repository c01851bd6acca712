// A real HTTP receiver on 127.0.0.1 for tests of anything that posts (notifications, webhooks).
//
//   const rx = await startReceiver();                 // answers 200 "ok" to everything
//   const rx = await startReceiver({ replies: [{ status: 500 }, { status: 200 }] }); // in order, then default
//   const rx = await startReceiver({ fallback: { hang: true } });                  // never answers
//   rx.url('/hooks/x')          -> "http://127.0.0.1:<port>/hooks/x"
//   await rx.waitForRequests(2) -> the first two RecordedRequests (throws after timeoutMs, default 10 s)
//   rx.requests                 -> every request so far: method, path (with query), headers, body, atMs,
//                                  abortedAtMs (set when the client gave up before the answer)
//   rx.script({ status: 429, headers: { 'retry-after': '1' } }, { status: 200 }) -> append replies
//   rx.reply = (req) => ({ status: req.path.startsWith('/a') ? 200 : 404 })      -> full control
//   await rx.close()            -> ends hanging requests too (call it in t.after / finally)
//
// A reply: { status (default 200), headers, body (default "ok" for 2xx, else a short text),
// delayMs (wait before answering), hang (never answer: the client must time out), destroy (cut the
// connection without an answer: a network error) }. Replies are consumed one per request, in arrival
// order; when the list is empty `fallback` is used (default { status: 200 }).
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path and query as received, e.g. "/hooks/x?y=1". */
  path: string;
  /** Lower-case names, as Node gives them. */
  headers: IncomingHttpHeaders;
  body: string;
  /** Date.now() when the whole body had arrived. */
  atMs: number;
  /** Date.now() when the client hung up before getting an answer (its timeout or abort); else undefined. */
  abortedAtMs?: number;
  /** JSON.parse(body); throws on a body that is not JSON. */
  json(): unknown;
}

export interface ReceiverReply {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  delayMs?: number;
  hang?: boolean;
  destroy?: boolean;
}

export interface ReceiverOptions {
  replies?: ReceiverReply[];
  fallback?: ReceiverReply;
}

export interface Receiver {
  readonly port: number;
  /** Base URL plus path (default "/"). */
  url(path?: string): string;
  readonly requests: RecordedRequest[];
  /** Append replies to the script. */
  script(...replies: ReceiverReply[]): void;
  /** When set, decides every reply (the script and fallback are then ignored). */
  reply: ((req: RecordedRequest) => ReceiverReply) | undefined;
  waitForRequests(count: number, timeoutMs?: number): Promise<RecordedRequest[]>;
  close(): Promise<void>;
}

export async function startReceiver(opts: ReceiverOptions = {}): Promise<Receiver> {
  const queue: ReceiverReply[] = [...(opts.replies ?? [])];
  const fallback: ReceiverReply = opts.fallback ?? { status: 200 };
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let waiters: { count: number; resolve: () => void }[] = [];

  const answer = (res: ServerResponse, r: ReceiverReply): void => {
    if (r.hang) return;
    if (r.destroy) {
      res.socket?.destroy();
      return;
    }
    const status = r.status ?? 200;
    const body = r.body ?? (status >= 200 && status < 300 ? 'ok' : `status ${status}`);
    res.writeHead(status, { 'content-type': 'text/plain', ...(r.headers ?? {}) });
    res.end(body);
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const rec: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body,
        atMs: Date.now(),
        json: () => JSON.parse(body) as unknown,
      };
      res.on('close', () => {
        if (!res.writableFinished) rec.abortedAtMs = Date.now();
      });
      requests.push(rec);
      const ready = waiters.filter((w) => requests.length >= w.count);
      waiters = waiters.filter((w) => requests.length < w.count);
      for (const w of ready) w.resolve();
      const r = receiver.reply ? receiver.reply(rec) : (queue.shift() ?? fallback);
      if (r.delayMs && !r.hang) {
        const t = setTimeout(() => {
          timers.delete(t);
          if (!res.destroyed) answer(res, r);
        }, r.delayMs);
        timers.add(t);
      } else answer(res, r);
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  const receiver: Receiver = {
    port,
    url: (path = '/') => `http://127.0.0.1:${port}${path.startsWith('/') ? path : '/' + path}`,
    requests,
    script: (...replies) => void queue.push(...replies),
    reply: undefined,
    waitForRequests: (count, timeoutMs = 10_000) => {
      if (requests.length >= count) return Promise.resolve(requests.slice(0, count));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== waiter);
          reject(new Error(`receiver: ${requests.length} of ${count} requests after ${timeoutMs} ms`));
        }, timeoutMs);
        const waiter = { count, resolve: () => { clearTimeout(timer); resolve(requests.slice(0, count)); } };
        waiters.push(waiter);
      });
    },
    close: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return receiver;
}

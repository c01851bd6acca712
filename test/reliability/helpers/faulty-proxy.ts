// A faulty Docker engine for reliability tests: an HTTP proxy on a unix socket in front of a real
// engine's socket that forwards every call, except those a rule picks, whose reply it delays or
// corrupts. Repairman is pointed at the proxy (DOCKER_HOST=unix://<proxy socket>); its containers
// live in the real engine, which the test drives with the docker CLI as usual.
//
//   const px = await startFaultyProxy({ upstream: '/tmp/repairman-engine/docker.sock' });
//   px.rule({ method: 'GET', path: /^\/containers\/json/ }, { kind: 'truncate' }, 3); // next 3 listings
//   px.rule({ path: /^\/events/ }, { kind: 'stall' });                                 // until cleared
//   px.clear();                                                                       // all pass again
//   px.calls(/\/restart$/, 'POST')   -> the restart calls Repairman made (path without /vX.Y)
//   await px.close();
//
// Faults (see Fault): delay, hang, truncate (a complete HTTP reply whose JSON ends half way), cut
// (the connection closes half way through the body), reshape (valid JSON of the wrong shape), html,
// huge (a body of N bytes, announced by its Content-Length or, `chunked`, not), status (any status and body), reset (the connection is destroyed before
// any answer), stall (streams: headers, then silence), inject (streams: the real events with garbage
// lines between them).
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { rmSync } from 'node:fs';
import type { Socket } from 'node:net';

export type Fault =
  | { kind: 'pass' }
  | { kind: 'delay'; ms: number }
  | { kind: 'hang' }
  | { kind: 'truncate' }
  | { kind: 'cut' }
  | { kind: 'reshape'; fn: (json: unknown) => unknown }
  | { kind: 'html' }
  | { kind: 'huge'; bytes: number; chunked?: boolean }
  | { kind: 'status'; status: number; body?: string; contentType?: string }
  | { kind: 'reset' }
  | { kind: 'stall' }
  | { kind: 'inject'; lines: () => Buffer[]; everyMs?: number };

export interface Match {
  method?: string;
  /** Tested against the path without the /vX.Y prefix, query included. */
  path: RegExp;
}

export interface ProxiedCall {
  method: string;
  /** Without the /vX.Y prefix, query included. */
  path: string;
  atMs: number;
  fault: Fault['kind'];
}

export interface FaultyProxy {
  socketPath: string;
  host: string;
  /** Add a rule (checked in order, the first live one wins); `times` uses (default: until cleared). */
  rule(match: Match, fault: Fault, times?: number): void;
  /** Remove every rule: everything passes again (stalled or hanging replies already sent stay so). */
  clear(): void;
  /** End every open connection (clients see their streams and calls fail) but keep listening. */
  dropConnections(): void;
  /** The engine vanishes: the socket file is removed and every connection cut (as when dockerd stops). */
  goAway(): Promise<void>;
  /** ...and comes back on the same socket. */
  comeBack(): Promise<void>;
  readonly log: ProxiedCall[];
  calls(path: RegExp, method?: string): ProxiedCall[];
  close(): Promise<void>;
}

const HTML_PAGE = '<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body><h1>Sign in to continue</h1></body></html>\n';

function stripVersion(url: string): string {
  return url.replace(/^\/v\d+(\.\d+)?(?=\/)/, '');
}

function headersWithout(h: http.IncomingHttpHeaders, ...names: string[]): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !names.includes(k.toLowerCase())) out[k] = v;
  return out;
}

export async function startFaultyProxy(opts: { upstream: string; socketPath?: string }): Promise<FaultyProxy> {
  const socketPath = opts.socketPath ?? `/tmp/rm-rel-px-${process.pid}-${Math.random().toString(36).slice(2, 8)}.sock`;
  rmSync(socketPath, { force: true });
  const rules: { match: Match; fault: Fault; left: number }[] = [];
  const log: ProxiedCall[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const agent = new http.Agent({ keepAlive: true });

  const pick = (method: string, path: string): Fault => {
    for (const r of rules) {
      if (r.left <= 0) continue;
      if (r.match.method && r.match.method !== method) continue;
      if (!r.match.path.test(path)) continue;
      r.left--;
      return r.fault;
    }
    return { kind: 'pass' };
  };

  const later = (ms: number, fn: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  /** Forward to the real engine; `onReply` gets the upstream response (streamed or not). */
  const forward = (req: IncomingMessage, body: Buffer, res: ServerResponse, onReply: (up: IncomingMessage) => void): void => {
    const up = http.request({ socketPath: opts.upstream, method: req.method, path: req.url, headers: req.headers, agent }, onReply);
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    up.end(body);
  };

  const readAll = (up: IncomingMessage): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('end', () => resolve(Buffer.concat(chunks)));
      up.on('error', reject);
    });

  const reply = (res: ServerResponse, status: number, headers: http.OutgoingHttpHeaders, body: Buffer | string): void => {
    if (res.destroyed) return;
    const buf = typeof body === 'string' ? Buffer.from(body) : body;
    res.writeHead(status, { ...headers, 'content-length': String(buf.length) });
    res.end(buf);
  };

  const handle = (req: IncomingMessage, body: Buffer, res: ServerResponse): void => {
    const method = req.method ?? 'GET';
    const path = stripVersion(req.url ?? '/');
    const fault = pick(method, path);
    log.push({ method, path, atMs: Date.now(), fault: fault.kind });
    switch (fault.kind) {
      case 'pass':
        forward(req, body, res, (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        });
        return;
      case 'delay':
        forward(req, body, res, (up) => {
          void readAll(up).then(
            (b) => later(fault.ms, () => reply(res, up.statusCode ?? 502, headersWithout(up.headers, 'content-length', 'transfer-encoding'), b)),
            () => res.destroy(),
          );
        });
        return;
      case 'hang':
        return; // the request stays open until the client gives up or the proxy closes
      case 'reset':
        req.socket.destroy();
        return;
      case 'html':
        reply(res, 200, { 'content-type': 'text/html; charset=utf-8' }, HTML_PAGE);
        return;
      case 'status':
        reply(res, fault.status, { 'content-type': fault.contentType ?? 'application/json' }, fault.body ?? JSON.stringify({ message: `injected ${fault.status}` }));
        return;
      case 'huge': {
        res.writeHead(200, fault.chunked ? { 'content-type': 'application/json' } : { 'content-type': 'application/json', 'content-length': String(fault.bytes) });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        chunk[0] = 0x5b; // '['
        let sent = 0;
        const pump = (): void => {
          while (sent < fault.bytes && !res.destroyed) {
            const n = Math.min(chunk.length, fault.bytes - sent);
            const ok = res.write(n === chunk.length ? chunk : chunk.subarray(0, n));
            sent += n;
            chunk[0] = 0x20;
            if (!ok) {
              res.once('drain', pump);
              return;
            }
          }
          if (!res.destroyed) res.end();
        };
        pump();
        return;
      }
      case 'truncate':
      case 'cut':
      case 'reshape':
        forward(req, body, res, (up) => {
          void readAll(up).then(
            (b) => {
              const headers = headersWithout(up.headers, 'content-length', 'transfer-encoding');
              if (fault.kind === 'reshape') {
                let json: unknown;
                try {
                  json = JSON.parse(b.toString('utf8'));
                } catch {
                  json = null;
                }
                reply(res, up.statusCode ?? 502, headers, JSON.stringify(fault.fn(json)));
                return;
              }
              const half = b.subarray(0, Math.max(1, Math.floor(b.length / 2)));
              if (fault.kind === 'truncate') {
                reply(res, up.statusCode ?? 502, headers, half);
                return;
              }
              // cut: promise the whole body, send half, then close the connection.
              res.writeHead(up.statusCode ?? 502, { ...headers, 'content-length': String(b.length) });
              res.write(half, () => res.socket?.destroy());
            },
            () => res.destroy(),
          );
        });
        return;
      case 'stall':
        // Streams: the engine accepts the subscription and then says nothing, ever.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.flushHeaders();
        return;
      case 'inject':
        forward(req, body, res, (up) => {
          res.writeHead(up.statusCode ?? 502, headersWithout(up.headers, 'content-length'));
          // Forward whole lines only, so a garbage line never lands inside a real event.
          let pending = Buffer.alloc(0);
          up.on('data', (c: Buffer) => {
            pending = Buffer.concat([pending, c]);
            const nl = pending.lastIndexOf(0x0a);
            if (nl >= 0) {
              res.write(pending.subarray(0, nl + 1));
              pending = pending.subarray(nl + 1);
            }
          });
          up.on('end', () => res.end(pending));
          const tick = (): void => {
            if (res.destroyed || res.writableEnded) return;
            if (pending.length === 0) for (const line of fault.lines()) res.write(line);
            later(fault.everyMs ?? 200, tick);
          };
          tick();
        });
        return;
    }
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, Buffer.concat(chunks), res));
  });
  server.keepAliveTimeout = 60_000;
  let closing = false;
  server.on('connection', (s: Socket) => {
    // A client still running reconnects while the proxy closes: it must not hold the close up.
    if (closing) return void s.destroy();
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const listen = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen();
  let away = false;

  return {
    socketPath,
    host: `unix://${socketPath}`,
    rule: (match, fault, times = Number.POSITIVE_INFINITY) => void rules.push({ match, fault, left: times }),
    clear: () => void rules.splice(0),
    dropConnections: () => {
      for (const s of sockets) s.destroy();
    },
    goAway: async () => {
      if (away) return;
      away = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
      rmSync(socketPath, { force: true });
    },
    comeBack: async () => {
      if (!away) return;
      away = false;
      await listen();
    },
    log,
    calls: (path, method) => log.filter((c) => path.test(c.path) && (!method || c.method === method)),
    close: async () => {
      closing = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of sockets) s.destroy();
      agent.destroy();
      if (!away) await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(socketPath, { force: true });
    },
  };
}

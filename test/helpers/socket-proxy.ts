// A small Docker socket proxy for security tests, in the manner of tecnativa/docker-socket-proxy: it
// forwards each call to the private engine's unix socket, unless `allow` refuses it, in which case it
// answers 403 with an HTML body as HAProxy does. It listens on TCP 127.0.0.1 (a URL a label can name)
// or on a unix socket (a DOCKER_HOST for Repairman).
//
//   const px = await startSocketProxy({ upstream: socketPath, allow: (m) => m === 'GET' });
//   px.url   -> http://127.0.0.1:<port>      (tcp) ; px.dockerHost -> tcp://127.0.0.1:<port>
//   px.calls -> every call: method, path (without /vX.Y), refused
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ProxyCall {
  method: string;
  /** Without the /vX.Y prefix, query included. */
  path: string;
  refused: boolean;
  atMs: number;
}

export interface SocketProxy {
  url: string;
  dockerHost: string;
  calls: ProxyCall[];
  /** Change what is refused from now on. */
  setAllow(allow: (method: string, path: string) => boolean): void;
  close(): Promise<void>;
}

const FORBIDDEN = '<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n</body></html>\n';

export async function startSocketProxy(opts: { upstream: string; allow?: (method: string, path: string) => boolean }): Promise<SocketProxy> {
  let allow = opts.allow ?? (() => true);
  const calls: ProxyCall[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').replace(/^\/v\d+\.\d+/, '');
    const refused = !allow(method, path);
    calls.push({ method, path, refused, atMs: Date.now() });
    if (refused) {
      req.resume();
      res.writeHead(403, { 'Content-Type': 'text/html', 'Cache-Control': 'no-cache', Connection: 'close' });
      res.end(FORBIDDEN);
      return;
    }
    const up = http.request({ socketPath: opts.upstream, method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      // Streams (events, logs) go through as they come.
      res.flushHeaders();
      answer.pipe(res);
    });
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    req.pipe(up);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    dockerHost: `tcp://127.0.0.1:${port}`,
    calls,
    setAllow: (a) => {
      allow = a;
    },
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

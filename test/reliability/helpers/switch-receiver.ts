// A notification receiver on a FIXED port whose behaviour the test switches while Repairman runs:
// 'ok' (200), 'refuse' (nothing listens: connection refused), 'hang' (reads the request, never
// answers), 'fail' (500). It records every request with the answer it got, so a test can tell
// delivered messages (answered 2xx) from attempts that failed. (test/helpers/receiver.ts picks a new
// port each time and cannot stop listening and come back, which 'refuse' needs.)
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { freePort } from '../../helpers/repairman.js';

export type ReceiverMode = 'ok' | 'refuse' | 'hang' | 'fail';

export interface ReceivedRequest {
  atMs: number;
  body: string;
  /** Status answered, or null when the receiver hung. */
  answered: number | null;
}

export interface SwitchReceiver {
  port: number;
  url(path?: string): string;
  readonly mode: ReceiverMode;
  setMode(mode: ReceiverMode): Promise<void>;
  readonly requests: ReceivedRequest[];
  /** Bodies (parsed JSON) of the requests answered 2xx. */
  delivered(): Record<string, unknown>[];
  close(): Promise<void>;
}

export async function startSwitchReceiver(): Promise<SwitchReceiver> {
  const port = await freePort();
  const requests: ReceivedRequest[] = [];
  const sockets = new Set<Socket>();
  let mode: ReceiverMode = 'ok';
  let listening = false;

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec: ReceivedRequest = { atMs: Date.now(), body: Buffer.concat(chunks).toString('utf8'), answered: null };
      requests.push(rec);
      if (mode === 'hang') return;
      const status = mode === 'fail' ? 500 : 200;
      rec.answered = status;
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status === 200 ? 'ok' : 'internal error');
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        listening = true;
        resolve();
      });
    });
  const unlisten = async (): Promise<void> => {
    if (!listening) return;
    listening = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of sockets) s.destroy();
    await closed;
  };
  await listen();

  return {
    port,
    url: (path = '/hook') => `http://127.0.0.1:${port}${path}`,
    get mode() {
      return mode;
    },
    setMode: async (m) => {
      if (m === 'refuse') await unlisten();
      else if (!listening) await listen();
      mode = m;
    },
    requests,
    delivered: () =>
      requests
        .filter((r) => r.answered !== null && r.answered >= 200 && r.answered < 300)
        .map((r) => {
          try {
            return JSON.parse(r.body) as Record<string, unknown>;
          } catch {
            return { unparsable: r.body };
          }
        }),
    close: unlisten,
  };
}

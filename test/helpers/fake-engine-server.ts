// An engine of our own on a unix socket, for the client's unit tests (src/docker/client*.test.ts): each
// test answers the calls it cares about; /_ping gets an API version unless the handler takes it over.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRepairmanError, type ErrorCode } from '../../src/errors.js';
import { createDockerClient, type DockerClient, type DockerClientOptions } from '../../src/docker/client.js';

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => void;

export interface FakeEngineServer {
  socketPath: string;
  requests: string[];
  client(opts?: DockerClientOptions): DockerClient;
  close(): Promise<void>;
}

/** A fake engine: /_ping answers with apiVersion unless the handler takes it over. */
export async function fakeEngine(handler: Handler, apiVersion: string | null = '1.45'): Promise<FakeEngineServer> {
  const dir = mkdtempSync(join(tmpdir(), 'rm-fake-'));
  const socketPath = join(dir, 'engine.sock');
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  const clients: DockerClient[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const url = new URL(req.url ?? '/', 'http://engine');
    if (url.pathname === '/_ping' && apiVersion !== null && !res.headersSent) {
      res.setHeader('Api-Version', apiVersion);
    }
    handler(req, res, url);
    if (url.pathname === '/_ping' && !res.headersSent && !res.writableEnded) res.end('OK');
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    socketPath,
    requests,
    client(opts = {}) {
      const c = createDockerClient({ DOCKER_HOST: `unix://${socketPath}` }, opts);
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

export async function rejectsCode(p: Promise<unknown>, code: ErrorCode, pattern?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isRepairmanError(err, code), `expected ${code}, got ${String((err as { code?: string })?.code)}: ${String(err)}`);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

// Security finding 3 (issue 17): the HTTP interface had no access control, bound 0.0.0.0 on a bare
// host, and answered any Host header (a DNS-rebinding page could read the report from a browser).
// Now: a bearer token from --http-token-file for every route but /healthz (the page takes it once as
// ?token= and keeps it in an HttpOnly SameSite=Strict cookie), a Host check, 127.0.0.1 by default, and
// many slow clients never stop /healthz from answering.
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasTestEngine, uniqueNamespace } from '../helpers/engine.js';
import { startRepairman } from '../helpers/repairman.js';

const TOKEN = 'tok-3f9a2c1d8e7b6a5f4e3d2c1b';

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent: false, timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

describe('HTTP access control', () => {
  it('token for every route but /healthz, ?token= once into a cookie, Host header checked', async (t: TestContext) => {
    if (!hasTestEngine()) return t.skip('no private engine');
    const dir = await mkdtemp(join(tmpdir(), 'rm-sec-http-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    const rm1 = await startRepairman({ namespace: uniqueNamespace('sec-http'), http: true, args: ['--http-token-file', tokenFile, '--http-hosts', 'repairman.lan'] });
    t.after(() => rm1.stop());
    const port = rm1.httpPort!;
    assert.equal((await get(port, '/healthz')).status, 200, '/healthz needs no token');
    for (const path of ['/', '/api/containers', '/api/events', '/api/explain?name=x', '/metrics', '/nope']) {
      assert.equal((await get(port, path)).status, 401, `${path} without a token`);
      assert.equal((await get(port, path, { authorization: 'Bearer wrong' })).status, 401, `${path} with a wrong token`);
    }
    assert.equal((await get(port, '/api/containers', { authorization: `Bearer ${TOKEN}` })).status, 200);
    assert.equal((await get(port, '/metrics', { authorization: `Bearer ${TOKEN}` })).status, 200);
    // The page: ?token= once, then a cookie; the token leaves the address bar.
    const first = await get(port, `/?token=${TOKEN}`, { accept: 'text/html' });
    assert.equal(first.status, 303);
    assert.equal(first.headers.location, './');
    const cookie = String(first.headers['set-cookie']);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    const page = await get(port, '/', { accept: 'text/html', cookie: cookie.split(';')[0]! });
    assert.ok([200, 500].includes(page.status), `the page with the cookie: ${page.status}`);
    assert.match(page.body, /<html/i);
    assert.equal((await get(port, '/?token=wrong', { accept: 'text/html' })).status, 401);
    // DNS rebinding: a name the admin did not list is refused, even with the token.
    assert.equal((await get(port, '/api/containers', { host: 'evil.example:8080', authorization: `Bearer ${TOKEN}` })).status, 403);
    assert.equal((await get(port, '/healthz', { host: 'evil.example' })).status, 403);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'repairman.lan', `[::1]:${port}`]) {
      assert.equal((await get(port, '/api/containers', { host, authorization: `Bearer ${TOKEN}` })).status, 200, host);
    }
    assert.ok(!JSON.stringify(rm1.lines).includes(TOKEN), 'the token is logged');
  });

  it('500 clients trickling headers and reconnecting: /healthz keeps answering (>= 95%)', async (t: TestContext) => {
    if (!hasTestEngine()) return t.skip('no private engine');
    const rm1 = await startRepairman({ namespace: uniqueNamespace('sec-slow'), http: true });
    t.after(() => rm1.stop());
    const port = rm1.httpPort!;
    let stop = false;
    const sockets = new Set<Socket>();
    // One slow client: opens a connection, sends a header line every 2 s, never ends its head;
    // when dropped, comes back.
    const slowClient = (i: number): void => {
      if (stop) return;
      const s = connect(port, '127.0.0.1');
      sockets.add(s);
      let timer: NodeJS.Timeout | undefined;
      s.on('connect', () => {
        s.write(`GET /api/containers HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Client: ${i}\r\n`);
        timer = setInterval(() => s.write(`X-Trickle: ${Date.now()}\r\n`), 2000);
      });
      s.on('error', () => undefined);
      s.on('close', () => {
        clearInterval(timer);
        sockets.delete(s);
        setTimeout(() => slowClient(i), 50);
      });
    };
    for (let i = 0; i < 500; i++) slowClient(i);
    t.after(() => {
      stop = true;
      for (const s of sockets) s.destroy();
    });
    await new Promise((r) => setTimeout(r, 2000));
    let ok = 0;
    let tries = 0;
    const end = Date.now() + 12_000;
    while (Date.now() < end) {
      tries++;
      const r = await get(port, '/healthz').catch(() => null);
      if (r?.status === 200) ok++;
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.ok(ok / tries >= 0.95, `/healthz answered ${ok} of ${tries} (${((100 * ok) / tries).toFixed(1)}%) with ${sockets.size} slow clients connected`);
  });
});

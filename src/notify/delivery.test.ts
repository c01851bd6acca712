import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { attemptDelivery, backoffDelayMs, describeNetworkError, isRetryableStatus, parseRetryAfter, type NotifyTransport, type PostAnswer } from './delivery.js';
import { parseNotifyTarget, type NotifyTarget } from './targets.js';
import { buildRequest } from './format.js';
import { answer, manualTransport, netError } from '../../test/helpers/notify-transport.js';

const NOW = Date.UTC(2024, 0, 1, 0, 0, 0);
const request = { headers: { 'content-type': 'application/json' }, body: '{"text":"x"}' };

function target(raw = 'https://hooks.example.org/hooks/TOKEN'): NotifyTarget {
  const t = parseNotifyTarget(raw);
  assert.ok(t.ok);
  return t.target;
}

test('Retry-After: seconds, HTTP-date, garbage', () => {
  assert.equal(parseRetryAfter('1', NOW), 1000);
  assert.equal(parseRetryAfter(' 120 ', NOW), 120_000);
  assert.equal(parseRetryAfter('0', NOW), 0);
  assert.equal(parseRetryAfter(new Date(NOW + 5000).toUTCString(), NOW), 5000);
  assert.equal(parseRetryAfter(new Date(NOW - 5000).toUTCString(), NOW), 0, 'a date in the past means now');
  for (const bad of [null, undefined, '', '-1', '1.5', 'soon', '12abc']) assert.equal(parseRetryAfter(bad, NOW), undefined, String(bad));
});

test('backoff doubles from the base and is capped', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 100].map((n) => backoffDelayMs(n, 1000, 30_000)), [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
  assert.equal(backoffDelayMs(0, 1000, 30_000), 1000);
});

test('what is retried: 408, 425, 429, 5xx; not other 4xx, not 3xx', () => {
  for (const s of [408, 425, 429, 500, 502, 503, 504]) assert.equal(isRetryableStatus(s), true, String(s));
  for (const s of [301, 400, 401, 403, 404, 410, 413, 422]) assert.equal(isRetryableStatus(s), false, String(s));
});

test('network errors name the cause, and the code when the message does not; never the URL', () => {
  const err = new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED https://h.example.org/hooks/TOKEN') });
  const text = describeNetworkError(err);
  assert.match(text, /fetch failed: connect ECONNREFUSED https:\/\/h\.example\.org\/\*\*\*/);
  assert.ok(!text.includes('TOKEN'));
  assert.equal(describeNetworkError(netError('connect ECONNREFUSED 127.0.0.1:9', 'ECONNREFUSED')), 'connect ECONNREFUSED 127.0.0.1:9');
  assert.equal(describeNetworkError(netError('socket hang up', 'ECONNRESET')), 'socket hang up (ECONNRESET)');
  assert.match(describeNetworkError(netError('self-signed certificate', 'DEPTH_ZERO_SELF_SIGNED_CERT')),
    /^self-signed certificate \(DEPTH_ZERO_SELF_SIGNED_CERT\): the server's certificate is not signed by a trusted CA \(a private CA can be added with NODE_EXTRA_CA_CERTS=/);
  // Node 24's wording, with its own hint: one piece of advice, Repairman's.
  assert.equal(describeNetworkError(netError('self-signed certificate; if the root CA is installed locally, try running Node.js with --use-system-ca', 'DEPTH_ZERO_SELF_SIGNED_CERT')),
    describeNetworkError(netError('self-signed certificate', 'DEPTH_ZERO_SELF_SIGNED_CERT')));
});

test('an attempt: ok, refused, retryable with Retry-After, redirect, network error', async () => {
  const answers = [
    answer({ status: 200, body: 'ok' }),
    answer({ status: 403, statusText: 'Forbidden', body: 'invalid_token for https://hooks.example.org/hooks/TOKEN' }),
    answer({ status: 429, body: 'slow down', headers: { 'Retry-After': '3' } }),
    answer({ status: 302, statusText: 'Found', body: '', headers: { location: 'https://elsewhere/' } }),
  ];
  const { calls, transport } = manualTransport(() => answers.shift() ?? netError('getaddrinfo ENOTFOUND hooks.example.org', 'ENOTFOUND'));
  const t = target();
  const ok = await attemptDelivery(t, request, { timeoutMs: 1000, transport });
  assert.deepEqual({ ok: ok.ok, status: ok.status, retryable: ok.retryable }, { ok: true, status: 200, retryable: false });
  assert.equal(calls[0]?.url, 'https://hooks.example.org/hooks/TOKEN');
  assert.equal(calls[0]?.request, request, 'the prepared request as it is');

  const refused = await attemptDelivery(t, request, { timeoutMs: 1000, transport });
  assert.equal(refused.retryable, false);
  assert.equal(refused.status, 403);
  assert.match(refused.error ?? '', /^HTTP 403 Forbidden: invalid_token for https:\/\/hooks\.example\.org\/\*\*\*$/);

  const limited = await attemptDelivery(t, request, { timeoutMs: 1000, transport });
  assert.equal(limited.retryable, true);
  assert.equal(limited.retryAfterMs, 3000);

  const redirected = await attemptDelivery(t, request, { timeoutMs: 1000, transport });
  assert.equal(redirected.retryable, false);
  assert.equal(redirected.status, 302);
  assert.equal(redirected.error, 'HTTP 302 Found (redirects are not followed: configure the final URL)');

  const down = await attemptDelivery(t, request, { timeoutMs: 1000, transport });
  assert.equal(down.ok, false);
  assert.equal(down.retryable, true);
  assert.equal(down.status, undefined);
  assert.equal(down.error, 'getaddrinfo ENOTFOUND hooks.example.org');
});

test('the timeout holds even against a transport that ignores its signal', async () => {
  const deaf: NotifyTransport = () => new Promise<PostAnswer>(() => undefined);
  const started = Date.now();
  const r = await attemptDelivery(target(), request, { timeoutMs: 100, transport: deaf });
  const took = Date.now() - started;
  assert.equal(r.ok, false);
  assert.equal(r.retryable, true);
  assert.equal(r.error, 'no answer within 100 ms');
  assert.ok(took >= 95 && took < 1000, String(took));
});

test('an abort (shutdown) ends an attempt at once and is not retryable', async () => {
  const deaf: NotifyTransport = () => new Promise<PostAnswer>(() => undefined);
  const ctl = new AbortController();
  setTimeout(() => ctl.abort(), 30);
  const started = Date.now();
  const r = await attemptDelivery(target(), request, { timeoutMs: 5000, transport: deaf, signal: ctl.signal });
  assert.ok(Date.now() - started < 1000);
  assert.deepEqual({ ok: r.ok, aborted: r.aborted, retryable: r.retryable }, { ok: false, aborted: true, retryable: false });
});

test('an answer that comes after the timeout is closed', async () => {
  let closed = 0;
  const late: NotifyTransport = () => new Promise<PostAnswer>((resolve) => setTimeout(() => resolve({ ...answer(), close: () => closed++ }), 80));
  const r = await attemptDelivery(target(), request, { timeoutMs: 20, transport: late });
  assert.equal(r.error, 'no answer within 20 ms');
  await new Promise((res) => setTimeout(res, 120));
  assert.equal(closed, 1);
});

// ---- the real transport, node:http against a server on 127.0.0.1 ----

interface Seen { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }

async function server(handler: (req: http.IncomingMessage, res: http.ServerResponse, seen: Seen) => void): Promise<{ url: (p: string) => string; seen: Seen[]; srv: http.Server; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(s);
      handler(req, res, s);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  return {
    url: (p) => `http://127.0.0.1:${port}${p}`,
    seen,
    srv,
    close: () => {
      srv.closeAllConnections();
      return new Promise<void>((r) => srv.close(() => r()));
    },
  };
}

const connections = (srv: http.Server): Promise<number> => new Promise((r, j) => srv.getConnections((e, n) => (e ? j(e) : r(n))));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('http: the prepared headers and body exactly, Content-Length in bytes; no connection left open', async (t) => {
  const s = await server((_req, res) => res.end('ok'));
  t.after(() => s.close());
  const prepared = buildRequest({ format: 'slack' }, { kind: 'give_up', severity: 'warning', container: 'wéb', host: 'h', atMs: 0, summary: 'gave up — ünïcode', urls: [], level: 'INFO' });
  const r = await attemptDelivery(target(`json+${s.url('/hooks/TOKEN?x=1')}`), prepared, { timeoutMs: 2000 });
  assert.deepEqual({ ok: r.ok, status: r.status }, { ok: true, status: 200 });
  const q = s.seen[0];
  assert.ok(q);
  assert.equal(q.method, 'POST');
  assert.equal(q.url, '/hooks/TOKEN?x=1');
  assert.equal(q.body, prepared.body);
  assert.equal(q.headers['content-type'], 'application/json');
  assert.equal(q.headers['user-agent'], 'repairman');
  assert.equal(q.headers['content-length'], String(Buffer.byteLength(prepared.body)));
  assert.ok(Buffer.byteLength(prepared.body) > prepared.body.length, 'the body has multi-byte characters');
  assert.equal(q.headers['transfer-encoding'], undefined);
  assert.equal(q.headers.connection, 'close', 'no keep-alive');
  await sleep(50);
  assert.equal(await connections(s.srv), 0);
});

test('http: statuses, Retry-After and a redirect, which is not followed', async (t) => {
  const s = await server((req, res) => {
    if (req.url === '/busy') res.writeHead(503, { 'retry-after': '7' }).end('try later');
    else if (req.url === '/moved') res.writeHead(301, { location: '/elsewhere' }).end();
    else if (req.url === '/elsewhere') res.end('ok');
    else res.writeHead(404, 'Nope').end('no such hook');
  });
  t.after(() => s.close());
  const busy = await attemptDelivery(target(s.url('/busy')), request, { timeoutMs: 2000 });
  assert.deepEqual({ ok: busy.ok, status: busy.status, retryable: busy.retryable, retryAfterMs: busy.retryAfterMs }, { ok: false, status: 503, retryable: true, retryAfterMs: 7000 });
  assert.equal(busy.error, 'HTTP 503 Service Unavailable: try later');
  const moved = await attemptDelivery(target(s.url('/moved')), request, { timeoutMs: 2000 });
  assert.deepEqual({ ok: moved.ok, status: moved.status, retryable: moved.retryable }, { ok: false, status: 301, retryable: false });
  assert.equal(moved.error, 'HTTP 301 Moved Permanently (redirects are not followed: configure the final URL)');
  const gone = await attemptDelivery(target(s.url('/x')), request, { timeoutMs: 2000 });
  assert.equal(gone.error, 'HTTP 404 Nope: no such hook');
  assert.deepEqual(s.seen.map((q) => `${q.method} ${q.url}`), ['POST /busy', 'POST /moved', 'POST /x']);
});

test('http: a huge error body is not downloaded: 200 characters shown, the connection closed', async (t) => {
  let written = 0;
  const s = await server((_req, res) => {
    res.writeHead(500, { 'content-type': 'text/plain' });
    const chunk = Buffer.alloc(64 * 1024, 'é'.repeat(32));
    // Writes until the client goes away (or 64 MB).
    const more = (): void => {
      while (written < 64 * 1024 * 1024 && !res.destroyed) {
        written += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', more);
      }
      res.end();
    };
    res.on('close', () => undefined);
    more();
  });
  t.after(() => s.close());
  const r = await attemptDelivery(target(s.url('/hooks/x')), request, { timeoutMs: 5000 });
  assert.equal(r.status, 500);
  assert.equal(r.retryable, true);
  const said = (r.error ?? '').replace(/^HTTP 500 Internal Server Error: /, '');
  assert.equal(said, 'é'.repeat(200));
  await sleep(100);
  assert.equal(await connections(s.srv), 0);
  assert.ok(written < 16 * 1024 * 1024, `the server got to write ${written} bytes`);
});

test('http: the timeout covers the headers and the body; an answered status counts even when its body hangs', async (t) => {
  const s = await server((req, res) => {
    if (req.url === '/silent') return; // never answers
    res.writeHead(req.url === '/slow-ok' ? 200 : 500);
    res.write('start of a body that never ends');
  });
  t.after(() => s.close());
  let t0 = Date.now();
  const silent = await attemptDelivery(target(s.url('/silent')), request, { timeoutMs: 150 });
  assert.deepEqual({ ok: silent.ok, retryable: silent.retryable, error: silent.error }, { ok: false, retryable: true, error: 'no answer within 150 ms' });
  assert.ok(Date.now() - t0 < 1000);
  t0 = Date.now();
  const slowOk = await attemptDelivery(target(s.url('/slow-ok')), request, { timeoutMs: 150 });
  assert.deepEqual({ ok: slowOk.ok, status: slowOk.status }, { ok: true, status: 200 });
  const slowFail = await attemptDelivery(target(s.url('/slow-fail')), request, { timeoutMs: 150 });
  assert.deepEqual({ ok: slowFail.ok, status: slowFail.status, error: slowFail.error }, { ok: false, status: 500, error: 'HTTP 500 Internal Server Error' }, 'a body cut by the timeout is not shown');
  assert.ok(Date.now() - t0 < 1500);
  await sleep(50);
  assert.equal(await connections(s.srv), 0, 'the timed-out connections are closed');
});

test('http: an abort (shutdown) cuts the connection; a refused connection is named', async (t) => {
  const s = await server(() => undefined);
  t.after(() => s.close());
  const ctl = new AbortController();
  setTimeout(() => ctl.abort(), 50);
  const r = await attemptDelivery(target(s.url('/hooks/x')), request, { timeoutMs: 5000, signal: ctl.signal });
  assert.deepEqual({ ok: r.ok, aborted: r.aborted, retryable: r.retryable, error: r.error }, { ok: false, aborted: true, retryable: false, error: 'abandoned: shutting down' });
  await sleep(50);
  assert.equal(await connections(s.srv), 0);

  // A port with nobody behind it: the one the server had, once closed.
  const port = (s.srv.address() as AddressInfo).port;
  await s.close();
  const refused = await attemptDelivery(target(`http://127.0.0.1:${port}/hooks/TOKEN`), request, { timeoutMs: 2000 });
  assert.deepEqual({ ok: refused.ok, retryable: refused.retryable, error: refused.error }, { ok: false, retryable: true, error: `connect ECONNREFUSED 127.0.0.1:${port}` });
});

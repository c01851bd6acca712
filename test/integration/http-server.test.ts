// Real HTTP requests against startHttpServer over a fake state: every route, status code and body
// shape, literal prefixes, bad queries, HEAD/404/405, oversized and malformed targets, shutdown.
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/log.js';
import { startHttpServer, type RunningHttpServer } from '../../src/http/server.js';
import { FakeState, ODD_NAME, SECRET_URL } from '../helpers/fake-state.js';
import { httpRequest, rawRequest, type TestResponse } from '../helpers/http.js';
import type { Explanation } from '../../src/state/explain/types.js';
import type { StateView } from '../../src/state/types.js';

const NOW = Date.UTC(2024, 4, 17, 12, 0, 0);
const ERROR_SHAPE = (r: TestResponse, status: number, code: string): void => {
  assert.equal(r.status, status, r.body);
  assert.match(String(r.headers['content-type']), /^application\/json/);
  const body = JSON.parse(r.body) as { error: { code: string; message: string } };
  assert.deepEqual(Object.keys(body), ['error']);
  assert.equal(body.error.code, code);
  assert.equal(typeof body.error.message, 'string');
  assert.ok(body.error.message.length > 0);
};

async function start(prefix: string, state = new FakeState({ nowMs: NOW })): Promise<{ srv: RunningHttpServer; state: FakeState }> {
  const srv = await startHttpServer({ address: '127.0.0.1', port: 0, prefix, state, log: silentLogger, now: () => NOW, timeZone: 'Europe/Warsaw' });
  return { srv, state };
}

describe('http: the original report at the prefix root', () => {
  let srv: RunningHttpServer;
  let state: FakeState;
  before(async () => ({ srv, state } = await start('/rm')));
  after(() => srv.close());

  it('answers 500 with the report keys sorted and typed as the original', async () => {
    const r = await httpRequest(srv.port, '/rm/');
    assert.equal(r.status, 500);
    assert.match(String(r.headers['content-type']), /^application\/json; charset=utf-8$/);
    const body = JSON.parse(r.body) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body), ['constantly_failing', 'constantly_failing_count', 'global_status', 'last_events']);
    // Sorted in the bytes too, not only after parsing.
    const at = ['"constantly_failing"', '"constantly_failing_count"', '"global_status"', '"last_events"'].map((k) => r.body.indexOf(k));
    assert.deepEqual([...at].sort((a, b) => a - b), at);
    assert.equal(body.global_status, false);
    const failing = body.constantly_failing as Record<string, unknown>[];
    assert.equal(body.constantly_failing_count, failing.length);
    // longer_wait (db), given_up (queue), limit reached in the previous frame and restarted again (cache).
    assert.deepEqual(failing.map((f) => f.id), ['cache', 'db', 'queue']);
    for (const f of failing) {
      assert.deepEqual(Object.keys(f), ['id', 'ident', 'reached_max_in_previous_frame', 'restarts_in_current_frame']);
      assert.equal(typeof f.id, 'string');
      assert.equal(f.ident, `${String(f.id)}=False`);
      assert.equal(typeof f.restarts_in_current_frame, 'number');
      assert.equal(typeof f.reached_max_in_previous_frame, 'boolean');
    }
    assert.deepEqual(failing.find((f) => f.id === 'cache'), { id: 'cache', ident: 'cache=False', reached_max_in_previous_frame: true, restarts_in_current_frame: 1 });
    const events = body.last_events as Record<string, unknown>[];
    assert.equal(events.length, 20);
    const nums = events.map((e) => e.num as number);
    assert.deepEqual(nums, [...nums].sort((a, b) => b - a), 'newest first');
    assert.equal(nums[0], 32);
    for (const e of events) {
      assert.deepEqual(Object.keys(e), ['container', 'date', 'message', 'num']);
      assert.equal(typeof e.num, 'number');
      assert.equal(typeof e.container, 'string');
      assert.equal(typeof e.message, 'string');
      assert.match(e.date as string, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    }
    assert.equal(events[0]?.date, '2024-05-17 11:59:59', 'UTC, as the original');
    assert.ok(!r.body.includes('SECRETTOKEN'), 'the notify URL in a message is masked');
  });

  it('answers 200 with global_status true when nothing is failing', async () => {
    const s = new FakeState({ nowMs: NOW });
    s.allGood();
    const { srv: srv2 } = await start('', s);
    try {
      const r = await httpRequest(srv2.port, '/');
      assert.equal(r.status, 200);
      const body = JSON.parse(r.body) as Record<string, unknown>;
      assert.equal(body.global_status, true);
      assert.deepEqual(body.constantly_failing, []);
      assert.equal(body.constantly_failing_count, 0);
    } finally {
      await srv2.close();
    }
  });

  it('takes ?limit from 1 to 1000', async () => {
    for (const [q, n] of [['1', 1], ['5', 5], ['1000', 32], ['020', 20]] as const) {
      const r = await httpRequest(srv.port, `/rm/?limit=${q}`);
      assert.equal(r.status, 500);
      assert.equal((JSON.parse(r.body) as { last_events: unknown[] }).last_events.length, n, `limit=${q}`);
    }
    assert.equal(state.eventQueries.at(-1)?.limit, 20);
  });

  it('refuses a bad ?limit with 400 and a JSON error', async () => {
    for (const q of ['limit=0', 'limit=1001', 'limit=-1', 'limit=abc', 'limit=1.5', 'limit=', 'limit', 'limit=1&limit=2', 'limit=%2B5', 'limit=1e2', 'limit=%205', 'limit=99999999999999999999']) {
      const r = await httpRequest(srv.port, `/rm/?${q}`);
      ERROR_SHAPE(r, 400, 'RM_HTTP_BAD_QUERY');
      assert.match(JSON.parse(r.body).error.message as string, /limit/);
    }
    // The browser page validates the same way.
    ERROR_SHAPE(await httpRequest(srv.port, '/rm/?limit=0', { headers: { accept: 'text/html' } }), 400, 'RM_HTTP_BAD_QUERY');
  });

  it('serves the status page to a browser, with the report status, a nonce CSP and escaped names', async () => {
    const r = await httpRequest(srv.port, '/rm', { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    assert.equal(r.status, 500);
    assert.match(String(r.headers['content-type']), /^text\/html; charset=utf-8$/);
    assert.match(r.body, /^<!doctype html>/);
    const csp = String(r.headers['content-security-policy']);
    const nonce = /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)?.[1];
    assert.ok(nonce, csp);
    assert.match(csp, /default-src 'none'/);
    assert.ok(!csp.includes('unsafe-inline') && !csp.includes('unsafe-eval'));
    assert.ok(r.body.includes(`<script nonce="${nonce}">`));
    assert.ok(r.body.includes(`<style nonce="${nonce}">`));
    assert.equal((r.body.match(/<script/g) ?? []).length, 1, 'one script only');
    assert.ok(!r.body.includes('<img'), 'the odd name never becomes an element');
    assert.ok(r.body.includes('odd&#60;img src=x onerror=&#34;window.__pwned=1&#34;&#62;&#38;&#39;name'));
    assert.ok(!r.body.includes('SECRETTOKEN'));
    assert.ok(!/src=["']?https?:/i.test(r.body) && !/href=["']?https?:/i.test(r.body), 'no external assets');
    assert.match(r.body, /data-base="\.\/rm\/"/, 'relative base from /rm (no slash)');
    const r2 = await httpRequest(srv.port, '/rm/', { headers: { accept: 'text/html' } });
    assert.match(r2.body, /data-base="\.\/"/);
    const nonce2 = /nonce-([^']+)'/.exec(String(r2.headers['content-security-policy']))?.[1];
    assert.notEqual(nonce2, nonce, 'a fresh nonce per response');
  });
});

describe('http: the prefix is literal text', () => {
  const PREFIX = '/a.b(c)+';
  let srv: RunningHttpServer;
  before(async () => ({ srv } = await start(PREFIX)));
  after(() => srv.close());

  it('serves the root with and without a trailing slash', async () => {
    assert.equal((await httpRequest(srv.port, '/a.b(c)+')).status, 500);
    assert.equal((await httpRequest(srv.port, '/a.b(c)+/')).status, 500);
    assert.equal((await httpRequest(srv.port, '/a.b%28c%29%2B/')).status, 500, 'percent-encoded form of the same text');
    assert.equal((await httpRequest(srv.port, '/a.b(c)+/healthz')).status, 200);
    assert.equal((await httpRequest(srv.port, '/a.b(c)+/healthz/')).status, 200);
  });

  it('does not treat the prefix as a pattern', async () => {
    for (const p of ['/aXb(c)+', '/aXb(c)+/healthz', '/a.b(c)', '/a.bc', '/a.b(c)++', '/a.b(c)+x/healthz', '/a.b(c)+healthz', '/healthz', '/', '/A.B(C)+', '/x/a.b(c)+/healthz']) {
      ERROR_SHAPE(await httpRequest(srv.port, p), 404, 'RM_HTTP_NOT_FOUND');
    }
  });

  it('accepts a prefix configured with a trailing slash or without the leading one', async () => {
    for (const configured of ['/p/', 'p', '/p//']) {
      const { srv: s } = await start(configured);
      try {
        assert.equal((await httpRequest(s.port, '/p')).status, 500, configured);
        assert.equal((await httpRequest(s.port, '/p/healthz')).status, 200, configured);
        assert.equal((await httpRequest(s.port, '/healthz')).status, 404, configured);
        assert.match(s.url, /\/p\/$/);
      } finally {
        await s.close();
      }
    }
  });
});

describe('http: liveness, metrics and the JSON API', () => {
  let srv: RunningHttpServer;
  let state: FakeState;
  before(async () => ({ srv, state } = await start('/SgbaCaVyewq')));
  after(() => srv.close());
  const P = '/SgbaCaVyewq';

  it('/healthz: 200 {status: ok}, then 503 with the reason when the engine is down', async () => {
    const ok = await httpRequest(srv.port, `${P}/healthz`);
    assert.equal(ok.status, 200);
    assert.deepEqual(JSON.parse(ok.body), { status: 'ok' });
    const s = new FakeState({ nowMs: NOW });
    s.engineDown();
    const { srv: down } = await start(P, s);
    try {
      const r = await httpRequest(down.port, `${P}/healthz`);
      assert.equal(r.status, 503);
      const body = JSON.parse(r.body) as { status: string; reason: string };
      assert.equal(body.status, 'unavailable');
      assert.match(body.reason, /engine not answering/);
    } finally {
      await down.close();
    }
  });

  it('/healthz: 200 {status: degraded} with each degradation, masked, while the engine answers', async () => {
    const s = new FakeState({ nowMs: NOW });
    s.degrade(`the journal cannot be written (disk full), see ${SECRET_URL}`, 'a socket proxy refused a call');
    const { srv: part } = await start(P, s);
    try {
      const r = await httpRequest(part.port, `${P}/healthz`);
      assert.equal(r.status, 200);
      const body = JSON.parse(r.body) as { status: string; degraded: string[] };
      assert.equal(body.status, 'degraded');
      assert.equal(body.degraded.length, 2);
      assert.match(body.degraded[0] ?? '', /^the journal cannot be written \(disk full\)/);
      assert.ok(!r.body.includes(SECRET_URL), 'URLs in a degradation are masked');
      s.engineDown();
      s.degrade('still degraded');
      const down = await httpRequest(part.port, `${P}/healthz`);
      assert.equal(down.status, 503, 'an engine that does not answer is still a 503');
      assert.deepEqual((JSON.parse(down.body) as { degraded: string[] }).degraded, ['still degraded']);
    } finally {
      await part.close();
    }
  });

  it('/metrics: Prometheus text with the app metrics, process metrics and request counts', async () => {
    await httpRequest(srv.port, `${P}/healthz`);
    await httpRequest(srv.port, `${P}/nope`);
    const r = await httpRequest(srv.port, `${P}/metrics`);
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    assert.match(r.body, /^repairman_restarts_total\{reason="unhealthy"\} 3$/m);
    assert.match(r.body, /^# TYPE repairman_process_resident_memory_bytes gauge$/m);
    assert.match(r.body, /^repairman_process_resident_memory_bytes \d+$/m);
    assert.match(r.body, /^repairman_uptime_seconds 10925$/m);
    assert.match(r.body, /^repairman_http_requests_total\{route="\/healthz",status="200"\} [1-9]\d*$/m);
    assert.match(r.body, /^repairman_http_requests_total\{route="unmatched",status="404"\} [1-9]\d*$/m);
    assert.match(r.body, /^repairman_build_info\{version="9\.9\.9-test"\} 1$/m);
    assert.ok(!/[0-9a-f]{64}/.test(r.body), 'no container ids');
    for (const line of r.body.trim().split('\n')) {
      assert.match(line, /^(# (HELP|TYPE) [a-z_:]+ .+|[a-z_:]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [-+0-9.eEInfa]+)$/, line);
    }
  });

  it('/api/containers: containers with budget, duplicates, health, a 24 h timeline; secrets masked', async () => {
    const r = await httpRequest(srv.port, `${P}/api/containers`);
    assert.equal(r.status, 200);
    const body = JSON.parse(r.body) as {
      containers: { name: string; budget: { state: string }; labelProblems: { value: string }[] }[];
      duplicates: { name: string; heldBack: string | null }[];
      health: { ok: boolean };
      timeline: { sinceMs: number; untilMs: number; restarts: { container: string; atMs: number }[] };
      timeZone: string;
      generatedAtMs: number;
      version: string;
    };
    assert.deepEqual(Object.keys(body).sort(), ['containers', 'duplicates', 'generatedAtMs', 'health', 'pauses', 'startedAtMs', 'timeZone', 'timeline', 'version']);
    assert.equal(body.containers.length, state.containerList.length);
    assert.deepEqual(body.containers.map((c) => c.budget.state).filter((s, i, a) => a.indexOf(s) === i).sort(), ['given_up', 'longer_wait', 'ok', 'waiting']);
    assert.ok(body.containers.some((c) => c.name === ODD_NAME));
    assert.equal(body.duplicates.length, 2);
    assert.equal(body.health.ok, true);
    assert.equal(body.timeZone, 'Europe/Warsaw');
    assert.equal(body.generatedAtMs, NOW);
    assert.equal(body.timeline.untilMs - body.timeline.sinceMs, 24 * 3600_000);
    assert.equal(body.timeline.restarts.length, 6, 'the one 30 h ago is left out');
    assert.ok(!r.body.includes('SECRETTOKEN') && !r.body.includes(SECRET_URL));
    const notifier = body.containers.find((c) => c.name === 'notifier');
    assert.equal(notifier?.labelProblems[0]?.value, 'https://hooks.slack.com/***');
  });

  it('/api/events: newest first, paged with a next cursor, filtered by container', async () => {
    const seen: number[] = [];
    let next: number | null = null;
    let pages = 0;
    do {
      const r = await httpRequest(srv.port, `${P}/api/events?limit=10${next === null ? '' : `&before=${next}`}`);
      assert.equal(r.status, 200);
      const body = JSON.parse(r.body) as { events: { num: number; container: string; kind: string; atMs: number; message: string }[]; next: number | null };
      assert.deepEqual(Object.keys(body).sort(), ['events', 'next']);
      assert.ok(body.events.length <= 10);
      seen.push(...body.events.map((e) => e.num));
      next = body.next;
      pages += 1;
    } while (next !== null && pages < 10);
    assert.equal(pages, 4);
    assert.deepEqual(seen, Array.from({ length: 32 }, (_, i) => 32 - i));
    const web = JSON.parse((await httpRequest(srv.port, `${P}/api/events?container=web&limit=1000`)).body) as { events: { container: string }[]; next: null };
    assert.equal(web.events.length, 15);
    assert.ok(web.events.every((e) => e.container === 'web'));
    assert.equal(web.next, null);
    const odd = JSON.parse((await httpRequest(srv.port, `${P}/api/events?container=${encodeURIComponent(ODD_NAME)}`)).body) as { events: { container: string }[] };
    assert.equal(odd.events[0]?.container, ODD_NAME);
    const exact = JSON.parse((await httpRequest(srv.port, `${P}/api/events?limit=32`)).body) as { next: number | null };
    assert.equal(exact.next, null, 'no next page when exactly everything fits');
    assert.ok(!(await httpRequest(srv.port, `${P}/api/events?limit=1000`)).body.includes('SECRETTOKEN'));
  });

  it('/api/events: bad queries are 400', async () => {
    for (const q of ['limit=0', 'limit=x', 'before=0', 'before=-3', 'before=abc', 'container=', 'before=1&before=2', `container=${'x'.repeat(300)}`]) {
      ERROR_SHAPE(await httpRequest(srv.port, `${P}/api/events?${q}`), 400, 'RM_HTTP_BAD_QUERY');
    }
  });
});

describe('http: server hygiene', () => {
  let srv: RunningHttpServer;
  let state: FakeState;
  before(async () => ({ srv, state } = await start('/p')));
  after(() => srv.close());
  const ROUTES = ['/p/', '/p', '/p/healthz', '/p/metrics', '/p/api/containers', '/p/api/events'];

  it('answers HEAD on every GET route with the GET headers and no body', async () => {
    for (const path of ROUTES) {
      const g = await httpRequest(srv.port, path);
      const h = await httpRequest(srv.port, path, { method: 'HEAD' });
      assert.equal(h.status, g.status, path);
      assert.equal(h.body, '', path);
      assert.equal(h.headers['content-type'], g.headers['content-type'], path);
      if (path !== '/p/metrics') assert.equal(h.headers['content-length'], g.headers['content-length'], path);
    }
    const page = await httpRequest(srv.port, '/p/', { method: 'HEAD', headers: { accept: 'text/html' } });
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.equal(page.body, '');
  });

  it('sets security headers on every answer', async () => {
    for (const path of [...ROUTES, '/nope', '/p/%FF']) {
      const r = await httpRequest(srv.port, path);
      assert.equal(r.headers['x-content-type-options'], 'nosniff', path);
      assert.equal(r.headers['cache-control'], 'no-store', path);
      assert.ok(String(r.headers['content-security-policy']).includes("default-src 'none'"), path);
    }
  });

  it('answers 404 with JSON for unknown paths and 405 with Allow for other methods', async () => {
    for (const path of ['/nope', '/p/nope', '/p/api', '/p/api/containers/x', '/p//healthz', '/pp', '/p/healthz/x']) {
      ERROR_SHAPE(await httpRequest(srv.port, path), 404, 'RM_HTTP_NOT_FOUND');
    }
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      for (const path of ['/p/', '/p/healthz', '/p/api/events']) {
        const r = await httpRequest(srv.port, path, { method });
        ERROR_SHAPE(r, 405, 'RM_HTTP_METHOD_NOT_ALLOWED');
        assert.equal(r.headers.allow, 'GET, HEAD');
      }
    }
    ERROR_SHAPE(await httpRequest(srv.port, '/elsewhere', { method: 'POST' }), 404, 'RM_HTTP_NOT_FOUND');
  });

  it('refuses a huge path (414, and 431 past what Node parses) and keeps serving', async () => {
    ERROR_SHAPE(await httpRequest(srv.port, `/p/${'a'.repeat(8000)}`), 414, 'RM_HTTP_BAD_REQUEST');
    ERROR_SHAPE(await httpRequest(srv.port, `/p/?limit=1&x=${'a'.repeat(5000)}`), 414, 'RM_HTTP_BAD_REQUEST');
    const huge = await rawRequest(srv.port, Buffer.from(`GET /p/${'b'.repeat(40_000)} HTTP/1.1\r\nHost: x\r\n\r\n`));
    assert.equal(huge.status, 431);
    assert.match(huge.raw, /"code": "RM_HTTP_BAD_REQUEST"/);
    assert.equal((await httpRequest(srv.port, '/p/healthz')).status, 200);
  });

  it('answers 400, not a crash, to non-UTF-8 and malformed percent-encoding', async () => {
    for (const path of ['/p/%FF', '/p/%E2%82', '/p/%zz', '/p/%', '/p/healthz%', '/p/%C0%AF', '/p/?limit=%FF', '/p/api/events?container=%E2%82', '/p/%00']) {
      ERROR_SHAPE(await httpRequest(srv.port, path), 400, 'RM_HTTP_BAD_REQUEST');
    }
    for (const bytes of [[0xff, 0xfe], [0xc3, 0xa9], [0x80]]) {
      const head = Buffer.concat([Buffer.from('GET /p/'), Buffer.from(bytes), Buffer.from(' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')]);
      const r = await rawRequest(srv.port, head);
      assert.equal(r.status, 400, r.raw);
      assert.match(r.raw, /RM_HTTP_BAD_REQUEST/);
    }
    const garbage = await rawRequest(srv.port, Buffer.from('\x00\x01\x02 nonsense\r\n\r\n', 'latin1'));
    assert.equal(garbage.status, 400);
    assert.equal((await httpRequest(srv.port, '/p/healthz')).status, 200);
  });

  it('answers 500 with a JSON error when the state throws, and keeps serving', async () => {
    state.broken = true;
    try {
      ERROR_SHAPE(await httpRequest(srv.port, '/p/api/containers'), 500, 'RM_HTTP_INTERNAL');
      ERROR_SHAPE(await httpRequest(srv.port, '/p/'), 500, 'RM_HTTP_INTERNAL');
    } finally {
      state.broken = false;
    }
    assert.equal((await httpRequest(srv.port, '/p/api/containers')).status, 200);
  });

  it('drops a request whose head never completes (408) and an idle keep-alive connection', async () => {
    const s = await startHttpServer({
      address: '127.0.0.1', port: 0, prefix: '/t', state, log: silentLogger, timeouts: { headersMs: 800, requestMs: 1500, keepAliveMs: 500 },
    });
    try {
      const t0 = Date.now();
      const r = await rawRequest(s.port, Buffer.from('GET /t/healthz HTTP/1.1\r\nHost: x\r\n'), 10_000);
      assert.equal(r.status, 408, r.raw);
      assert.ok(Date.now() - t0 < 5000, `dropped after ${Date.now() - t0} ms`);
      // Keep-alive: after one answer the connection is closed by the server once idle.
      const sock = connect({ host: '127.0.0.1', port: s.port });
      const closed = new Promise<number>((resolve) => sock.on('close', () => resolve(Date.now())));
      sock.on('data', () => undefined);
      await new Promise<void>((resolve) => sock.on('connect', () => resolve()));
      const sent = Date.now();
      sock.write('GET /t/healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      const at = await closed;
      assert.ok(at - sent < 4000, `idle keep-alive closed after ${at - sent} ms`);
    } finally {
      await s.close();
    }
  });
});

describe('http: shutdown', () => {
  it('close() resolves promptly with an idle keep-alive connection open', async () => {
    const { srv } = await start('');
    const agent = new Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      request({ port: srv.port, host: '127.0.0.1', path: '/healthz', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve());
      }).on('error', reject).end();
    });
    const t0 = Date.now();
    await srv.close();
    assert.ok(Date.now() - t0 < 1500, `closed in ${Date.now() - t0} ms`);
    agent.destroy();
    await assert.rejects(httpRequest(srv.port, '/healthz', { timeoutMs: 2000 }));
  });

  it('closes when its signal aborts, and close() stays callable', async () => {
    const ctl = new AbortController();
    const srv = await startHttpServer({ address: '127.0.0.1', port: 0, prefix: '', state: new FakeState({ nowMs: NOW }), log: silentLogger, signal: ctl.signal });
    assert.equal((await httpRequest(srv.port, '/healthz')).status, 200);
    ctl.abort();
    await srv.close();
    await srv.close();
    await assert.rejects(httpRequest(srv.port, '/healthz', { timeoutMs: 2000 }));
  });

  it('rejects when the port is taken', async () => {
    const { srv } = await start('');
    try {
      await assert.rejects(
        startHttpServer({ address: '127.0.0.1', port: srv.port, prefix: '', state: new FakeState({ nowMs: NOW }), log: silentLogger }),
        /cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE/,
      );
    } finally {
      await srv.close();
    }
  });

  it('reports a URL that reaches it, 0.0.0.0 shown as 127.0.0.1', async () => {
    const srv = await startHttpServer({ address: '0.0.0.0', port: 0, prefix: '/x', state: new FakeState({ nowMs: NOW }), log: silentLogger });
    try {
      assert.equal(srv.url, `http://127.0.0.1:${srv.port}/x/`);
      assert.equal((await httpRequest(srv.port, '/x/healthz')).status, 200);
    } finally {
      await srv.close();
    }
  });
});

describe('http: /api/explain (repairman explain NAME)', () => {
  let srv: RunningHttpServer;
  const asked: { name: string; timeZone: string; nowMs: number }[] = [];
  before(async () => {
    const state = new FakeState({ nowMs: NOW }) as FakeState & { explain: NonNullable<StateView['explain']> };
    state.explain = async (name: string, opts: { nowMs: number; timeZone: string }) => {
      asked.push({ name, timeZone: opts.timeZone, nowMs: opts.nowMs });
      if (name === 'broken') throw new Error('connect ECONNREFUSED /tmp/engine/docker.sock');
      const known = name === 'web';
      return {
        asked: name, name: known ? 'web' : null, verdict: known ? 'acts' : 'unknown', reason: known ? 'acts' : 'unknown',
        sentence: known ? 'Acting: it is unhealthy, and Repairman restarts it.' : `Unknown: no container is named "${name}" (did you mean web?).`,
        next: 'n', settings: [{ key: 'notify_url', value: 'https://hooks.example/SECRETTOKEN', source: 'env' }], timeZone: opts.timeZone,
      } as unknown as Explanation;
    };
    ({ srv } = await start('/p', state));
  });
  after(() => srv.close());

  it('200 with the explanation, in the zone asked for (else the server\'s), secrets masked', async () => {
    const r = await httpRequest(srv.port, '/p/api/explain?name=web&tz=UTC');
    assert.equal(r.status, 200, r.body);
    const body = JSON.parse(r.body) as { sentence: string; timeZone: string };
    assert.equal(body.sentence, 'Acting: it is unhealthy, and Repairman restarts it.');
    assert.equal(body.timeZone, 'UTC');
    assert.ok(!r.body.includes('SECRETTOKEN'), r.body);
    await httpRequest(srv.port, '/p/api/explain?name=web');
    assert.deepEqual(asked.map((a) => [a.name, a.timeZone, a.nowMs]), [['web', 'UTC', NOW], ['web', 'Europe/Warsaw', NOW]]);
  });

  it('404 with a JSON error and the explanation ("did you mean") for an unknown name', async () => {
    const r = await httpRequest(srv.port, '/p/api/explain?name=wev');
    assert.equal(r.status, 404);
    const body = JSON.parse(r.body) as { error: { code: string; message: string }; explanation: { verdict: string } };
    assert.deepEqual(body.error, { code: 'RM_HTTP_NOT_FOUND', message: 'Unknown: no container is named "wev" (did you mean web?).' });
    assert.equal(body.explanation.verdict, 'unknown');
  });

  it('400 for a missing or bad name or zone; 503 (masked) when the engine cannot be asked', async () => {
    for (const q of ['', 'name=', `name=${'x'.repeat(256)}`, 'name=web&tz=Mars/Olympus']) {
      ERROR_SHAPE(await httpRequest(srv.port, `/p/api/explain?${q}`), 400, 'RM_HTTP_BAD_QUERY');
    }
    const r = await httpRequest(srv.port, '/p/api/explain?name=broken');
    ERROR_SHAPE(r, 503, 'RM_STATE_UNAVAILABLE');
    assert.match(r.body, /ECONNREFUSED/);
  });

  it('counts its requests under the route label /api/explain', async () => {
    const m = await httpRequest(srv.port, '/p/metrics');
    assert.match(m.body, /^repairman_http_requests_total\{route="\/api\/explain",status="200"\} 2$/m);
    assert.match(m.body, /^repairman_http_requests_total\{route="\/api\/explain",status="404"\} 1$/m);
  });
});

// Reliability: the real HTTP server of a running Repairman (the built binary, on the shared private
// engine) answers every fuzzed request with a clear status and a JSON error, never an internal error,
// and keeps running and healing: random methods, paths in and out of the prefix, percent-escapes good
// and bad, raw non-UTF-8 bytes, NULs, dot segments, huge targets and headers, odd Accept headers and
// every query parameter with random values, sent side by side on raw sockets.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { hasTestEngine, removeNamespace, runContainer, uniqueNamespace } from '../helpers/engine.js';
import { rawRequest } from '../helpers/http.js';
import { QUICK_STOP_CMD, startRepairman, type RepairmanProcess } from '../helpers/repairman.js';
import { report } from './helpers/report.js';
import { assertAliveAndClean, rssMb } from './helpers/observe.js';

const REQUESTS = Number(process.env.REPAIRMAN_HTTP_FUZZ_REQUESTS ?? 3000);
const PARALLEL = 16;
const PREFIX = '/pfx';

/** Statuses a request may get: ok, bad request, not found, method not allowed, too long, headers too large, unhealthy. */
const ALLOWED = new Set([200, 400, 404, 405, 408, 414, 431, 503]);

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

// Pieces of request targets, as raw bytes.
const segment = fc.oneof(
  fc.constantFrom('', 'healthz', 'metrics', 'api', 'containers', 'events', 'pfx', 'PFX', '.', '..', '%2e%2e', '%2F', 'index.html', '%00', '%', '%zz', '%C3%A9', '%FF%FE', '%E2%82', '%ED%A0%80', ';', '~', '*').map(b),
  fc.string({ maxLength: 12 }).map((s) => Buffer.from(encodeURIComponent(s))),
  fc.uint8Array({ minLength: 1, maxLength: 8 }).map((a) => Buffer.from(a.map((x) => (x === 0x20 || x === 0x0a || x === 0x0d ? 0x41 : x)))),
);
const queryValue = fc.oneof(
  fc.constantFrom('1', '0', '-1', '1000', '1001', '20', '1e3', '0x10', '9007199254740993', '', '%', '%FF', 'abc', ' 5', '5 ', '%205', '１', '99999999999999999999999').map(b),
  fc.string({ maxLength: 30 }).map((s) => Buffer.from(encodeURIComponent(s))),
  fc.uint8Array({ maxLength: 10 }).map((a) => Buffer.from(a.map((x) => (x <= 0x20 || x === 0x7f ? 0x42 : x)))),
);
const query = fc.array(fc.tuple(fc.constantFrom('limit', 'before', 'container', 'x', '', 'limit[]', 'LIMIT'), queryValue), { maxLength: 5 }).map((pairs) =>
  pairs.length === 0 ? Buffer.alloc(0) : Buffer.concat([b('?'), ...pairs.flatMap(([k, v], i) => [b(i ? '&' : ''), b(k), b('='), v])]),
);
const target = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.boolean(), fc.array(segment, { maxLength: 5 }), query).map(([inPrefix, segs, q]) => Buffer.concat([b(inPrefix ? PREFIX : ''), ...segs.flatMap((s) => [b('/'), s]), q])) },
  { weight: 1, arbitrary: fc.constantFrom('*', 'http://x/pfx/healthz', '//pfx//healthz', '/pfx/healthz/', '/pfx?limit=5', '/pfx/api/events?limit=1&limit=2').map(b) },
  // Long and huge: around the 4 KiB target limit, and beyond Node's 16 KiB head limit.
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(4000, 4096, 4097, 9000, 17_000, 70_000), fc.constantFrom('a', '%41', '/')).map(([n, unit]) => Buffer.concat([b(`${PREFIX}/api/events?container=`), b(unit.repeat(Math.ceil(n / unit.length)))])) },
);
const method = fc.oneof({ weight: 6, arbitrary: fc.constant('GET') }, { weight: 1, arbitrary: fc.constantFrom('HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'CONNECT', 'BREW', 'get') });
const accept = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom('text/html', 'application/json', '*/*', 'text/html;q=abc', 'text/html;q=0.5, application/json', 'text/html, application/json;q=NaN', ',,,;;;', 'text/html;q=1e400'),
  fc.string({ maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, ' ')),
);
const extraHeader = fc.oneof(fc.constant(''), fc.constantFrom('X-Big: ' + 'y'.repeat(20_000) + '\r\n', 'Content-Length: 5\r\n', 'Transfer-Encoding: chunked\r\n', 'Host: \r\n', 'Expect: 100-continue\r\n'));
const request = fc.record({ method, target, accept, extraHeader });

function head(r: { method: string; target: Buffer; accept: string | undefined; extraHeader: string }): Buffer {
  const headers = `Host: 127.0.0.1\r\n${r.accept === undefined ? '' : `Accept: ${r.accept}\r\n`}${r.extraHeader}Connection: close\r\n\r\n`;
  const body = r.extraHeader.startsWith('Content-Length') ? 'hello' : r.extraHeader.startsWith('Transfer-Encoding') ? '5\r\nhello\r\n0\r\n\r\n' : '';
  return Buffer.concat([b(`${r.method} `), r.target, b(` HTTP/1.1\r\n${headers}${body}`)]);
}

/**
 * A bare node:http server on the same Node, fed the same requests: the runtime's own memory per
 * connection (BENCHMARKS.md, "Node 24 and node:sqlite") is its growth; Repairman's share is the rest.
 */
const BARE_SERVER = `const s = require('node:http').createServer((q, r) => { q.resume(); r.writeHead(404, { 'content-type': 'application/json' }); r.end('{}'); });
s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;
/** What Repairman's own code may add over the bare server in one run (it measured ~10 MB on Node 20 and 24). */
const OWN_GROWTH_LIMIT_MB = 20;

async function startBareServer(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['-e', BARE_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  return { child, port: Number(line.toString().trim()) };
}

/** Sends every request, PARALLEL at a time, to a port; onAnswer sees each answer. */
async function sendAll(port: number, samples: Parameters<typeof head>[0][], onAnswer: (r: Parameters<typeof head>[0], raw: Buffer, res: { status: number; raw: string } | Error) => void): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < samples.length) {
      const r = samples[next++]!;
      const raw = head(r);
      try {
        onAnswer(r, raw, finalAnswer(await rawRequest(port, raw, 15_000)));
      } catch (err) {
        onAnswer(r, raw, err instanceof Error ? err : new Error(String(err)));
      }
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
}

/** Skip interim answers (100 Continue to an Expect header): the final one is what counts. */
function finalAnswer(res: { status: number; raw: string }): { status: number; raw: string } {
  let raw = res.raw;
  while (/^HTTP\/1\.[01] 1\d\d /.test(raw) && raw.includes('\r\n\r\n')) raw = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
  return { status: m ? Number(m[1]) : 0, raw };
}

describe('reliability: fuzzed HTTP requests against the running server', { skip: !hasTestEngine() && 'REPAIRMAN_TEST_DOCKER_HOST is not set' }, () => {
  const ns = uniqueNamespace('rel-http');
  let rm: RepairmanProcess;

  before(async () => {
    await runContainer(`${ns}web`, { cmd: QUICK_STOP_CMD, health: { cmd: 'test -f /tmp/ok' } });
    rm = await startRepairman({ namespace: ns, http: true, intervalSec: 2, args: ['--http-prefix', PREFIX] });
  });
  after(async () => {
    await rm?.stop();
    await removeNamespace(ns);
  });

  it(`answers ${REQUESTS} random requests clearly and keeps running`, async () => {
    const samples = fc.sample(request, { numRuns: REQUESTS, seed: Number(process.env.REPAIRMAN_FUZZ_SEED ?? Date.now() % 2 ** 31) });
    const bare = await startBareServer();
    let bareGrowth: number;
    try {
      const bareBefore = rssMb(bare.child.pid!) ?? 0;
      await sendAll(bare.port, samples, () => {});
      bareGrowth = (rssMb(bare.child.pid!) ?? 0) - bareBefore;
    } finally {
      bare.child.kill();
    }
    const rssBefore = rssMb(rm.child.pid!) ?? 0;
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    await sendAll(rm.httpPort!, samples, (r, raw, res) => {
      if (res instanceof Error) {
        // The server may cut a connection it refuses (e.g. a huge head); it must not hang.
        if (/timed out/.test(String(res))) failures.push(`no answer within 15 s to ${raw.subarray(0, 120).toString('latin1')}`);
        return;
      }
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const what = `${r.method} ${r.target.subarray(0, 100).toString('latin1')} -> ${res.status}`;
      if (res.status === 0) return; // connection closed without an answer (refused head): fine
      if (!ALLOWED.has(res.status)) failures.push(`unexpected status: ${what}\n${res.raw.slice(0, 300)}`);
      if (res.status >= 400 && r.method !== 'HEAD') {
        const body = res.raw.slice(res.raw.indexOf('\r\n\r\n') + 4);
        try {
          const json = JSON.parse(body) as { error?: { code?: string; message?: string }; status?: string; reason?: string };
          const clear = res.status === 503 ? Boolean(json.reason) : Boolean(json.error?.code?.startsWith('RM_HTTP_') && json.error.message);
          if (!clear) failures.push(`unclear error body: ${what}: ${body.slice(0, 200)}`);
          if (json.error?.code === 'RM_HTTP_INTERNAL') failures.push(`internal error: ${what}`);
        } catch {
          failures.push(`error body is not JSON: ${what}: ${body.slice(0, 200)}`);
        }
      }
    });
    assert.deepEqual(failures.slice(0, 20), [], `${failures.length} bad answers`);
    assertAliveAndClean(rm);
    assert.deepEqual(rm.find((l) => l.msg.startsWith('http: failed') || l.msg === 'http server error'), []);
    // Still serving, and still healthy.
    const ok = await rawRequest(rm.httpPort!, b(`GET ${PREFIX}/healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
    assert.equal(ok.status, 200, ok.raw);
    const rssAfter = rssMb(rm.child.pid!) ?? 0;
    const ownGrowth = rssAfter - rssBefore - Math.max(0, bareGrowth);
    assert.ok(ownGrowth < OWN_GROWTH_LIMIT_MB, `RSS grew from ${rssBefore.toFixed(1)} to ${rssAfter.toFixed(1)} MB, ${ownGrowth.toFixed(1)} MB more than a bare node:http server's ${bareGrowth.toFixed(1)} MB`);
    const summary = [...statuses.entries()].sort((x, y) => x[0] - y[0]).map(([s, n]) => `${s}:${n}`).join(' ');
    report('fuzz: HTTP', `${REQUESTS} requests, statuses ${summary}; RSS ${rssBefore.toFixed(1)} -> ${rssAfter.toFixed(1)} MB (a bare node:http server: +${bareGrowth.toFixed(1)} MB)`);
  });
});

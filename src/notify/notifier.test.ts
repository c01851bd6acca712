import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../log.js';
import { MetricsRegistry } from '../metrics/registry.js';
import type { NotifyTransport } from './delivery.js';
import { createNotifier, METRIC_NOTIFICATIONS, METRIC_QUEUE_LENGTH, type NotifierOptions } from './notifier.js';
import { severityOf } from './levels.js';
import type { NotifyEvent } from './types.js';
import { answer, manualTransport, netError } from '../../test/helpers/notify-transport.js';

function capture(): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const out = new Writable({ write(chunk: Buffer, _enc, cb) { lines.push(...chunk.toString().split('\n').filter(Boolean)); cb(); } });
  return { lines, log: createLogger({ out, format: 'json', level: 'debug' }) };
}

function ev(over: Partial<NotifyEvent> = {}): NotifyEvent {
  const kind = over.kind ?? 'give_up';
  return { kind, severity: severityOf(kind), container: 'web', host: 'h', atMs: 0, summary: 's', urls: ['https://a.example.org/hooks/SECRET-A'], level: 'INFO', ...over };
}

// Every notifier is closed at the end even when its test failed half way (no timers left behind).
const created: { close(): Promise<void> }[] = [];
after(async () => {
  await Promise.all(created.map((n) => n.close()));
});

function make(extra: Partial<NotifierOptions> & Pick<NotifierOptions, 'transport'>) {
  const metrics = new MetricsRegistry();
  const { lines, log } = capture();
  const n = createNotifier({ log, metrics, backoffBaseMs: 10, backoffMaxMs: 40, closeGraceMs: 100, ...extra });
  created.push(n);
  const count = (result: string): number => metrics.get(METRIC_NOTIFICATIONS, { result }) ?? -1;
  return { n, metrics, lines, count };
}

const tick = (ms = 5): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('level filtering: only events due at the container level are posted; test messages always', async () => {
  const { calls, transport } = manualTransport(() => answer());
  const { n, count } = make({ transport });
  n.send(ev({ kind: 'restart', level: 'INFO' })); // debug < INFO
  n.send(ev({ kind: 'recovered', level: 'WARNING' })); // info < WARNING
  n.send(ev({ kind: 'recovered', level: 'INFO', summary: 'due-1' }));
  n.send(ev({ kind: 'restart', level: 'DEBUG', summary: 'due-2' }));
  n.send(ev({ kind: 'test', severity: 'debug', level: 'WARNING', summary: 'due-3' }));
  await n.idle();
  assert.deepEqual(calls.map((c) => /due-\d/.exec(c.body)?.[0]), ['due-1', 'due-2', 'due-3']);
  assert.equal(count('sent'), 3);
  await n.close();
});

test('send returns at once, never throws, even on garbage', async () => {
  const { transport } = manualTransport();
  const { n, lines } = make({ transport });
  const started = Date.now();
  for (let i = 0; i < 100; i++) n.send(ev());
  assert.ok(Date.now() - started < 200);
  assert.doesNotThrow(() => n.send(null as unknown as NotifyEvent));
  assert.doesNotThrow(() => n.send({ kind: 'give_up' } as unknown as NotifyEvent));
  assert.doesNotThrow(() => n.send(ev({ urls: [42 as unknown as string, ''] })));
  assert.ok(lines.some((l) => l.includes('could not be queued')));
  await n.close();
});

test('one destination at a time and in order; several destinations in parallel; duplicate URLs once', async () => {
  const { calls, transport } = manualTransport();
  const { n, count } = make({ transport });
  const A = 'https://a.example.org/hooks/SECRET-A';
  const B = 'https://b.example.org/hooks/SECRET-B';
  n.send(ev({ summary: 'one', urls: [A, B, ` ${A} `] }));
  n.send(ev({ summary: 'two', urls: [A] }));
  await tick();
  assert.deepEqual(calls.map((c) => c.url).sort(), [A, B]);
  calls.find((c) => c.url === A)?.resolve(answer());
  await tick();
  assert.equal(calls.length, 3);
  assert.ok(calls[2]?.body.includes('two'));
  for (const c of calls.slice(1)) c.resolve(answer());
  await n.idle();
  assert.equal(count('sent'), 3);
  await n.close();
});

test('retries on 5xx and network errors with backoff, gives up after maxAttempts; 4xx not retried', async () => {
  let i = 0;
  const { calls, transport } = manualTransport(() => (i++ % 2 ? answer({ status: 502, body: 'no' }) : netError('connect ECONNREFUSED 127.0.0.1:9', 'ECONNREFUSED')));
  const { n, count, lines } = make({ transport, maxAttempts: 3 });
  n.send(ev());
  await n.idle();
  assert.equal(calls.length, 3);
  assert.equal(count('retried'), 2);
  assert.equal(count('failed'), 1);
  assert.equal(count('sent'), 0);
  assert.ok(lines.some((l) => l.includes('notification failed (after 3 attempts)')));
  assert.ok(lines.every((l) => !l.includes('SECRET')), 'URLs masked in every log line');

  const r2 = manualTransport(() => answer({ status: 404, body: 'gone' }));
  const m2 = make({ transport: r2.transport });
  m2.n.send(ev());
  await m2.n.idle();
  assert.equal(r2.calls.length, 1);
  assert.equal(m2.count('failed'), 1);
  assert.equal(m2.count('retried'), 0);
  assert.ok(m2.lines.some((l) => l.includes('not retried') && l.includes('HTTP 404') && l.includes('https://a.example.org/***')));
  await n.close();
  await m2.n.close();
});

test('queue overflow drops the oldest waiting message and counts it', async () => {
  const { calls, transport } = manualTransport();
  const { n, count, metrics, lines } = make({ transport, queueLimit: 3 });
  for (let i = 1; i <= 5; i++) n.send(ev({ summary: `m${i}` }));
  await tick();
  // m1 in flight, m2 m3 waiting; m4 dropped m2, m5 dropped m3.
  assert.equal(count('dropped'), 2);
  assert.equal(metrics.get(METRIC_QUEUE_LENGTH), 3);
  assert.ok(lines.some((l) => l.includes('oldest message dropped')));
  const delivered: string[] = [];
  while (delivered.length < 3) {
    await tick();
    const c = calls[delivered.length];
    if (!c) continue;
    delivered.push(/m\d/.exec(c.body)?.[0] ?? '?');
    c.resolve(answer());
  }
  await n.idle();
  assert.deepEqual(delivered, ['m1', 'm4', 'm5']);
  assert.equal(metrics.get(METRIC_QUEUE_LENGTH), 0);
  await n.close();
});

test('when every queued message is in flight, the new one is dropped', async () => {
  const { transport } = manualTransport();
  const { n, count } = make({ transport, queueLimit: 2 });
  n.send(ev({ urls: ['http://a/x'] }));
  n.send(ev({ urls: ['http://b/x'] }));
  await tick();
  n.send(ev({ urls: ['http://c/x'] }));
  assert.equal(count('dropped'), 1);
  await n.close();
});

test('unusable URLs are counted failed and logged once, masked', async () => {
  const { calls, transport } = manualTransport(() => answer());
  const { n, count, lines } = make({ transport });
  for (let i = 0; i < 3; i++) n.send(ev({ urls: ['ftp://files.example.org/SECRET', 'https://ok.example.org/hooks/x'] }));
  await n.idle();
  assert.equal(calls.length, 3);
  assert.equal(count('failed'), 3);
  assert.equal(lines.filter((l) => l.includes('notification URL unusable')).length, 1);
  assert.ok(lines.every((l) => !l.includes('SECRET')));
  await n.close();
});

test('a repeated configuration error is posted once; forget() makes it news again', async () => {
  const { calls, transport } = manualTransport(() => answer());
  const { n } = make({ transport });
  const bad = ev({ kind: 'config_error', reason: 'stop_timeout="x"', dedupeKey: 'org.riotkit.repairman.stop_timeout' });
  for (let i = 0; i < 5; i++) n.send(bad);
  await n.idle();
  assert.equal(calls.length, 1);
  n.send({ ...bad, reason: 'stop_timeout="y"' });
  n.forget('web');
  n.send({ ...bad, reason: 'stop_timeout="y"' });
  await n.idle();
  assert.equal(calls.length, 3);
  await n.close();
});

test('close: stops accepting, a hanging delivery is abandoned after the grace, resolves quickly', async () => {
  const { calls, transport } = manualTransport();
  const { n, count } = make({ transport, closeGraceMs: 150, timeoutMs: 60_000 });
  n.send(ev({ summary: 'hangs' }));
  n.send(ev({ summary: 'waits' }));
  await tick();
  assert.equal(calls.length, 1);
  const started = Date.now();
  await n.close();
  const took = Date.now() - started;
  assert.ok(took >= 140 && took < 2000, String(took)); // the grace, not the 60 s timeout
  assert.equal(count('dropped'), 2, 'the in-flight and the waiting one');
  n.send(ev());
  assert.equal(count('dropped'), 3, 'after close: dropped');
  assert.equal(n.stats().queueLength, 0);
  assert.equal(await Promise.race([n.close().then(() => 'same'), tick(50).then(() => 'slow')]), 'same');
});

test('close within the grace lets quick deliveries finish; a retry wait ends at once', async () => {
  let first = true;
  const { calls, transport } = manualTransport(() => {
    if (first) { first = false; return answer({ status: 503, body: 'busy' }); }
    return answer();
  });
  const { n, count } = make({ transport, backoffBaseMs: 60_000, backoffMaxMs: 60_000, closeGraceMs: 300 });
  n.send(ev({ urls: ['http://retry.example.org/x'] }));
  await tick(20);
  n.send(ev({ urls: ['http://quick.example.org/x'] }));
  const started = Date.now();
  await n.close();
  assert.ok(Date.now() - started < 300);
  assert.equal(count('failed'), 1, 'the one waiting for its retry');
  assert.equal(count('sent'), 1, 'the quick one went out');
  assert.equal(calls.length, 2);
});

test('the abort signal closes the notifier', async () => {
  const ctl = new AbortController();
  const { transport } = manualTransport(() => answer());
  const { n, count } = make({ transport, signal: ctl.signal });
  ctl.abort();
  await tick();
  n.send(ev());
  assert.equal(count('dropped'), 1);
});

test('metrics exist from the start, at zero', () => {
  const { transport } = manualTransport();
  const { metrics } = make({ transport });
  const text = metrics.render();
  for (const r of ['sent', 'failed', 'dropped', 'retried']) assert.ok(text.includes(`repairman_notifications_total{result="${r}"} 0`), r);
});

test('each source has its own share: one container\'s label URLs never crowd out the global URLs (docs/behaviour.md §5)', async () => {
  const GLOBAL = 'https://admin.example.org/hooks/admin';
  // Label destinations never answer; the admin's at once.
  const { calls, transport } = manualTransport((url) => (url === GLOBAL ? answer() : new Error('unreachable')));
  const hang: NotifyTransport = (url, request, signal) => (url === GLOBAL ? transport(url, request, signal) : new Promise(() => undefined));
  const { n, count, lines } = make({ transport: hang, queueLimit: 10, labelShare: 3, globalUrls: [GLOBAL], timeoutMs: 60_000 });
  // One container floods 5 label URLs with 20 events: only its share (3) is ever queued.
  for (let i = 0; i < 20; i++) {
    n.send(ev({ container: 'flood', summary: `f${i}`, urls: Array.from({ length: 5 }, (_, j) => `https://t.example.org/hooks/${j}`) }));
  }
  assert.equal(n.stats().queueLength, 3);
  // Other containers' messages to the global URL all get through.
  for (let i = 0; i < 10; i++) n.send(ev({ container: `app${i}`, summary: `admin-${i}`, urls: [GLOBAL] }));
  await waitUntil(() => calls.filter((c) => c.url === GLOBAL).length === 10);
  assert.ok(count('dropped') >= 97, `dropped ${count('dropped')}`);
  assert.ok(lines.filter((l) => l.includes('queue full')).every((l) => l.includes('"container":"flood"')));
  await n.close();
});

test('the reply of a label URL is never read into a log line; the admin\'s URL\'s is', async () => {
  const GLOBAL = 'https://admin.example.org/hooks/admin';
  const { transport } = manualTransport(() => answer({ status: 404, statusText: 'Not Found', body: 'internal-service-secret-reply' }));
  const { n, lines } = make({ transport, globalUrls: [GLOBAL] });
  n.send(ev({ container: 'a', urls: ['https://admin.example.org/hooks/label-chosen'] }));
  n.send(ev({ container: 'b', urls: [GLOBAL] }));
  await n.idle();
  const failed = lines.filter((l) => l.includes('notification failed'));
  assert.equal(failed.length, 2);
  assert.equal(failed.filter((l) => l.includes('internal-service-secret-reply')).length, 1);
  assert.ok(failed.find((l) => l.includes('"container":"b"'))?.includes('internal-service-secret-reply'));
  await n.close();
});

async function waitUntil(fn: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error('timed out');
    await tick(5);
  }
}

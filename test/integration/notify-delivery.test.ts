// Delivery over real HTTP: retries, Retry-After, timeouts, isolation of destinations, the queue bound,
// shutdown. Short timeouts and backoffs keep it fast; each test states the ones it relies on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, silentLogger } from '../../src/log.js';
import { MetricsRegistry } from '../../src/metrics/registry.js';
import { createNotifier, METRIC_NOTIFICATIONS, METRIC_QUEUE_LENGTH } from '../../src/notify/notifier.js';
import type { NotifyEvent } from '../../src/notify/types.js';
import { startReceiver } from '../helpers/receiver.js';

function ev(urls: string[], summary = 'gave up'): NotifyEvent {
  return { kind: 'give_up', severity: 'warning', container: 'web', host: 'h', atMs: Date.now(), summary, urls, level: 'INFO' };
}

function counts(m: MetricsRegistry): Record<string, number | undefined> {
  const out: Record<string, number | undefined> = {};
  for (const r of ['sent', 'failed', 'dropped', 'retried']) out[r] = m.get(METRIC_NOTIFICATIONS, { result: r });
  return out;
}

test('500 then 200: delivered exactly once (two requests, one success)', async (t) => {
  const rx = await startReceiver({ replies: [{ status: 500 }, { status: 200 }] });
  const metrics = new MetricsRegistry();
  const n = createNotifier({ log: silentLogger, metrics, backoffBaseMs: 50 });
  t.after(async () => { await n.close(); await rx.close(); });
  n.send(ev([rx.url('/hooks/x')]));
  await n.idle();
  await new Promise((r) => setTimeout(r, 200)); // nothing more arrives
  assert.equal(rx.requests.length, 2);
  assert.equal(rx.requests[0]?.body, rx.requests[1]?.body);
  assert.deepEqual(counts(metrics), { sent: 1, failed: 0, dropped: 0, retried: 1 });
});

test('429 with Retry-After: 1 is retried after about a second, not before', async (t) => {
  const rx = await startReceiver({ replies: [{ status: 429, headers: { 'retry-after': '1' } }] });
  const metrics = new MetricsRegistry();
  // A 5 s backoff: an answer after 1 s can only come from honouring Retry-After.
  const n = createNotifier({ log: silentLogger, metrics, backoffBaseMs: 5000 });
  t.after(async () => { await n.close(); await rx.close(); });
  n.send(ev([rx.url('/hooks/x')]));
  const [first, second] = await rx.waitForRequests(2, 5000);
  const gap = (second?.atMs ?? 0) - (first?.atMs ?? 0);
  assert.ok(gap >= 1000, `retried after ${gap} ms, before Retry-After`);
  assert.ok(gap < 2000, `retried after ${gap} ms`);
  await n.idle();
  assert.deepEqual(counts(metrics), { sent: 1, failed: 0, dropped: 0, retried: 1 });
});

test('429 with Retry-After as an HTTP-date is honoured too', async (t) => {
  const rx = await startReceiver();
  rx.reply = (req) => (rx.requests.indexOf(req) === 0 ? { status: 429, headers: { 'retry-after': new Date(Date.now() + 2000).toUTCString() } } : { status: 200 });
  const n = createNotifier({ log: silentLogger, metrics: new MetricsRegistry(), backoffBaseMs: 5000 });
  t.after(async () => { await n.close(); await rx.close(); });
  n.send(ev([rx.url('/hooks/x')]));
  const [first, second] = await rx.waitForRequests(2, 6000);
  const gap = (second?.atMs ?? 0) - (first?.atMs ?? 0);
  // The date has one-second resolution: between 1 and 2 s from now.
  assert.ok(gap >= 900 && gap < 2600, `retried after ${gap} ms`);
});

test('a hanging receiver times out and does not delay another destination', async (t) => {
  const hang = await startReceiver({ fallback: { hang: true } });
  const ok = await startReceiver();
  const metrics = new MetricsRegistry();
  const n = createNotifier({ log: silentLogger, metrics, timeoutMs: 1000, maxAttempts: 2, backoffBaseMs: 50 });
  t.after(async () => { await n.close(); await hang.close(); await ok.close(); });
  const sentAt = Date.now();
  for (let i = 1; i <= 3; i++) n.send(ev([hang.url('/hooks/h'), ok.url('/hooks/o')], `message ${i}`));
  const okDone = await ok.waitForRequests(3, 5000);
  // The hanging one: first attempt cut after 1 s, a retry 50 ms later, cut again, then message 2.
  const [a1, a2, b1] = await hang.waitForRequests(3, 6000);
  assert.ok(a1 && a2 && b1);
  const cutAt = a1.abortedAtMs ?? 0;
  assert.ok(cutAt - sentAt >= 1000 && cutAt - sentAt < 2500, `first attempt cut ${cutAt - sentAt} ms after sending`);
  assert.ok((okDone[2]?.atMs ?? Infinity) < cutAt, 'the healthy destination had all three messages before the hanging one timed out');
  // Lower bounds from the moment of sending hold whatever the event loop's lag (client and receiver
  // share this process): the client cannot send the retry before timeout + backoff has passed.
  assert.ok(a2.atMs - sentAt >= 1050, `the retry came ${a2.atMs - sentAt} ms after sending (timeout 1000 + backoff 50)`);
  assert.match(a2.body, /message 1/);
  assert.ok(a2.abortedAtMs !== undefined, 'the retry was cut by the timeout too');
  assert.ok(b1.atMs - sentAt >= 2050, `one at a time, in order (message 2 came ${b1.atMs - sentAt} ms after sending)`);
  assert.match(b1.body, /message 2/);
  assert.equal(metrics.get(METRIC_NOTIFICATIONS, { result: 'sent' }), 3);
  await waitUntil(() => (metrics.get(METRIC_NOTIFICATIONS, { result: 'failed' }) ?? 0) >= 1);
});

async function waitUntil(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a 4xx other than 429 is not retried; a refused connection is', async (t) => {
  const gone = await startReceiver({ fallback: { status: 404, body: 'no such hook' } });
  const closed = await startReceiver();
  const closedUrl = closed.url('/hooks/c');
  await closed.close();
  const metrics = new MetricsRegistry();
  const lines: string[] = [];
  const out = new Writable({ write(c: Buffer, _e, cb) { lines.push(c.toString()); cb(); } });
  const n = createNotifier({ log: createLogger({ out, format: 'json', level: 'debug' }), metrics, maxAttempts: 3, backoffBaseMs: 20 });
  t.after(async () => { await n.close(); await gone.close(); });
  n.send(ev([gone.url('/hooks/SECRET'), closedUrl + '?token=SECRET']));
  await n.idle();
  assert.equal(gone.requests.length, 1);
  assert.deepEqual(counts(metrics), { sent: 0, failed: 2, dropped: 0, retried: 2 });
  const text = lines.join('');
  assert.match(text, /HTTP 404 Not Found: no such hook/);
  assert.match(text, /ECONNREFUSED/);
  assert.ok(!text.includes('SECRET'), 'URLs are masked in every log line');
  assert.ok(text.includes(`http://127.0.0.1:${gone.port}/***`));
});

test('queue overflow: the oldest waiting messages are dropped and counted', async (t) => {
  const hang = await startReceiver({ fallback: { hang: true } });
  const metrics = new MetricsRegistry();
  const n = createNotifier({ log: silentLogger, metrics, queueLimit: 5, timeoutMs: 10_000, closeGraceMs: 100 });
  t.after(async () => { await n.close(); await hang.close(); });
  for (let i = 1; i <= 12; i++) n.send(ev([hang.url('/hooks/h')], `message ${i}`));
  assert.equal(metrics.get(METRIC_QUEUE_LENGTH), 5);
  assert.equal(metrics.get(METRIC_NOTIFICATIONS, { result: 'dropped' }), 7);
  assert.match(metrics.render(), /repairman_notifications_total\{result="dropped"\} 7/);
  await hang.waitForRequests(1);
  assert.match(hang.requests[0]?.body ?? '', /message 1\b/);
  await n.close();
  // At shutdown the in-flight one and the 4 still waiting are abandoned (dropped as well).
  assert.equal(metrics.get(METRIC_NOTIFICATIONS, { result: 'dropped' }), 12);
  assert.equal(metrics.get(METRIC_QUEUE_LENGTH), 0);
});

test('close() with a hanging receiver and a long backlog resolves well within a second', async (t) => {
  const hang = await startReceiver({ fallback: { hang: true } });
  const n = createNotifier({ log: silentLogger, metrics: new MetricsRegistry(), timeoutMs: 30_000 });
  t.after(async () => { await n.close(); await hang.close(); });
  for (let i = 0; i < 100; i++) n.send(ev([hang.url('/hooks/h')]));
  await hang.waitForRequests(1);
  const started = Date.now();
  await n.close();
  const took = Date.now() - started;
  assert.ok(took < 800, `close took ${took} ms`);
  assert.ok(took >= 450, `the in-flight delivery got its grace (${took} ms)`);
});

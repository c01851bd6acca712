import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attemptDelivery, backoffDelayMs, describeNetworkError, isRetryableStatus, parseRetryAfter } from './delivery.js';
import { parseNotifyTarget, type NotifyTarget } from './targets.js';

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

test('network errors name the cause and never the URL', () => {
  const err = new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED https://h.example.org/hooks/TOKEN') });
  const text = describeNetworkError(err);
  assert.match(text, /fetch failed: connect ECONNREFUSED https:\/\/h\.example\.org\/\*\*\*/);
  assert.ok(!text.includes('TOKEN'));
});

test('an attempt: ok, refused, retryable with Retry-After, network error', async () => {
  const answers: Response[] = [
    new Response('ok', { status: 200 }),
    new Response('invalid_token for https://hooks.example.org/hooks/TOKEN', { status: 403, statusText: 'Forbidden' }),
    new Response('slow down', { status: 429, headers: { 'retry-after': '3' } }),
    new Response('', { status: 302, headers: { location: 'https://elsewhere/' } }),
  ];
  const seen: { url: string; init: RequestInit | undefined }[] = [];
  const fetchImpl = (async (url: string | URL | Request, init?: RequestInit) => {
    seen.push({ url: String(url), init });
    const a = answers.shift();
    if (!a) throw new TypeError('fetch failed', { cause: new Error('getaddrinfo ENOTFOUND hooks.example.org') });
    return a;
  }) as typeof fetch;
  const t = target();
  const ok = await attemptDelivery(t, request, { timeoutMs: 1000, fetchImpl });
  assert.deepEqual({ ok: ok.ok, status: ok.status, retryable: ok.retryable }, { ok: true, status: 200, retryable: false });
  assert.equal(seen[0]?.url, 'https://hooks.example.org/hooks/TOKEN');
  assert.equal(seen[0]?.init?.method, 'POST');
  assert.equal(seen[0]?.init?.body, request.body);
  assert.equal(seen[0]?.init?.redirect, 'manual');

  const refused = await attemptDelivery(t, request, { timeoutMs: 1000, fetchImpl });
  assert.equal(refused.retryable, false);
  assert.equal(refused.status, 403);
  assert.match(refused.error ?? '', /^HTTP 403 Forbidden: invalid_token for https:\/\/hooks\.example\.org\/\*\*\*$/);

  const limited = await attemptDelivery(t, request, { timeoutMs: 1000, fetchImpl });
  assert.equal(limited.retryable, true);
  assert.equal(limited.retryAfterMs, 3000);

  const redirected = await attemptDelivery(t, request, { timeoutMs: 1000, fetchImpl });
  assert.equal(redirected.retryable, false);
  assert.match(redirected.error ?? '', /redirects are not followed/);

  const down = await attemptDelivery(t, request, { timeoutMs: 1000, fetchImpl });
  assert.equal(down.ok, false);
  assert.equal(down.retryable, true);
  assert.equal(down.status, undefined);
  assert.match(down.error ?? '', /ENOTFOUND/);
});

test('the timeout holds even against a fetch that ignores its signal', async () => {
  const deaf = (() => new Promise<Response>(() => undefined)) as typeof fetch;
  const started = Date.now();
  const r = await attemptDelivery(target(), request, { timeoutMs: 100, fetchImpl: deaf });
  const took = Date.now() - started;
  assert.equal(r.ok, false);
  assert.equal(r.retryable, true);
  assert.equal(r.error, 'no answer within 100 ms');
  assert.ok(took >= 95 && took < 1000, String(took));
});

test('an abort (shutdown) ends an attempt at once and is not retryable', async () => {
  const deaf = (() => new Promise<Response>(() => undefined)) as typeof fetch;
  const ctl = new AbortController();
  setTimeout(() => ctl.abort(), 30);
  const started = Date.now();
  const r = await attemptDelivery(target(), request, { timeoutMs: 5000, fetchImpl: deaf, signal: ctl.signal });
  assert.ok(Date.now() - started < 1000);
  assert.deepEqual({ ok: r.ok, aborted: r.aborted, retryable: r.retryable }, { ok: false, aborted: true, retryable: false });
});

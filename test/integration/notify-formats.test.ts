// Each format, end to end over real HTTP: the exact body and headers a receiver gets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/log.js';
import { MetricsRegistry } from '../../src/metrics/registry.js';
import { createNotifier } from '../../src/notify/notifier.js';
import type { NotifyEvent } from '../../src/notify/types.js';
import { startReceiver, type RecordedRequest } from '../helpers/receiver.js';

const ZW = '\u200b';

const EVENT: Omit<NotifyEvent, 'urls'> = {
  kind: 'restart',
  severity: 'debug',
  container: 'shop-web',
  host: 'srv-7',
  atMs: Date.UTC(2024, 5, 30, 23, 59, 58),
  summary: 'Restarted the container',
  reason: 'unhealthy for 3 checks',
  next: 'next restart not before 2024-07-01 00:00:13 UTC',
  healthOutput: 'wget: server returned error: HTTP/1.1 503 <Service Unavailable> & @channel',
  logLines: ['GET /health 503', '```oops```'],
  level: 'DEBUG',
};

const TEXT_LINES = (b: (s: string) => string, esc: (s: string) => string): string[] => [
  b('[DEBUG] Restarted container `shop-web`'),
  'Host: `srv-7` · 2024-06-30 23:59:58 UTC',
  `${b('What happened:')} Restarted the container`,
  `${b('Why:')} unhealthy for 3 checks`,
  `${b('Next:')} next restart not before 2024-07-01 00:00:13 UTC`,
  b('Last health check output:'),
  '```',
  esc(`wget: server returned error: HTTP/1.1 503 <Service Unavailable> & @${ZW}channel`),
  '```',
  b('Last 2 log lines:'),
  '```',
  `GET /health 503\n\`${ZW}\`${ZW}\`oops\`${ZW}\`${ZW}\``,
  '```',
];

const slackText = TEXT_LINES((s) => `*${s}*`, (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')).join('\n');
const markdownLines = TEXT_LINES((s) => `**${s}**`, (s) => s);
const markdownText = markdownLines.join('\n');

async function deliver(url: string): Promise<RecordedRequest> {
  const rx = await startReceiver();
  const n = createNotifier({ log: silentLogger, metrics: new MetricsRegistry(), timeZone: 'UTC' });
  try {
    n.send({ ...EVENT, urls: [url.replace('RX', `127.0.0.1:${rx.port}`)] });
    const [req] = await rx.waitForRequests(1);
    await n.idle();
    assert.ok(req);
    assert.equal(rx.requests.length, 1);
    return req;
  } finally {
    await n.close();
    await rx.close();
  }
}

function assertJsonPost(req: RecordedRequest, path: string): void {
  assert.equal(req.method, 'POST');
  assert.equal(req.path, path);
  assert.equal(req.headers['content-type'], 'application/json');
  assert.equal(req.headers['user-agent'], 'repairman');
  assert.equal(Number(req.headers['content-length']), Buffer.byteLength(req.body));
}

test('Slack (slack+ prefix here; hooks.slack.com in production): {"text"} with Slack escapes', async () => {
  const req = await deliver('slack+http://RX/services/T000/B000/XXXX');
  assertJsonPost(req, '/services/T000/B000/XXXX');
  assert.equal(req.body, JSON.stringify({ text: slackText }));
});

test('any other http URL: the Slack-compatible {"text"} body', async () => {
  const req = await deliver('http://RX/some/endpoint?token=abc');
  assertJsonPost(req, '/some/endpoint?token=abc');
  assert.equal(req.body, JSON.stringify({ text: slackText }));
});

test('Mattermost (a /hooks/ path): {"text"} in Markdown', async () => {
  const req = await deliver('http://RX/hooks/xyz123');
  assertJsonPost(req, '/hooks/xyz123');
  assert.equal(req.body, JSON.stringify({ text: markdownText }));
});

test('Discord (discord+ prefix here; discord.com/api/webhooks in production): content, username, no mentions', async () => {
  const req = await deliver('discord+http://RX/api/webhooks/123/tok');
  assertJsonPost(req, '/api/webhooks/123/tok');
  assert.equal(req.body, JSON.stringify({ content: markdownText, username: 'Repairman', allowed_mentions: { parse: [] } }));
});

test('Apprise API (apprise+http://host/notify/KEY): title, body, type, format', async () => {
  const req = await deliver('apprise+http://RX/notify/mykey');
  assertJsonPost(req, '/notify/mykey');
  assert.equal(req.body, JSON.stringify({
    title: '[DEBUG] Restarted container shop-web',
    body: markdownLines.slice(1).join('\n'),
    type: 'info',
    format: 'markdown',
  }));
});

test('generic JSON (json+http://...): every event field except the URLs', async () => {
  const req = await deliver('json+http://RX/ingest');
  assertJsonPost(req, '/ingest');
  assert.equal(req.body, JSON.stringify({
    source: 'repairman',
    kind: 'restart',
    severity: 'debug',
    level: 'DEBUG',
    container: 'shop-web',
    host: 'srv-7',
    at: '2024-06-30T23:59:58.000Z',
    atMs: EVENT.atMs,
    title: '[DEBUG] Restarted container shop-web',
    summary: 'Restarted the container',
    reason: 'unhealthy for 3 checks',
    next: 'next restart not before 2024-07-01 00:00:13 UTC',
    healthOutput: 'wget: server returned error: HTTP/1.1 503 <Service Unavailable> & @channel',
    logLines: ['GET /health 503', '```oops```'],
    dedupeKey: null,
    text: markdownText,
  }));
});

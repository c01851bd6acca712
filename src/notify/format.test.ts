import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  appriseType, buildRequest, LIMITS, MAX_TEXT_CHARS, neutralizeFences, prepareLogs, renderMessage, sanitize,
} from './format.js';
import type { NotifyEvent } from './types.js';

const ZW = '\u200b';
const AT = Date.UTC(2024, 4, 1, 12, 3, 4);

function event(over: Partial<NotifyEvent> = {}): NotifyEvent {
  return {
    kind: 'restart', severity: 'debug', container: 'web', host: 'srv1', atMs: AT,
    summary: 'Restarted the container', reason: 'unhealthy', next: 'next restart not before 12:03:19 UTC',
    healthOutput: 'curl: (7) Failed to connect', logLines: ['booting', 'listening on :80'],
    urls: ['https://hooks.slack.com/services/SECRET'], level: 'DEBUG', ...over,
  };
}

const opts = { timeZone: 'UTC' };

test('Slack: the whole message, field by field', () => {
  const req = buildRequest({ format: 'slack' }, event(), opts);
  assert.deepEqual(req.headers, { 'content-type': 'application/json', 'user-agent': 'repairman' });
  assert.deepEqual(JSON.parse(req.body), {
    text: [
      '*[DEBUG] Restarted container `web`*',
      'Host: `srv1` · 2024-05-01 12:03:04 UTC',
      '*What happened:* Restarted the container',
      '*Why:* unhealthy',
      '*Next:* next restart not before 12:03:19 UTC',
      '*Last health check output:*',
      '```',
      'curl: (7) Failed to connect',
      '```',
      '*Last 2 log lines:*',
      '```',
      'booting\nlistening on :80',
      '```',
    ].join('\n'),
  });
});

test('Mattermost uses Markdown bold, same body shape; Discord its own body; no URL in any body', () => {
  const mm = JSON.parse(buildRequest({ format: 'mattermost' }, event(), opts).body) as { text: string };
  assert.deepEqual(Object.keys(mm), ['text']);
  assert.ok(mm.text.startsWith('**[DEBUG] Restarted container `web`**\nHost: `srv1` · 2024-05-01 12:03:04 UTC\n**What happened:**'));
  const dc = JSON.parse(buildRequest({ format: 'discord' }, event(), opts).body) as Record<string, unknown>;
  assert.deepEqual(Object.keys(dc), ['content', 'username', 'allowed_mentions']);
  assert.equal(dc.content, mm.text);
  assert.equal(dc.username, 'Repairman');
  assert.deepEqual(dc.allowed_mentions, { parse: [] });
  for (const f of ['slack', 'mattermost', 'discord', 'apprise', 'json'] as const) {
    assert.ok(!buildRequest({ format: f }, event(), opts).body.includes('SECRET'), f);
  }
});

test('Apprise: title, body, type, format', () => {
  const ap = JSON.parse(buildRequest({ format: 'apprise' }, event({ kind: 'give_up', severity: 'warning' }), opts).body) as Record<string, string>;
  assert.deepEqual(Object.keys(ap), ['title', 'body', 'type', 'format']);
  assert.equal(ap.title, '[WARNING] Gave up on container web: admin, help');
  assert.ok(String(ap.body).startsWith('Host: `srv1` · 2024-05-01 12:03:04 UTC\n**What happened:** Restarted the container'));
  assert.equal(ap.type, 'failure');
  assert.equal(ap.format, 'markdown');
  assert.equal(appriseType(event({ kind: 'recovered', severity: 'info' })), 'success');
  assert.equal(appriseType(event({ kind: 'config_error', severity: 'warning' })), 'warning');
  assert.equal(appriseType(event({ kind: 'longer_wait', severity: 'warning' })), 'warning');
  assert.equal(appriseType(event({ kind: 'restart_failed', severity: 'warning' })), 'failure');
  assert.equal(appriseType(event()), 'info');
  assert.equal(appriseType(event({ kind: 'test', severity: 'warning' })), 'info');
});

test('generic JSON: every event field but the URLs, nulls when absent', () => {
  const body = JSON.parse(buildRequest({ format: 'json' }, event({ reason: undefined, next: undefined, healthOutput: undefined, logLines: undefined }), opts).body) as Record<string, unknown>;
  assert.deepEqual(Object.keys(body), ['source', 'kind', 'severity', 'level', 'container', 'host', 'at', 'atMs', 'title', 'summary',
    'reason', 'next', 'healthOutput', 'logLines', 'dedupeKey', 'text']);
  assert.equal(body.source, 'repairman');
  assert.equal(body.at, '2024-05-01T12:03:04.000Z');
  assert.equal(body.atMs, AT);
  assert.equal(body.reason, null);
  assert.equal(body.healthOutput, null);
  assert.deepEqual(body.logLines, []);
  assert.equal(body.title, '[DEBUG] Restarted container web');
});

test('optional parts are left out when absent; no log lines is said', () => {
  const t = renderMessage(event({ reason: undefined, next: undefined, healthOutput: undefined, logLines: [] }), 'markdown', opts).text;
  assert.ok(!t.includes('Why:') && !t.includes('Next:') && !t.includes('health check'));
  assert.ok(t.includes('**Last log lines:** (none)'));
  const t2 = renderMessage(event({ logLines: undefined, healthOutput: '   \n' }), 'markdown', opts).text;
  assert.ok(!t2.includes('log lines') && !t2.includes('health check'));
});

test('container output cannot close the code block', () => {
  const t = renderMessage(event({ healthOutput: 'a ``` b ```` c', logLines: ['```', 'end```'] }), 'markdown', opts).text;
  // Exactly the four fences we opened and closed.
  assert.equal(t.split('\n').filter((l) => l.includes('```')).length, 4);
  assert.ok(t.includes(`a \`${ZW}\`${ZW}\` b \`${ZW}\`${ZW}\`${ZW}\` c`));
  assert.equal(neutralizeFences('``'), '``');
});

test('Slack: & < > escaped everywhere, mentions defused', () => {
  const t = JSON.parse(buildRequest({ format: 'slack' }, event({
    reason: 'label value <!channel> & @here', healthOutput: '<b>&amp;</b>', logLines: ['<@U123> hi @channel', '<https://evil|click>'],
  }), opts).body).text as string;
  assert.ok(!/<|>/.test(t), t);
  assert.ok(t.includes('*Why:* label value &lt;!channel&gt; &amp; @' + ZW + 'here'));
  assert.ok(t.includes('&lt;b&gt;&amp;amp;&lt;/b&gt;'));
  assert.ok(t.includes('&lt;@' + ZW + 'U123&gt; hi @' + ZW + 'channel'));
  assert.ok(!/@(channel|here|everyone)/.test(t));
});

test('Markdown formats: @mentions and <!...> defused, in and out of code blocks', () => {
  const t = renderMessage(event({ reason: '@all look', logLines: ['@everyone <!here>'] }), 'markdown', opts).text;
  assert.ok(!/@(all|everyone)|<!/.test(t), t);
  assert.ok(t.includes(`@${ZW}all look`));
});

test('terminal escapes and control characters are stripped', () => {
  assert.equal(sanitize('\u001b[31mred\u001b[0m\r\nnext\u0007\u0000'), 'red\nnext');
  const t = renderMessage(event({ logLines: ['\u001b[1;32mOK\u001b[0m\tdone\r'] }), 'markdown', opts).text;
  assert.ok(t.includes('OK\tdone\n```'), t);
});

test('only the last 10 log lines, each cut, the total bounded', () => {
  const lines = Array.from({ length: 50 }, (_, i) => `line ${i}`);
  const t = renderMessage(event({ logLines: lines }), 'markdown', opts).text;
  assert.ok(t.includes('**Last 10 log lines:**'));
  assert.ok(t.includes('line 40\n') && t.includes('line 49\n```') && !t.includes('line 39'));
  const long = prepareLogs(['x'.repeat(10_000)], 10, LIMITS.logLineChars, LIMITS.logChars) ?? [];
  assert.equal(long[0]?.length, LIMITS.logLineChars);
  assert.ok(long[0]?.endsWith('…'));
  // Multi-line entries count line by line.
  assert.deepEqual(prepareLogs(['a\nb', 'c\n'], 2, 100, 100), ['b', 'c']);
  // Over the total: the newest kept, a marker for the rest.
  assert.deepEqual(prepareLogs(['aaaa', 'bbbb', 'cccc'], 10, 100, 10), ['…', 'cccc']);
  const big = renderMessage(event({ logLines: Array.from({ length: 10 }, () => 'y'.repeat(1000)) }), 'markdown', opts).text;
  assert.ok(big.length < 4000, String(big.length));
});

test('a very long health output is cut, and long names and reasons too', () => {
  const t = renderMessage(event({ healthOutput: 'h'.repeat(50_000), reason: 'r'.repeat(5000), container: 'c'.repeat(1000) }), 'slack', opts).text;
  assert.ok(t.includes('h'.repeat(LIMITS.healthChars - 1) + '…'));
  assert.ok(!t.includes('h'.repeat(LIMITS.healthChars)));
  assert.ok(t.includes('r'.repeat(LIMITS.fieldChars - 1) + '…') && !t.includes('r'.repeat(LIMITS.fieldChars)));
  assert.ok(!t.includes('c'.repeat(LIMITS.nameChars)));
});

test('Discord content never exceeds 2000 characters and keeps the newest log lines', () => {
  const ev = event({
    summary: 's'.repeat(3000), reason: 'r'.repeat(3000), next: 'n'.repeat(3000),
    healthOutput: 'h'.repeat(3000), logLines: Array.from({ length: 10 }, (_, i) => `${i}`.repeat(400)),
  });
  const content = (JSON.parse(buildRequest({ format: 'discord' }, ev, opts).body) as { content: string }).content;
  assert.ok(content.length <= MAX_TEXT_CHARS.discord, String(content.length));
  assert.ok(content.includes('9'.repeat(50)), 'the newest line is kept');
  assert.equal(content.split('\n').filter((l) => l === '```').length, 4, 'code blocks still closed');
  // A typical message is not cut at all.
  const normal = (JSON.parse(buildRequest({ format: 'discord' }, event(), opts).body) as { content: string }).content;
  assert.ok(normal.includes('listening on :80'));
});

test('each kind has a title a person understands', () => {
  const titles = (['restart', 'multiple_failures', 'longer_wait', 'give_up', 'recovered', 'restart_failed', 'duplicate_removed', 'config_error', 'test'] as const)
    .map((kind) => renderMessage(event({ kind }), 'markdown', opts).title);
  assert.deepEqual(titles, [
    '[DEBUG] Restarted container web',
    '[DEBUG] Container web keeps failing after restarts',
    '[DEBUG] Maximum restarts reached for container web, waiting longer',
    '[DEBUG] Gave up on container web: admin, help',
    '[DEBUG] Container web is healthy again',
    '[DEBUG] Restart of container web failed',
    '[DEBUG] Removed duplicate container web',
    '[DEBUG] Configuration error in the labels of container web',
    '[TEST] Test notification from Repairman',
  ]);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSettings } from '../config/load.js';
import type { ContainerSummary } from '../docker/types.js';
import type { NotifyTransport } from '../notify/delivery.js';
import { answer, netError } from '../../test/helpers/notify-transport.js';
import { collectDestinations, formatResult, sendTests, testEvent } from './notify-test.js';

function settings(args: string[]) {
  const r = loadSettings(args, {});
  assert.ok(r.ok);
  return r.settings;
}

function container(name: string, labels: Record<string, string>): ContainerSummary {
  return { Id: `${name}-id`.padEnd(64, '0'), Names: [`/${name}`], Image: 'x', Created: 0, State: 'running', Status: 'Up', Labels: labels };
}

const URL_LABEL = 'org.riotkit.repairman.notify_url';

test('destinations: global first, then labels by container name, each URL once, namespace respected', () => {
  const s = settings(['--notify-url', 'http://g.example.org/hooks/g', '--namespace', 'shop-', '--label-notify-origins', 'http://t.example.org']);
  const { destinations, problems } = collectDestinations(s, '--notify-url', [
    container('shop-web', { [URL_LABEL]: 'http://t.example.org/hooks/t' }),
    container('shop-api', { [URL_LABEL]: 'http://t.example.org/hooks/t, http://g.example.org/hooks/g' }),
    container('shop-db', {}),
    container('other-web', { [URL_LABEL]: 'http://x.example.org/hooks/x' }),
    container('shop-bad', { [URL_LABEL]: 'gopher://y.example.org/SECRET' }),
    // An origin the admin did not allow: a label problem, never a destination.
    container('shop-evil', { [URL_LABEL]: 'http://169.254.169.254/latest/SECRET' }),
  ], { notifyOrigins: s.labelNotifyOrigins });
  assert.deepEqual(destinations, [
    { url: 'http://g.example.org/hooks/g', from: ['--notify-url', 'label on shop-api'], global: true },
    { url: 'http://t.example.org/hooks/t', from: ['label on shop-api', 'label on shop-web'] },
  ]);
  assert.deepEqual(problems.map((p) => p.container), ['shop-bad', 'shop-evil']);
  assert.ok(!JSON.stringify(problems).includes('SECRET'));
});

test('no URL anywhere: no destinations', () => {
  assert.deepEqual(collectDestinations(settings([]), 'x', [container('a', {})]).destinations, []);
});

test('the test event is a test (sent at any level) and says where the URL is configured', () => {
  const e = testEvent(settings(['--notify-level', 'WARNING']), { url: 'http://a/x', from: ['DEFAULT_NOTIFY_URL'] }, 0, 'host1');
  assert.equal(e.kind, 'test');
  assert.equal(e.host, 'host1');
  assert.match(e.reason ?? '', /configured by DEFAULT_NOTIFY_URL/);
});

test('results read well and never show the URL', async () => {
  const answers = [answer({ status: 200 }), answer({ status: 403, statusText: 'Forbidden', body: 'nope' })];
  const transport: NotifyTransport = async () => {
    const a = answers.shift();
    if (!a) throw netError('connect ECONNREFUSED 10.0.0.1:443', 'ECONNREFUSED');
    return a;
  };
  const s = settings([]);
  const results = await sendTests(s, [
    { url: 'https://a.example.org/hooks/SECRET1', from: ['--notify-url'], global: true },
    { url: 'json+https://b.example.org/SECRET2', from: ['label on web'] },
    { url: 'https://c.example.org/SECRET3', from: ['label on db'] },
    { url: 'teams+https://d.example.org/SECRET4', from: ['label on x'] },
  ], { transport, host: 'h', now: () => 0 });
  const lines = results.map(formatResult);
  assert.deepEqual(lines.map((l) => l.replace(/in \d+ ms/, 'in N ms')), [
    'ok    https://a.example.org/*** (mattermost, from --notify-url): HTTP 200 in N ms',
    // A label's URL: what it answered is not shown (it may be an internal service's reply).
    'FAIL  json+https://b.example.org/*** (json, from label on web): HTTP 403 Forbidden',
    'FAIL  https://c.example.org/*** (slack, from label on db): no HTTP answer: connect ECONNREFUSED 10.0.0.1:443',
    'FAIL  teams+https://d.example.org/*** (unusable, from label on x): unknown notification format "teams" in teams+https://d.example.org/*** (known: slack, mattermost, discord, json, apprise, field)',
  ]);
  assert.ok(!lines.join('\n').includes('SECRET'));
});

test('a global URL\'s error answer is shown (the admin\'s own server); a label URL\'s never is', async () => {
  const transport: NotifyTransport = async () => answer({ status: 403, statusText: 'Forbidden', body: 'token revoked' });
  const [global, label] = await sendTests(settings([]), [
    { url: 'https://a.example.org/hooks/x', from: ['--notify-url'], global: true },
    { url: 'https://a.example.org/hooks/y', from: ['label on web'] },
  ], { transport, host: 'h', now: () => 0 });
  assert.match(formatResult(global!), /HTTP 403 Forbidden: token revoked$/);
  assert.match(formatResult(label!), /HTTP 403 Forbidden$/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNotifyTarget, splitNotifyUrls } from './targets.js';

function formatOf(raw: string): string {
  const r = parseNotifyTarget(raw);
  assert.ok(r.ok, `${raw}: ${r.ok ? '' : r.error}`);
  return `${r.target.format} ${r.target.postUrl}`;
}

test('formats are chosen from the URL, rule by rule', () => {
  const cases: [string, string][] = [
    ['https://hooks.slack.com/services/T0/B0/xyz', 'slack https://hooks.slack.com/services/T0/B0/xyz'],
    ['https://chat.example.org/hooks/abc123', 'mattermost https://chat.example.org/hooks/abc123'],
    ['http://127.0.0.1:8065/hooks/x', 'mattermost http://127.0.0.1:8065/hooks/x'],
    ['https://discord.com/api/webhooks/1/tok', 'discord https://discord.com/api/webhooks/1/tok'],
    ['https://discordapp.com/api/webhooks/1/tok', 'discord https://discordapp.com/api/webhooks/1/tok'],
    ['https://canary.discord.com/api/webhooks/1/tok', 'discord https://canary.discord.com/api/webhooks/1/tok'],
    ['https://discord.com/api/webhooks/1/tok/slack', 'slack https://discord.com/api/webhooks/1/tok/slack'],
    ['https://notdiscord.com/api/webhooks/1/tok', 'slack https://notdiscord.com/api/webhooks/1/tok'],
    ['json+https://example.org/hook?x=1', 'json https://example.org/hook?x=1'],
    ['JSON+http://example.org/hooks/y', 'json http://example.org/hooks/y'],
    ['apprise+http://apprise:8000/notify/key', 'apprise http://apprise:8000/notify/key'],
    ['mattermost+https://chat.example.org/custom', 'mattermost https://chat.example.org/custom'],
    ['slack+https://chat.example.org/hooks/x', 'slack https://chat.example.org/hooks/x'],
    ['discord+https://proxy.example.org/d', 'discord https://proxy.example.org/d'],
    ['https://rocket.example.org/anything', 'slack https://rocket.example.org/anything'],
  ];
  for (const [raw, want] of cases) assert.equal(formatOf(raw), want, raw);
});

test('unusable URLs are refused with a masked reason', () => {
  for (const raw of ['ftp://x.org/hooks/secret', 'teams+https://x.org/secret', 'not a url', 'json+ftp://x.org/secret', 'mailto:a@b']) {
    const r = parseNotifyTarget(raw);
    assert.equal(r.ok, false, raw);
    if (!r.ok) assert.ok(!r.error.includes('secret'), r.error);
  }
  const r = parseNotifyTarget('teams+https://x.org/secret');
  assert.ok(!r.ok && /unknown notification format "teams"/.test(r.error));
});

test('the masked form shows scheme and host only', () => {
  const r = parseNotifyTarget('json+https://user:pw@example.org:8443/hook/TOKEN?k=v');
  assert.ok(r.ok);
  assert.equal(r.target.masked, 'json+https://example.org:8443/***');
  assert.ok(!r.target.masked.includes('TOKEN') && !r.target.masked.includes('pw'));
});

test('several URLs split on commas and spaces, duplicates once', () => {
  assert.deepEqual(splitNotifyUrls(' http://a/x, http://b/y  http://a/x,,'), ['http://a/x', 'http://b/y']);
  assert.deepEqual(splitNotifyUrls(''), []);
});

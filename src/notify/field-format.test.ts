// willfarrell/docker-autoheal's WEBHOOK_URL body (docs/behaviour.md §11): `field.<key>+https://...`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRequest } from './format.js';
import { parseNotifyTarget } from './targets.js';

test('field.<key>+ posts { "<key>": text } to the URL without the prefix', () => {
  const r = parseNotifyTarget('field.text+https://chat.example.org/hooks/SECRET');
  assert.ok(r.ok);
  assert.equal(r.target.format, 'field');
  assert.equal(r.target.fieldKey, 'text');
  assert.equal(r.target.postUrl, 'https://chat.example.org/hooks/SECRET');
  assert.ok(!r.target.masked.includes('SECRET'));
  const body = JSON.parse(buildRequest(r.target, { kind: 'restart', severity: 'info', container: 'web', host: 'h', atMs: 0, summary: 'restarted web', urls: [], level: 'INFO' }).body) as Record<string, string>;
  assert.deepEqual(Object.keys(body), ['text']);
  assert.match(body.text ?? '', /web/);
});

test('field+ without a key, or a key on another format, is refused', () => {
  assert.equal(parseNotifyTarget('field+https://x.example/h').ok, false);
  assert.equal(parseNotifyTarget('json.text+https://x.example/h').ok, false);
});

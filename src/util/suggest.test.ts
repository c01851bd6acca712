import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closest, editDistance } from './suggest.js';

test('edit distance', () => {
  assert.equal(editDistance('', ''), 0);
  assert.equal(editDistance('abc', 'abc'), 0);
  assert.equal(editDistance('abc', ''), 3);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('interval', 'intervall'), 1);
  // stops early beyond the limit
  assert.equal(editDistance('aaaaaaaa', 'bbbbbbbb', 2), 3);
  assert.equal(editDistance('a', 'abcdef', 2), 3);
});

test('closest: typos, dashes for underscores, case, missing beginnings; nothing for unrelated words', () => {
  const keys = ['enable_autoheal', 'heal_exited', 'max_restarts_in_frame', 'notify_url'];
  assert.equal(closest('enable_autohael', keys), 'enable_autoheal');
  assert.equal(closest('ENABLE-AUTOHEAL', keys), 'enable_autoheal');
  assert.equal(closest('heal_exitted', keys), 'heal_exited');
  assert.equal(closest('autoheal', keys), 'enable_autoheal');
  assert.equal(closest('notify_urls', keys), 'notify_url');
  assert.equal(closest('banana', keys), undefined);
  assert.equal(closest('x', keys), undefined);
  assert.equal(closest('stauts', ['status', 'history']), 'status');
});

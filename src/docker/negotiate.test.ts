import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLIENT_MAX_API_VERSION, compareApiVersions, negotiateApiVersion, parseApiVersion } from './negotiate.js';

test('parseApiVersion accepts major.minor only', () => {
  assert.deepEqual(parseApiVersion('1.41'), [1, 41]);
  assert.deepEqual(parseApiVersion(' 1.9 '), [1, 9]);
  for (const bad of ['', '1', '1.', 'v1.41', '1.41.0', 'x.y', undefined, null]) assert.equal(parseApiVersion(bad), undefined, String(bad));
});

test('versions compare numerically, not as text (1.9 < 1.41 < 1.100)', () => {
  assert.ok(compareApiVersions('1.9', '1.41') < 0);
  assert.ok(compareApiVersions('1.100', '1.41') > 0);
  assert.equal(compareApiVersions('1.41', '1.41'), 0);
  assert.ok(compareApiVersions('2.0', '1.99') > 0);
  assert.throws(() => compareApiVersions('x', '1.41'), TypeError);
});

test('negotiated = min(engine, client max)', () => {
  assert.deepEqual(negotiateApiVersion('1.41', '1.51'), { ok: true, version: '1.41' });
  assert.deepEqual(negotiateApiVersion('1.45', '1.51'), { ok: true, version: '1.45' });
  assert.deepEqual(negotiateApiVersion('1.51', '1.51'), { ok: true, version: '1.51' });
  assert.deepEqual(negotiateApiVersion('1.52', '1.51'), { ok: true, version: '1.51' });
  assert.deepEqual(negotiateApiVersion('1.100', '1.51'), { ok: true, version: '1.51' });
  assert.deepEqual(negotiateApiVersion('1.041', '1.51'), { ok: true, version: '1.41' });
  assert.deepEqual(negotiateApiVersion('1.47'), { ok: true, version: '1.47' });
  assert.equal(CLIENT_MAX_API_VERSION, '1.51');
});

test('too old or missing engine versions are refused with a reason', () => {
  const old = negotiateApiVersion('1.40');
  assert.equal(old.ok, false);
  assert.ok(!old.ok && old.tooOld && /1\.40.*1\.41/.test(old.reason));
  const none = negotiateApiVersion(undefined);
  assert.ok(!none.ok && !none.tooOld && /no usable API version/.test(none.reason));
  assert.equal(negotiateApiVersion('garbage').ok, false);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { printable } from './printable.js';

test('printable turns control characters and bidi overrides into visible escapes', () => {
  assert.equal(printable('a\u001b[2Jb'), 'a\\u001b[2Jb');
  assert.equal(printable('x\u0007\u009b\r\n'), 'x\\u0007\\u009b\\u000d\\u000a');
  assert.equal(printable('abc\u202edef'), 'abc\\u202edef');
  assert.equal(printable('plain text, ünïcode ok'), 'plain text, ünïcode ok');
});

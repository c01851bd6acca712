import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBytes } from './format-bytes.js';

test('formatBytes: bytes, KB, MB with one decimal', () => {
  assert.equal(formatBytes(0), '0 bytes');
  assert.equal(formatBytes(1023), '1023 bytes');
  assert.equal(formatBytes(1024), '1 KB');
  assert.equal(formatBytes(1536), '2 KB');
  assert.equal(formatBytes(8 * 1024 * 1024), '8 MB');
  assert.equal(formatBytes(100 * 1000 * 1000), '95.4 MB');
});

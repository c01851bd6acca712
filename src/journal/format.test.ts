import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { timeFormatter } from '../util/time-format.js';
import { oneLine, renderEntries, renderTable } from './format.js';

const JAN = Date.UTC(2024, 0, 31, 23, 30, 5);

describe('journal format', () => {
  it('keeps a message on one line and masks secrets', () => {
    assert.equal(oneLine('a\nb\r\nc\td\u001b[31m'), 'a ⏎ b ⏎ c d [31m');
    assert.doesNotMatch(oneLine('posting to https://hooks.slack.com/services/T1/B2/XYZ failed'), /XYZ|T1\/B2/);
  });

  it('aligns columns and leaves the last one unpadded', () => {
    assert.equal(renderTable(['A', 'BB', 'C'], [['xxx', 'y', 'last'], ['', 'zzzz', '']]), 'A    BB    C\nxxx  y     last\n     zzzz\n');
  });

  it('renders entries with number, time, container, kind and message', () => {
    const out = renderEntries([{ num: 7, container: 'web', kind: 'restart', atMs: JAN, message: 'restarted' }], timeFormatter('UTC'));
    assert.equal(out, '#  TIME                     CONTAINER  KIND     MESSAGE\n7  2024-01-31 23:30:05 UTC  web        restart  restarted\n');
  });
});

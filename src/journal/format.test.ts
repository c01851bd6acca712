import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { oneLine, renderEntries, renderTable, timeFormatter } from './format.js';

const JAN = Date.UTC(2024, 0, 31, 23, 30, 5);

describe('journal format', () => {
  it('formats times in the given zone with its offset at that date', () => {
    assert.equal(timeFormatter('Europe/Warsaw')(JAN), '2024-02-01 00:30:05 +01:00');
    assert.equal(timeFormatter('Europe/Warsaw')(Date.UTC(2024, 6, 1, 0, 0, 0)), '2024-07-01 02:00:00 +02:00');
    assert.equal(timeFormatter('America/New_York')(JAN), '2024-01-31 18:30:05 -05:00');
    assert.equal(timeFormatter('Asia/Kolkata')(JAN), '2024-02-01 05:00:05 +05:30');
    assert.equal(timeFormatter('UTC')(JAN), '2024-01-31 23:30:05 UTC');
    assert.equal(timeFormatter(':Europe/Warsaw')(JAN), '2024-02-01 00:30:05 +01:00', 'POSIX leading colon');
    assert.equal(timeFormatter('Europe/Warsaw')(Number.NaN), '?');
  });

  it('falls back to UTC for an unknown zone and says which', () => {
    const f = timeFormatter('Nowhere/Atall');
    assert.equal(f(JAN), '2024-01-31 23:30:05 UTC');
    assert.equal(f.unknownZone, 'Nowhere/Atall');
    assert.equal(f.timeZone, 'UTC');
    assert.equal(timeFormatter('Europe/Warsaw').unknownZone, undefined);
  });

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

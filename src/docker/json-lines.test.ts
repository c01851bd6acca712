import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonLineSplitter, tryParseJson } from './json-lines.js';

const ev = (n: number): string => JSON.stringify({ Type: 'container', Action: 'start', Actor: { ID: `id${n}`, Attributes: { name: `c${n}` } }, time: n, timeNano: n * 1e9 });

test('one event split across two chunks comes out once, whole', () => {
  const s = new JsonLineSplitter();
  const line = ev(1);
  assert.deepEqual(s.push(line.slice(0, 17)), []);
  assert.deepEqual(s.push(line.slice(17) + '\n'), [line]);
  assert.deepEqual(s.end(), []);
});

test('a split inside a multi-byte UTF-8 character is reassembled', () => {
  const s = new JsonLineSplitter();
  const line = JSON.stringify({ Type: 'container', Action: 'start', Actor: { ID: 'x', Attributes: { name: 'zażółć-🐳' } }, time: 1, timeNano: 1 });
  const bytes = Buffer.from(line + '\n', 'utf8');
  const cut = bytes.indexOf(Buffer.from('🐳', 'utf8')) + 2; // in the middle of the 4-byte whale
  assert.deepEqual(s.push(bytes.subarray(0, cut)), []);
  const out = s.push(bytes.subarray(cut));
  assert.deepEqual(out, [line]);
  assert.equal((tryParseJson(out[0]!) as { Actor: { Attributes: { name: string } } }).Actor.Attributes.name, 'zażółć-🐳');
});

test('every possible cut point of a two-event stream gives the same lines', () => {
  const text = `${ev(1)}\n${JSON.stringify({ Type: 'container', Action: 'die', Actor: { ID: 'ß', Attributes: { n: '日本' } }, time: 2, timeNano: 2 })}\n`;
  const bytes = Buffer.from(text, 'utf8');
  const expected = text.split('\n').filter(Boolean);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const s = new JsonLineSplitter();
    const got = [...s.push(bytes.subarray(0, cut)), ...s.push(bytes.subarray(cut)), ...s.end()];
    assert.deepEqual(got, expected, `cut at ${cut}`);
  }
});

test('several events in one chunk, and one byte at a time', () => {
  const lines = [ev(1), ev(2), ev(3)];
  const s = new JsonLineSplitter();
  assert.deepEqual(s.push(lines.join('\n') + '\n'), lines);
  const t = new JsonLineSplitter();
  const got: string[] = [];
  for (const byte of Buffer.from(lines.join('\n') + '\n')) got.push(...t.push(Buffer.from([byte])));
  assert.deepEqual(got, lines);
});

test('empty lines, blank lines and CRLF are not events', () => {
  const s = new JsonLineSplitter();
  assert.deepEqual(s.push(`\n\n  \n${ev(1)}\r\n\r\n`), [ev(1)]);
});

test('garbage lines come out as lines (the caller skips them) and do not disturb the next one', () => {
  const s = new JsonLineSplitter();
  const out = s.push(`not json\n{"half":\n${ev(2)}\n`);
  assert.deepEqual(out, ['not json', '{"half":', ev(2)]);
  assert.equal(tryParseJson('not json'), undefined);
  assert.equal(tryParseJson('{"half":'), undefined);
});

test('a last line without a newline is emitted at end()', () => {
  const s = new JsonLineSplitter();
  assert.deepEqual(s.push(ev(1)), []);
  assert.deepEqual(s.end(), [ev(1)]);
  assert.deepEqual(s.end(), []);
});

test('an over-long line is dropped and counted, and the stream recovers at the next newline', () => {
  const s = new JsonLineSplitter(64);
  assert.deepEqual(s.push('x'.repeat(50)), []);
  assert.deepEqual(s.push('y'.repeat(50)), []);
  assert.deepEqual(s.push('z'.repeat(50) + '\n' + ev(1).slice(0, 10)), []);
  assert.equal(s.droppedLines, 1);
  // ev(1) is longer than 64 bytes too: use a short line to check recovery.
  const t = new JsonLineSplitter(64);
  assert.deepEqual(t.push('a'.repeat(100) + '\n{"ok":1}\n'), ['{"ok":1}']);
  assert.equal(t.droppedLines, 1);
});

test('the chunk buffer may be reused by the caller after push', () => {
  const s = new JsonLineSplitter();
  const buf = Buffer.from('{"a":1');
  s.push(buf);
  buf.fill(0x20);
  assert.deepEqual(s.push('}\n'), ['{"a":1}']);
});

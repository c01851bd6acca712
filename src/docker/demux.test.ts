import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demultiplex, logsFromMultiplexed, logsFromRaw, looksMultiplexed, MultiplexError } from './demux.js';

function frame(stream: 0 | 1 | 2, text: string | Buffer): Buffer {
  const payload = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

test('stdout and stderr frames are separated, lines kept in arrival order', () => {
  const body = Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n'), frame(1, 'out2\n')]);
  const logs = logsFromMultiplexed(body);
  assert.equal(logs.stdout, 'out\nout2\n');
  assert.equal(logs.stderr, 'err\n');
  assert.deepEqual(logs.lines, [
    { stream: 'stdout', text: 'out' },
    { stream: 'stderr', text: 'err' },
    { stream: 'stdout', text: 'out2' },
  ]);
});

test('a line cut into several frames (even inside a UTF-8 character) is one line', () => {
  const whole = Buffer.from('łódź 🐳 end\n', 'utf8');
  const body = Buffer.concat([frame(1, whole.subarray(0, 2)), frame(2, 'e1\n'), frame(1, whole.subarray(2, 9)), frame(1, whole.subarray(9))]);
  const logs = logsFromMultiplexed(body);
  assert.deepEqual(logs.lines, [{ stream: 'stderr', text: 'e1' }, { stream: 'stdout', text: 'łódź 🐳 end' }]);
  assert.equal(logs.stdout, 'łódź 🐳 end\n');
});

test('a last line without newline and empty lines are kept', () => {
  const logs = logsFromMultiplexed(Buffer.concat([frame(1, 'a\n\nb')]));
  assert.deepEqual(logs.lines.map((l) => l.text), ['a', '', 'b']);
});

test('empty body: no lines', () => {
  assert.deepEqual(logsFromMultiplexed(Buffer.alloc(0)), { stdout: '', stderr: '', lines: [] });
  assert.deepEqual(logsFromRaw(Buffer.alloc(0)), { stdout: '', stderr: '', lines: [] });
});

test('raw (TTY) stream is all stdout, CR before LF dropped from lines', () => {
  const logs = logsFromRaw(Buffer.from('one\r\ntwo\r\n'));
  assert.equal(logs.stderr, '');
  assert.deepEqual(logs.lines, [{ stream: 'stdout', text: 'one' }, { stream: 'stdout', text: 'two' }]);
});

test('truncated or malformed frames are rejected', () => {
  const good = frame(1, 'hello\n');
  assert.throws(() => demultiplex(good.subarray(0, 5)), MultiplexError);
  assert.throws(() => demultiplex(good.subarray(0, good.length - 1)), MultiplexError);
  assert.throws(() => demultiplex(Buffer.from('plain text from a tty\n')), MultiplexError);
  assert.equal(looksMultiplexed(good), true);
  assert.equal(looksMultiplexed(Buffer.from('plain text\n')), false);
});

test('stdin frames (attach) count as stdout', () => {
  assert.equal(logsFromMultiplexed(frame(0, 'x\n')).stdout, 'x\n');
});

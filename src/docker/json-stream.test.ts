// The streaming tokenizer against JSON.parse: same value for every valid document, an error for every
// invalid one, whatever the chunk boundaries (split inside strings, escapes, UTF-8 sequences, numbers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { JsonSyntaxError, JsonTokenizer, SKIPPED, type JsonScalar, type JsonSink } from './json-stream.js';

/** Builds the whole value, as JSON.parse would (own "__proto__" keys, last duplicate wins). */
class ValueBuilder implements JsonSink {
  private stack: { node: unknown[] | Record<string, unknown>; key?: string }[] = [];
  result: unknown = undefined;
  done = false;
  wantsString(): boolean {
    return true;
  }
  private put(v: unknown): void {
    const top = this.stack[this.stack.length - 1];
    if (!top) {
      this.result = v;
      this.done = true;
    } else if (Array.isArray(top.node)) top.node.push(v);
    else Object.defineProperty(top.node, top.key!, { value: v, enumerable: true, writable: true, configurable: true });
  }
  startObject(): void {
    this.stack.push({ node: {} });
  }
  startArray(): void {
    this.stack.push({ node: [] });
  }
  endObject(): void {
    this.put(this.stack.pop()!.node);
  }
  endArray(): void {
    this.put(this.stack.pop()!.node);
  }
  key(name: string | typeof SKIPPED): void {
    this.stack[this.stack.length - 1]!.key = name as string;
  }
  value(v: JsonScalar | typeof SKIPPED): void {
    this.put(v);
  }
}

function splitAt(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    out.push(bytes.subarray(from, p));
    from = p;
  }
  out.push(bytes.subarray(from));
  return out;
}

function streamParse(chunks: Buffer[]): unknown {
  const b = new ValueBuilder();
  const t = new JsonTokenizer(b);
  for (const c of chunks) t.write(c);
  t.end();
  return b.result;
}

function outcome(f: () => unknown): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: f() };
  } catch (err) {
    if (err instanceof SyntaxError || err instanceof JsonSyntaxError) return { ok: false };
    throw err;
  }
}

const cuts = fc.array(fc.nat({ max: 1 << 16 }), { maxLength: 12 });
const anyJson = fc.oneof(fc.jsonValue(), fc.jsonValue({ stringUnit: 'binary' }), fc.jsonValue({ stringUnit: 'grapheme' }));
const spaces = fc.constantFrom('', ' ', '\n', '\t\r\n ');

test('property: valid documents give JSON.parse\'s value at any chunking', () => {
  fc.assert(
    fc.property(anyJson, fc.constantFrom(0, 1, 2), spaces, cuts, (value, indent, pad, at) => {
      const text = pad + JSON.stringify(value, null, indent) + pad;
      const bytes = Buffer.from(text);
      assert.deepStrictEqual(streamParse(splitAt(bytes, at)), JSON.parse(text));
    }),
    { numRuns: 2000 },
  );
});

test('property: a mutated document is refused exactly when JSON.parse refuses it, else the same value', () => {
  const mutation = fc.tuple(fc.nat(), fc.constantFrom('delete', 'insert', 'replace'), fc.constantFrom(...'{}[]",:\\ -+.0123456789eEtfnulrsaxu\u0000\u001f\u00e9\u{1F600}'.split('')));
  fc.assert(
    fc.property(anyJson, fc.array(mutation, { minLength: 1, maxLength: 3 }), cuts, (value, muts, at) => {
      let text = JSON.stringify(value);
      for (const [pos, op, ch] of muts) {
        const p = pos % (text.length + 1);
        if (op === 'delete') text = text.slice(0, p) + text.slice(p + 1);
        else if (op === 'insert') text = text.slice(0, p) + ch + text.slice(p);
        else text = text.slice(0, p) + ch + text.slice(p + 1);
      }
      // What JSON.parse makes of the bytes (a lone surrogate left by a mutation becomes U+FFFD in UTF-8).
      const bytes = Buffer.from(text);
      text = bytes.toString('utf8');
      const expected = outcome(() => JSON.parse(text));
      const got = outcome(() => streamParse(splitAt(bytes, at)));
      assert.equal(got.ok, expected.ok, `${JSON.stringify(text)}: JSON.parse ${expected.ok ? 'accepts' : 'refuses'} it`);
      if (got.ok && expected.ok) assert.deepStrictEqual(got.value, expected.value);
    }),
    { numRuns: 3000 },
  );
});

test('byte-at-a-time: escapes, surrogate pairs and multi-byte UTF-8 split anywhere', () => {
  const text = JSON.stringify({ 'k\u00e9y': ['\u20ac\u{1F600}\\"\n\u0001', -0.5e-3, 1e21, true, false, null, {}, []], '__proto__': { a: 1 } });
  const bytes = Buffer.from(text);
  const one = [...bytes].map((b) => Buffer.from([b]));
  assert.deepStrictEqual(streamParse(one), JSON.parse(text));
});

test('refusals name what is wrong and where', () => {
  const cases: [string, RegExp][] = [
    ['', /empty/],
    ['[1,2', /ends in the middle/],
    ['[1,]', /"\]" where a value was expected at byte 3/],
    ['{"a" 1}', /where ':' was expected/],
    ['{"a":1,}', /where a key/],
    ['01', /after the end of the document|bad number/],
    ['"a\u0001"', /control character/],
    ['"\\x"', /bad escape/],
    ['"\\u12g4"', /in a \\u escape/],
    ['[tru]', /in the middle of true/],
    ['1 2', /after the end of the document/],
    ['-', /bad number/],
  ];
  for (const [text, why] of cases) {
    assert.throws(() => streamParse([Buffer.from(text)]), (err: unknown) => err instanceof JsonSyntaxError && why.test(err.message), text);
    assert.throws(() => JSON.parse(text), SyntaxError, `JSON.parse refuses ${JSON.stringify(text)} too`);
  }
});

test('nesting is bounded', () => {
  const deep = '['.repeat(300) + ']'.repeat(300);
  assert.throws(() => streamParse([Buffer.from(deep)]), /nesting deeper than 256/);
  const ok = '['.repeat(256) + ']'.repeat(256);
  assert.deepStrictEqual(streamParse([Buffer.from(ok)]), JSON.parse(ok));
});

test('strings the sink does not want are checked but not decoded', () => {
  const seen: unknown[] = [];
  const sink: JsonSink = {
    startObject() {}, endObject() {}, startArray() {}, endArray() {},
    wantsString: (isKey) => isKey,
    key: (k) => seen.push(k),
    value: (v) => seen.push(v),
  };
  const t = new JsonTokenizer(sink);
  t.write(Buffer.from('{"a":"xx","b":2,"c":"\\u0041"}'));
  t.end();
  assert.deepEqual(seen, ['a', SKIPPED, 'b', 2, 'c', SKIPPED]);
  const bad = new JsonTokenizer(sink);
  assert.throws(() => bad.write(Buffer.from('{"a":"\\q"}')), /bad escape/, 'a skipped string is still checked');
});

// A streaming JSON tokenizer: bytes in (any chunking), tokens out to a sink, nothing of the document
// kept but the token being read. The sink says which strings it wants decoded; the others are only
// checked, so skipping most of a 20 MB container listing costs no allocation. Grammar as JSON.parse
// (RFC 8259: one value, whitespace around it); chosen over an npm parser by measurement (BENCHMARKS.md).

/** What value() receives for a string the sink did not want (wantsString returned false). */
export const SKIPPED: unique symbol = Symbol('skipped');

export type JsonScalar = string | number | boolean | null;

export interface JsonSink {
  startObject(): void;
  endObject(): void;
  startArray(): void;
  endArray(): void;
  /** A string is about to be read (a key when `isKey`): false leaves it undecoded. */
  wantsString(isKey: boolean): boolean;
  key(name: string | typeof SKIPPED): void;
  value(v: JsonScalar | typeof SKIPPED): void;
}

export class JsonSyntaxError extends Error {}

/** Nesting deeper than this is refused (a container listing is 5 deep). */
export const DEFAULT_MAX_DEPTH = 256;

const enum S {
  Value, // a value must come (top level, after ':' or ',' in an array)
  ValueOrEnd, // just after '['
  KeyOrEnd, // just after '{'
  Key, // after ',' in an object
  Colon,
  After, // after a value: ',' or the container's end (or, at the top, only whitespace)
  Str,
  Num,
  Lit,
}

const ARRAY = 1;
const OBJECT = 2;
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const LITERALS: { text: Buffer; value: boolean | null }[] = [
  { text: Buffer.from('true'), value: true },
  { text: Buffer.from('false'), value: false },
  { text: Buffer.from('null'), value: null },
];

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

function isHex(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);
}

function describe(b: number): string {
  return b >= 0x20 && b < 0x7f ? JSON.stringify(String.fromCharCode(b)) : `byte 0x${b.toString(16).padStart(2, '0')}`;
}

export class JsonTokenizer {
  private state = S.Value;
  private readonly stack: Uint8Array;
  private depth = 0;
  private started = false;
  /** Bytes fed before the current chunk. */
  private offset = 0;
  /** Absolute position (bytes) of the byte being handled; valid inside sink callbacks. */
  position = 0;
  // String being read.
  private strIsKey = false;
  private strCapture = false;
  private strEscaped = false;
  /** 0: none; 1: after a backslash; 2..5: hex digits of \uXXXX still to come (5 = four). */
  private strEscape = 0;
  private strParts: Buffer[] = [];
  private strBytes = 0;
  /** Where the current string's bytes begin in the current chunk. */
  private strFrom = 0;
  // Number or literal being read.
  private num = '';
  private lit: { text: Buffer; value: boolean | null } | undefined;
  private litAt = 0;

  constructor(private readonly sink: JsonSink, maxDepth = DEFAULT_MAX_DEPTH) {
    this.stack = new Uint8Array(maxDepth);
  }

  /** Bytes fed so far. */
  get bytes(): number {
    return this.offset;
  }

  /** Feed the next bytes of the document; throws JsonSyntaxError (or what the sink throws). */
  write(chunk: Uint8Array): void {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const n = buf.length;
    let i = 0;
    while (i < n) {
      const b = buf[i]!;
      switch (this.state) {
        case S.Str: {
          i = this.scanString(buf, i);
          continue;
        }
        case S.Num: {
          if ((b >= 0x30 && b <= 0x39) || b === 0x2d || b === 0x2b || b === 0x2e || b === 0x65 || b === 0x45) {
            this.num += String.fromCharCode(b);
            if (this.num.length > 400) this.fail('a number longer than 400 characters', i);
            i++;
            continue;
          }
          this.position = this.offset + i;
          this.endNumber();
          continue; // the delimiter is handled in the new state
        }
        case S.Lit: {
          const lit = this.lit!;
          if (b !== lit.text[this.litAt]) this.fail(`${describe(b)} in the middle of ${lit.text.toString()}`, i);
          this.litAt++;
          i++;
          if (this.litAt === lit.text.length) {
            this.position = this.offset + i - 1;
            this.sink.value(lit.value);
            this.afterValue();
          }
          continue;
        }
        default:
          break;
      }
      if (isSpace(b)) {
        i++;
        continue;
      }
      this.position = this.offset + i;
      switch (this.state) {
        case S.Value:
        case S.ValueOrEnd:
          if (b === 0x5d && this.state === S.ValueOrEnd) {
            this.close(ARRAY);
            this.sink.endArray();
            this.afterValue();
          } else {
            this.startValue(b, i);
          }
          i++;
          break;
        case S.KeyOrEnd:
        case S.Key:
          if (b === 0x7d && this.state === S.KeyOrEnd) {
            this.close(OBJECT);
            this.sink.endObject();
            this.afterValue();
          } else if (b === 0x22) {
            this.startString(true, i + 1);
          } else {
            this.fail(`${describe(b)} where a key (a string) was expected`, i);
          }
          i++;
          break;
        case S.Colon:
          if (b !== 0x3a) this.fail(`${describe(b)} where ':' was expected`, i);
          this.state = S.Value;
          i++;
          break;
        case S.After: {
          const top = this.depth > 0 ? this.stack[this.depth - 1] : 0;
          if (top === 0) this.fail(`${describe(b)} after the end of the document`, i);
          if (b === 0x2c) this.state = top === ARRAY ? S.Value : S.Key;
          else if (b === 0x5d && top === ARRAY) {
            this.close(ARRAY);
            this.sink.endArray();
            this.afterValue();
          } else if (b === 0x7d && top === OBJECT) {
            this.close(OBJECT);
            this.sink.endObject();
            this.afterValue();
          } else this.fail(`${describe(b)} where ',' or '${top === ARRAY ? ']' : '}'}' was expected`, i);
          i++;
          break;
        }
        default:
          throw new Error('unreachable');
      }
    }
    if (this.state === S.Str && this.strCapture) this.keepStringPart(buf, this.strFrom, n);
    this.strFrom = 0;
    this.offset += n;
  }

  /** The document is complete: throws JsonSyntaxError when it is not. */
  end(): void {
    if (this.state === S.Num && this.depth === 0) {
      this.position = this.offset;
      this.endNumber();
    }
    if (!this.started) throw new JsonSyntaxError('the document is empty');
    if (this.state !== S.After || this.depth !== 0) throw new JsonSyntaxError(`the document ends in the middle (at byte ${this.offset})`);
  }

  // ---- internals ------------------------------------------------------------------------------

  private fail(why: string, i: number): never {
    throw new JsonSyntaxError(`${why} at byte ${this.offset + i}`);
  }

  private startValue(b: number, i: number): void {
    this.started = true;
    if (b === 0x7b) {
      this.open(OBJECT, i);
      this.sink.startObject();
      this.state = S.KeyOrEnd;
    } else if (b === 0x5b) {
      this.open(ARRAY, i);
      this.sink.startArray();
      this.state = S.ValueOrEnd;
    } else if (b === 0x22) {
      this.startString(false, i + 1);
    } else if (b === 0x2d || (b >= 0x30 && b <= 0x39)) {
      this.num = String.fromCharCode(b);
      this.state = S.Num;
    } else {
      const lit = LITERALS.find((l) => l.text[0] === b);
      if (!lit) this.fail(`${describe(b)} where a value was expected`, i);
      this.lit = lit;
      this.litAt = 1;
      this.state = S.Lit;
    }
  }

  private open(kind: number, i: number): void {
    if (this.depth >= this.stack.length) this.fail(`nesting deeper than ${this.stack.length}`, i);
    this.stack[this.depth++] = kind;
  }

  private close(kind: number): void {
    // Callers only close the kind on top of the stack.
    if (this.stack[this.depth - 1] !== kind) throw new Error('unreachable');
    this.depth--;
  }

  private afterValue(): void {
    this.state = S.After;
  }

  private startString(isKey: boolean, from: number): void {
    this.started = true;
    this.strIsKey = isKey;
    this.strCapture = this.sink.wantsString(isKey);
    this.strEscaped = false;
    this.strEscape = 0;
    this.strParts = [];
    this.strBytes = 0;
    this.state = S.Str;
    this.strFrom = from;
  }

  /** Scan string bytes from i; returns where to continue. */
  private scanString(buf: Buffer, i: number): number {
    const n = buf.length;
    while (i < n) {
      if (this.strEscape === 0) {
        // The common case, natively: the closing quote, with no escape or control byte before it.
        const q = buf.indexOf(0x22, i);
        const stop = q === -1 ? n : q;
        let j = i;
        while (j < stop) {
          const b = buf[j]!;
          if (b === 0x5c || b < 0x20) break;
          j++;
        }
        if (j === q) {
          this.position = this.offset + q;
          this.endString(buf, q);
          return q + 1;
        }
        i = j;
        if (i === n) return n;
        const b = buf[i]!;
        if (b < 0x20) this.fail(`a control character (${describe(b)}) inside a string`, i);
        this.strEscape = 1;
        this.strEscaped = true;
      } else if (this.strEscape === 1) {
        const b = buf[i]!;
        if (b === 0x75) this.strEscape = 5;
        else if (b === 0x22 || b === 0x5c || b === 0x2f || b === 0x62 || b === 0x66 || b === 0x6e || b === 0x72 || b === 0x74) this.strEscape = 0;
        else this.fail(`a bad escape (\\${String.fromCharCode(b)}) inside a string`, i);
      } else {
        const b = buf[i]!;
        if (!isHex(b)) this.fail(`${describe(b)} in a \\u escape`, i);
        this.strEscape = this.strEscape === 2 ? 0 : this.strEscape - 1;
      }
      i++;
    }
    return i;
  }

  private keepStringPart(buf: Buffer, from: number, to: number): void {
    if (to <= from) return;
    // A copy: a view would keep the whole socket chunk alive.
    const part = Buffer.from(buf.subarray(from, to));
    this.strParts.push(part);
    this.strBytes += part.length;
  }

  private endString(buf: Buffer, quoteAt: number): void {
    const isKey = this.strIsKey;
    let text: string | typeof SKIPPED = SKIPPED;
    if (this.strCapture) {
      const from = this.strFrom;
      let decoded: string;
      if (this.strParts.length === 0) decoded = buf.toString('utf8', from, quoteAt);
      else {
        this.keepStringPart(buf, from, quoteAt);
        decoded = (this.strParts.length === 1 ? this.strParts[0]! : Buffer.concat(this.strParts, this.strBytes)).toString('utf8');
      }
      text = this.strEscaped ? (JSON.parse(`"${decoded}"`) as string) : decoded;
    }
    this.strParts = [];
    this.strBytes = 0;
    if (isKey) {
      this.sink.key(text);
      this.state = S.Colon;
    } else {
      this.sink.value(text);
      this.afterValue();
    }
  }

  private endNumber(): void {
    const text = this.num;
    this.num = '';
    if (!NUMBER.test(text)) throw new JsonSyntaxError(`a bad number (${text.slice(0, 40)}) at byte ${this.position}`);
    this.sink.value(Number(text));
    this.afterValue();
  }
}

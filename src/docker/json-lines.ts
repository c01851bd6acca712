// Splits a byte stream of newline-delimited JSON (the engine's /events) into lines. HTTP chunks do
// not respect lines: one event may arrive in two chunks, even cut inside a multi-byte UTF-8
// character, and one chunk may carry several events. Splitting on the byte 0x0A is safe because in
// UTF-8 that byte never occurs inside a multi-byte character; bytes are decoded only once a line is
// complete.

const NEWLINE = 0x0a;

/** A line longer than this is garbage (a real event is a few KB); it is dropped, not buffered forever. */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

export class JsonLineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** True while skipping the rest of an over-long line up to its newline. */
  private discarding = false;
  /** Lines dropped for being longer than maxLineBytes. */
  droppedLines = 0;

  constructor(private readonly maxLineBytes = DEFAULT_MAX_LINE_BYTES) {}

  /** Feed a chunk; returns the complete, non-blank lines it finished (without the newline). */
  push(chunk: Buffer | Uint8Array | string): string[] {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const lines: string[] = [];
    let start = 0;
    while (start < buf.length) {
      const nl = buf.indexOf(NEWLINE, start);
      if (nl === -1) {
        this.keep(buf.subarray(start));
        break;
      }
      if (this.discarding) {
        this.discarding = false;
      } else {
        this.keep(buf.subarray(start, nl));
        if (!this.discarding) this.emit(lines);
        else this.discarding = false;
      }
      this.pending = [];
      this.pendingBytes = 0;
      start = nl + 1;
    }
    return lines;
  }

  /** The stream ended: a last line without a newline still counts. */
  end(): string[] {
    const lines: string[] = [];
    if (!this.discarding) this.emit(lines);
    this.pending = [];
    this.pendingBytes = 0;
    this.discarding = false;
    return lines;
  }

  private keep(part: Buffer): void {
    if (this.discarding || part.length === 0) return;
    if (this.pendingBytes + part.length > this.maxLineBytes) {
      this.pending = [];
      this.pendingBytes = 0;
      this.discarding = true;
      this.droppedLines++;
      return;
    }
    // Copy: the caller's chunk buffer may be reused after push returns.
    this.pending.push(Buffer.from(part));
    this.pendingBytes += part.length;
  }

  private emit(lines: string[]): void {
    if (this.pendingBytes === 0) return;
    const text = Buffer.concat(this.pending, this.pendingBytes).toString('utf8').replace(/\r$/, '');
    if (text.trim() !== '') lines.push(text);
  }
}

/** JSON.parse that returns undefined instead of throwing. */
export function tryParseJson(line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return undefined;
  }
}

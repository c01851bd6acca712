// A child process's output, line by line, as it comes (the log of Repairman, `docker events`).
import type { Readable } from 'node:stream';

/** Calls fn with each complete line (without its newline); an unfinished last line waits for its end. */
export function onLines(stream: Readable, fn: (line: string) => void): void {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buf += chunk;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      fn(line);
    }
  });
}

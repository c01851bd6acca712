// The engine's log stream for a container without a TTY multiplexes stdout and stderr: every frame
// is an 8-byte header [stream, 0, 0, 0, size as uint32 big-endian] followed by size bytes. A
// container with a TTY sends the raw bytes instead (everything is "stdout"). Frames do not respect
// lines (a long line is cut into several frames), so lines are assembled per stream.
import type { LogsResult } from './types.js';

export type StreamName = 'stdout' | 'stderr';

export class MultiplexError extends Error {}

const HEADER_BYTES = 8;

/** Decode a complete multiplexed body; throws MultiplexError when it is not one. */
export function demultiplex(body: Buffer): { stream: StreamName; payload: Buffer }[] {
  const frames: { stream: StreamName; payload: Buffer }[] = [];
  let at = 0;
  while (at < body.length) {
    if (body.length - at < HEADER_BYTES) throw new MultiplexError(`truncated frame header at byte ${at}`);
    const kind = body[at]!;
    if (kind > 2 || body[at + 1] !== 0 || body[at + 2] !== 0 || body[at + 3] !== 0) {
      throw new MultiplexError(`bad frame header at byte ${at}`);
    }
    const size = body.readUInt32BE(at + 4);
    const end = at + HEADER_BYTES + size;
    if (end > body.length) throw new MultiplexError(`frame at byte ${at} announces ${size} bytes, only ${body.length - at - HEADER_BYTES} follow`);
    // Stream 0 (stdin) only appears on attach; count it with stdout rather than lose it.
    frames.push({ stream: kind === 2 ? 'stderr' : 'stdout', payload: body.subarray(at + HEADER_BYTES, end) });
    at = end;
  }
  return frames;
}

/** Assemble LogsResult from (stream, bytes) parts in arrival order. */
export function collectLogs(parts: { stream: StreamName; payload: Buffer }[]): LogsResult {
  const whole: Record<StreamName, Buffer[]> = { stdout: [], stderr: [] };
  const partial: Record<StreamName, Buffer[]> = { stdout: [], stderr: [] };
  const lines: LogsResult['lines'] = [];
  const flush = (stream: StreamName): void => {
    const text = Buffer.concat(partial[stream]).toString('utf8').replace(/\r$/, '');
    partial[stream] = [];
    lines.push({ stream, text });
  };
  for (const { stream, payload } of parts) {
    whole[stream].push(payload);
    let start = 0;
    for (;;) {
      const nl = payload.indexOf(0x0a, start);
      if (nl === -1) break;
      partial[stream].push(payload.subarray(start, nl));
      flush(stream);
      start = nl + 1;
    }
    if (start < payload.length) partial[stream].push(payload.subarray(start));
  }
  for (const stream of ['stdout', 'stderr'] as const) if (partial[stream].length > 0) flush(stream);
  return {
    stdout: Buffer.concat(whole.stdout).toString('utf8'),
    stderr: Buffer.concat(whole.stderr).toString('utf8'),
    lines,
  };
}

/** Logs of a container without a TTY. */
export function logsFromMultiplexed(body: Buffer): LogsResult {
  return collectLogs(demultiplex(body));
}

/** Logs of a container with a TTY: one stream, reported as stdout. */
export function logsFromRaw(body: Buffer): LogsResult {
  return collectLogs(body.length ? [{ stream: 'stdout', payload: body }] : []);
}

/**
 * Whether a body looks multiplexed; for engines older than API 1.42, which do not say so in the
 * Content-Type. A raw TTY stream starting with bytes 1,0,0,0 is not text anyone writes.
 */
export function looksMultiplexed(body: Buffer): boolean {
  try {
    demultiplex(body);
    return true;
  } catch {
    return false;
  }
}

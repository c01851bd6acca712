import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerInspect } from '../docker/types.js';
import { formatDuration, lastHealthOutput, trimLogLines } from './messages.js';

describe('messages', () => {
  it('formats durations', () => {
    assert.equal(formatDuration(15_000), '15 s');
    assert.equal(formatDuration(300_000), '5 min');
    assert.equal(formatDuration(5_400_000), '90 min');
    assert.equal(formatDuration(450_000), '7 min 30 s');
    assert.equal(formatDuration(7_200_000), '2 h');
    assert.equal(formatDuration(9_000_000), '2 h 30 min');
    assert.equal(formatDuration(3 * 3600_000), '3 h');
    assert.equal(formatDuration(3 * 3600_000 + 60_000 * 30), '3 h 30 min');
    assert.equal(formatDuration(-5), '0 s');
  });
  it('reads the last health check output', () => {
    const info = {
      State: { Health: { Status: 'unhealthy', FailingStreak: 2, Log: [
        { Start: '', End: '', ExitCode: 0, Output: 'ok' },
        { Start: '', End: '', ExitCode: 1, Output: 'connection refused\n' },
      ] } },
    } as unknown as ContainerInspect;
    assert.equal(lastHealthOutput(info), 'exit code 1: connection refused');
    assert.equal(lastHealthOutput({ State: {} } as unknown as ContainerInspect), undefined);
    assert.equal(lastHealthOutput(null), undefined);
  });
  it('keeps the last lines, cut to size', () => {
    const lines = Array.from({ length: 15 }, (_, i) => `line ${i}`);
    assert.deepEqual(trimLogLines(lines), lines.slice(5));
    assert.equal(trimLogLines(['x'.repeat(600)])[0]?.length, 501);
  });
});

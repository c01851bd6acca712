import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerInspect } from '../docker/types.js';
import { formatDuration, formatWhen, lastHealthOutput, resolveZone, trimLogLines } from './messages.js';

describe('messages', () => {
  it('formats times in the given zone', () => {
    const t = Date.UTC(2024, 4, 1, 10, 5, 30);
    assert.equal(formatWhen(t, 'Europe/Warsaw'), '2024-05-01 12:05:30 (Europe/Warsaw)');
    assert.equal(formatWhen(t, 'UTC'), '2024-05-01 10:05:30 (UTC)');
  });
  it('falls back to the system zone for a bad TZ', () => {
    assert.equal(resolveZone('Not/AZone'), Intl.DateTimeFormat().resolvedOptions().timeZone);
  });
  it('formatters are kept per zone: every call still says what a fresh formatter says, across DST and zones', () => {
    const fresh = (ms: number, zone: string): string => {
      const p = Object.fromEntries(new Intl.DateTimeFormat('en-GB', {
        timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
      }).formatToParts(ms).map((x) => [x.type, x.value]));
      return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second} (${zone})`;
    };
    const zones = ['UTC', 'Europe/Warsaw', 'America/St_Johns', 'Asia/Kathmandu', 'europe/warsaw'];
    for (let i = 0; i < 400; i++) {
      const ms = Date.UTC(2024, 2, 31, 0, 0, 0) + i * 7_919_000; // across the March DST change and beyond
      for (const zone of zones) assert.equal(formatWhen(ms, zone), fresh(ms, zone));
    }
  });
  it('the process zone follows a change of TZ while running', () => {
    const before = process.env.TZ;
    try {
      process.env.TZ = 'Asia/Tokyo';
      assert.equal(resolveZone(undefined), 'Asia/Tokyo');
      assert.equal(formatWhen(Date.UTC(2024, 4, 1, 10, 5, 30)), '2024-05-01 19:05:30 (Asia/Tokyo)');
      process.env.TZ = 'America/New_York';
      assert.equal(resolveZone('Not/AZone'), 'America/New_York');
      assert.equal(formatWhen(Date.UTC(2024, 4, 1, 10, 5, 30), 'Not/AZone'), '2024-05-01 06:05:30 (America/New_York)');
    } finally {
      if (before === undefined) delete process.env.TZ;
      else process.env.TZ = before;
    }
  });
  it('formats durations', () => {
    assert.equal(formatDuration(15_000), '15 s');
    assert.equal(formatDuration(300_000), '5 min');
    assert.equal(formatDuration(5_400_000), '90 min');
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

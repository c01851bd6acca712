import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatDateTime, formatTime, knownTimeZone, processTimeZone, resolveTimeZone, timeFormatter } from './time-format.js';

const JAN = Date.UTC(2024, 0, 31, 23, 30, 5);
const MAY = Date.UTC(2024, 4, 1, 12, 3, 4);

function withTz(tz: string, fn: () => void): void {
  const before = process.env.TZ;
  try {
    process.env.TZ = tz;
    fn();
  } finally {
    if (before === undefined) delete process.env.TZ;
    else process.env.TZ = before;
  }
}

describe('time format', () => {
  it('shows a time in the given zone with its offset at that date, "UTC" in UTC', () => {
    assert.equal(formatTime(JAN, 'Europe/Warsaw'), '2024-02-01 00:30:05 +01:00');
    assert.equal(formatTime(Date.UTC(2024, 6, 1, 0, 0, 0), 'Europe/Warsaw'), '2024-07-01 02:00:00 +02:00');
    assert.equal(formatTime(JAN, 'America/New_York'), '2024-01-31 18:30:05 -05:00');
    assert.equal(formatTime(JAN, 'Asia/Kolkata'), '2024-02-01 05:00:05 +05:30');
    assert.equal(formatTime(JAN, 'Europe/London'), '2024-01-31 23:30:05 +00:00');
    assert.equal(formatTime(JAN, 'UTC'), '2024-01-31 23:30:05 UTC');
    assert.equal(formatTime(MAY, 'Europe/Warsaw'), '2024-05-01 14:03:04 +02:00');
    assert.equal(formatTime(JAN, ':Europe/Warsaw'), '2024-02-01 00:30:05 +01:00', 'POSIX leading colon');
    assert.equal(formatTime(JAN, ' europe/warsaw '), '2024-02-01 00:30:05 +01:00', 'any case, spaces around');
    assert.equal(formatTime(Date.UTC(2024, 0, 1, 23, 0, 0), 'Europe/Warsaw'), '2024-01-02 00:00:00 +01:00', 'no 24:00');
    assert.equal(formatDateTime(MAY, 'Europe/Warsaw'), '2024-05-01 14:03:04');
  });

  it('tells apart the hour a DST change repeats', () => {
    // 2024-10-27 in Warsaw: 02:30 happens at 00:30 UTC (summer time) and again at 01:30 UTC.
    assert.equal(formatTime(Date.UTC(2024, 9, 27, 0, 30), 'Europe/Warsaw'), '2024-10-27 02:30:00 +02:00');
    assert.equal(formatTime(Date.UTC(2024, 9, 27, 1, 30), 'Europe/Warsaw'), '2024-10-27 02:30:00 +01:00');
  });

  it('never throws: a bad time is "unknown time", a zone Intl does not know is UTC, said so', () => {
    assert.equal(formatTime(Number.NaN, 'UTC'), 'unknown time');
    assert.equal(formatTime(Number.POSITIVE_INFINITY), 'unknown time');
    assert.equal(formatDateTime(Number.NaN, 'UTC'), 'unknown time');
    assert.equal(formatTime(MAY, 'Not/AZone'), '2024-05-01 12:03:04 UTC');
    assert.equal(formatTime(MAY, 'Etc/Unknown'), '2024-05-01 12:03:04 UTC');
  });

  it('resolves TZ: known zones by their canonical name, none given = the process zone, unknown = UTC', () => {
    assert.equal(resolveTimeZone('Europe/Warsaw'), 'Europe/Warsaw');
    assert.equal(resolveTimeZone(' europe/warsaw '), 'Europe/Warsaw');
    assert.equal(knownTimeZone('Not/AZone'), null);
    assert.equal(resolveTimeZone('Not/AZone'), 'UTC');
    assert.equal(resolveTimeZone(':/etc/localtime'), 'UTC');
    assert.equal(resolveTimeZone(undefined), processTimeZone());
    assert.equal(resolveTimeZone(''), processTimeZone());
    assert.equal(resolveTimeZone(' : '), processTimeZone());
  });

  it('the process zone follows a change of TZ while running; one Node cannot use is UTC', () => {
    withTz('Asia/Tokyo', () => {
      assert.equal(resolveTimeZone(undefined), 'Asia/Tokyo');
      assert.equal(formatTime(Date.UTC(2024, 4, 1, 10, 5, 30)), '2024-05-01 19:05:30 +09:00');
    });
    withTz('America/New_York', () => {
      assert.equal(resolveTimeZone(undefined), 'America/New_York');
      assert.equal(resolveTimeZone('Not/AZone'), 'UTC');
    });
    withTz('Not/AZone', () => assert.equal(processTimeZone(), 'UTC'));
    withTz('', () => assert.equal(processTimeZone(), 'UTC'));
  });

  it('formatters are kept per zone: every call still says what a fresh formatter says, across DST and zones', () => {
    const reference = new Map<string, Intl.DateTimeFormat>();
    const fresh = (ms: number, zone: string): string => {
      let f = reference.get(zone);
      if (!f) {
        f = new Intl.DateTimeFormat('en-GB', {
          timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
          hourCycle: 'h23', timeZoneName: 'longOffset',
        });
        reference.set(zone, f);
      }
      const p = Object.fromEntries(f.formatToParts(ms).map((x) => [x.type, x.value]));
      const offset = zone === 'UTC' ? 'UTC' : String(p.timeZoneName).replace(/^GMT/, '') || '+00:00';
      return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second} ${offset}`;
    };
    // More zones than the cache holds, so entries are dropped and built again meanwhile.
    const zones = ['UTC', 'Europe/Warsaw', 'America/St_Johns', 'Asia/Kathmandu', 'europe/warsaw', ...Intl.supportedValuesOf('timeZone').slice(0, 20)];
    for (let i = 0; i < 40; i++) {
      const ms = Date.UTC(2024, 2, 31, 0, 0, 0) + i * 39_595_000; // across the March DST change and beyond
      for (const zone of zones) assert.equal(formatTime(ms, zone), fresh(ms, zone), `${zone} at ${ms}`);
    }
  });

  it('timeFormatter: one zone, and which zone it settled on', () => {
    const f = timeFormatter('Nowhere/Atall');
    assert.equal(f(JAN), '2024-01-31 23:30:05 UTC');
    assert.equal(f.unknownZone, 'Nowhere/Atall');
    assert.equal(f.timeZone, 'UTC');
    const w = timeFormatter(':Europe/Warsaw');
    assert.equal(w(JAN), '2024-02-01 00:30:05 +01:00');
    assert.equal(w.timeZone, 'Europe/Warsaw');
    assert.equal(w.unknownZone, undefined);
    assert.equal(timeFormatter(undefined).unknownZone, undefined);
    assert.equal(timeFormatter(undefined).timeZone, processTimeZone());
  });
});

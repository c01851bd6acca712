// The status page formats times in the browser with its own copy (pageView must stay self-contained,
// src/http/page-view.ts); it must show what src/util/time-format.ts shows everywhere else.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatClock, formatDateTime, formatTime, shortDuration } from '../util/time-format.js';
import { pageView } from './page-view.js';

const view = pageView();
const ZONES = Intl.supportedValuesOf('timeZone');

// Any zone Intl knows (also in another case, as TZ may be written), UTC, and zones it does not know.
const zone = fc.oneof(
  fc.constantFrom(...ZONES),
  fc.constantFrom(...ZONES).map((z) => z.toLowerCase()),
  fc.constantFrom('UTC', 'Etc/UTC', 'GMT', 'Not/AZone', 'Etc/Unknown', 'Mars/Olympus_Mons'),
);
// 1900 to 2200: offsets with seconds (local mean time), DST rules coming and going.
const time = fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2200, 0, 1) });

describe('the status page and src/util/time-format.ts agree', () => {
  it('on the date and time of any moment in any zone', () => {
    fc.assert(
      fc.property(time, zone, (ms, z) => {
        const page = view.formatTime(ms, z);
        assert.equal(page, formatDateTime(ms, z));
        assert.ok(formatTime(ms, z).startsWith(`${page} `));
      }),
      { numRuns: 600 },
    );
  });

  it('in every zone Intl knows, through a year (both sides of its DST changes)', () => {
    const start = Date.UTC(2024, 0, 1);
    for (const z of ZONES) {
      // Every 6 days, 1 hour and 13 minutes: each hour of the day, both sides of any DST change of 2024.
      for (let ms = start; ms < start + 366 * 86_400_000; ms += 145 * 3_600_000 + 13 * 60_000) {
        assert.equal(view.formatTime(ms, z), formatDateTime(ms, z), `${z} at ${new Date(ms).toISOString()}`);
      }
    }
  });

  it('on the clock (same day or not, in the zone) and on short durations', () => {
    fc.assert(
      fc.property(time, fc.integer({ min: -3 * 86_400_000, max: 3 * 86_400_000 }), zone, (ms, delta, z) => {
        assert.equal(view.formatClock(ms, ms + delta, z), formatClock(ms, ms + delta, z));
      }),
      { numRuns: 600 },
    );
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: -10_000, max: 4 * 86_400_000 }), fc.double({ min: -1e3, max: 1e12, noNaN: true })), (ms) => {
        assert.equal(view.formatDuration(ms), shortDuration(ms));
      }),
      { numRuns: 2000 },
    );
  });
});

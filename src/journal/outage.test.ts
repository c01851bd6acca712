import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JournalOutage, RELAPSE_MS, RETRY_FIRST_MS, RETRY_MAX_MS, type JournalProblem } from './outage.js';

const FULL: JournalProblem = { doing: 'writing', reason: 'database or disk is full', advice: 'The disk is full: free some space.' };
const CORRUPT: JournalProblem = { doing: 'opening', reason: 'file is not a database', advice: 'move the file away' };

describe('journal outage: the degrade/recover state machine', () => {
  it('is ok until a failure: nothing to retry, nothing recovered', () => {
    const o = new JournalOutage(() => 0);
    assert.equal(o.degraded, false);
    assert.equal(o.problem, null);
    assert.equal(o.sinceMs, null);
    assert.equal(o.retryInMs(), null);
    assert.equal(o.recovered(), null);
  });

  it('a first failure degrades (say it once), later ones back off doubling up to the cap', () => {
    let now = 1_000;
    const o = new JournalOutage(() => now);
    assert.equal(o.failed(CORRUPT), 'new', 'the first failure is the one to log');
    assert.equal(o.degraded, true);
    assert.equal(o.sinceMs, 1_000);
    assert.equal(o.retryInMs(), RETRY_FIRST_MS);
    now += 400;
    assert.equal(o.retryInMs(), RETRY_FIRST_MS - 400, 'counts down on the clock');
    now += 10_000;
    assert.equal(o.retryInMs(), 0, 'overdue is due now');
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      assert.equal(o.failed(i < 4 ? CORRUPT : FULL), 'retry', 'a failed retry is not logged as a new outage');
      waits.push(o.retryInMs() ?? -1);
    }
    assert.deepEqual(waits, [2_000, 4_000, 8_000, 16_000, RETRY_MAX_MS, RETRY_MAX_MS, RETRY_MAX_MS, RETRY_MAX_MS]);
    assert.equal(o.retriesFailed, 8);
    assert.deepEqual(o.problem, FULL, 'the newest reason is shown');
    assert.equal(o.sinceMs, 1_000, 'the outage still began at the first failure');
  });

  it('recovers with how long it lasted, and a new failure starts afresh', () => {
    let now = 0;
    const o = new JournalOutage(() => now, 100, 1_000, 0);
    o.failed(FULL);
    now = 50;
    o.failed(FULL);
    o.failed(FULL);
    assert.equal(o.retryInMs(), 400);
    now = 7_000;
    assert.equal(o.recovered(), 7_000);
    assert.equal(o.degraded, false);
    assert.equal(o.retryInMs(), null);
    assert.equal(o.recovered(), null, 'recovering twice is nothing');
    now = 9_000;
    assert.equal(o.failed(CORRUPT), 'new', 'a new outage is said again');
    assert.equal(o.sinceMs, 9_000);
    assert.equal(o.retryInMs(), 100, 'the backoff starts again from the first wait');
    assert.equal(o.retriesFailed, 0);
  });

  it('an outage soon after the last one ended is a relapse (quiet), one later is new again', () => {
    let now = 0;
    const o = new JournalOutage(() => now);
    assert.equal(o.failed(FULL), 'new');
    assert.equal(o.isRelapse, false);
    now = 1_000;
    o.recovered();
    now = 11_000; // a nearly full disk took one small write, then refused the next
    assert.equal(o.failed(FULL), 'relapse');
    assert.equal(o.isRelapse, true);
    assert.equal(o.retryInMs(), RETRY_FIRST_MS);
    assert.equal(o.failed(FULL), 'retry');
    now = 20_000;
    o.recovered();
    assert.equal(o.isRelapse, false);
    now = 20_000 + RELAPSE_MS;
    assert.equal(o.failed(CORRUPT), 'new', 'counted from the end of the last one');
  });
});

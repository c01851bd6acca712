import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  budgetView,
  decide,
  initialBudget,
  MAX_KEPT_RESTARTS,
  parseBudgetState,
  recordRecovery,
  recordRestart,
  resetBudget,
  type BudgetPolicy,
  type BudgetState,
  type Decision,
} from './budget.js';

// An explicit clock: t(n) is n seconds after an arbitrary realistic epoch.
const BASE = Date.UTC(2024, 0, 1);
const t = (seconds: number): number => BASE + seconds * 1000;

const WALK: BudgetPolicy = {
  secondsBetweenRestarts: 15,
  frameSizeSec: 300,
  maxRestartsInFrame: 2,
  secondsBetweenNextFrame: 600,
  maxChecksToGiveUp: 5,
};

/** A tiny healer: keeps the state, asks the budget, restarts when told to. */
class Sim {
  state: BudgetState = initialBudget();
  restarts: number[] = [];
  constructor(public policy: BudgetPolicy) {}
  decide(sec: number): Decision {
    const d = decide(this.state, this.policy, t(sec));
    this.state = d.state;
    return d;
  }
  /** Decide, and restart when allowed; returns the decision. */
  need(sec: number, ok = true): Decision & { gaveUp?: boolean } {
    const d = this.decide(sec);
    if (d.kind !== 'restart') return d;
    const r = recordRestart(this.state, this.policy, t(sec), ok);
    this.state = r.state;
    this.restarts.push(sec);
    return { ...d, gaveUp: r.gaveUp };
  }
  recover(sec: number): boolean {
    const r = recordRecovery(this.state, t(sec));
    this.state = r.state;
    return r.wasLimited;
  }
  view(sec: number) {
    return budgetView(this.state, this.policy, t(sec));
  }
}

function expectRestart(d: Decision, attempt: number, multipleFailures: boolean): void {
  assert.equal(d.kind, 'restart', `expected a restart, got ${JSON.stringify({ ...d, state: undefined })}`);
  if (d.kind !== 'restart') return;
  assert.equal(d.attempt, attempt, 'attempt');
  assert.equal(d.multipleFailures, multipleFailures, 'multipleFailures');
}
function expectLongerWait(d: Decision, untilSec: number, startsNow: boolean): void {
  assert.equal(d.kind, 'longer_wait', `expected a longer wait, got ${d.kind}`);
  if (d.kind !== 'longer_wait') return;
  assert.equal(d.untilMs, t(untilSec));
  assert.equal(d.startsNow, startsNow);
}
function expectWait(d: Decision, untilSec: number, startsNow: boolean): void {
  assert.equal(d.kind, 'wait', `expected a gap wait, got ${d.kind}`);
  if (d.kind !== 'wait') return;
  assert.equal(d.reason, 'gap');
  assert.equal(d.untilMs, t(untilSec));
  assert.equal(d.startsNow, startsNow);
}

describe('restart budget: the walk of issue 4 (gap 15, frame 300, max 2, next frame 600, give up 5)', () => {
  it('restarts at 0 and 15, longer wait at 30 until 630, new frame at 630, give-up at the 5th, recovery lifts it', () => {
    const sim = new Sim(WALK);
    expectRestart(sim.need(0), 1, false);
    assert.deepEqual(sim.view(1), { state: 'ok', untilMs: null, restartsInFrame: 1, reachedMaxInPreviousFrame: false, streak: 1 });
    expectRestart(sim.need(15), 2, true);

    // The frame holds 2 restarts: the longer wait starts at the moment a restart is needed.
    const lw = sim.need(30);
    expectLongerWait(lw, 630, true);
    assert.equal(lw.kind === 'longer_wait' && lw.restartsInFrame, 2);
    assert.deepEqual(sim.view(31), { state: 'longer_wait', untilMs: t(630), restartsInFrame: 2, reachedMaxInPreviousFrame: false, streak: 2 });
    expectLongerWait(sim.need(100), 630, false);
    expectLongerWait(sim.need(629.999), 630, false);

    // A new frame at 630: the restarts at 0 and 15 no longer count in it.
    const r3 = sim.need(630);
    expectRestart(r3, 3, true);
    assert.equal(r3.kind === 'restart' && r3.restartsInFrame, 0);
    assert.equal(sim.state.frameStartMs, t(630));
    assert.deepEqual(sim.view(631), { state: 'ok', untilMs: null, restartsInFrame: 1, reachedMaxInPreviousFrame: true, streak: 3 });

    expectWait(sim.need(640), 645, true);
    assert.deepEqual(sim.view(641), { state: 'waiting', untilMs: t(645), restartsInFrame: 1, reachedMaxInPreviousFrame: true, streak: 3 });
    expectWait(sim.need(641), 645, false);
    expectRestart(sim.need(645), 4, true);
    expectLongerWait(sim.need(660), 1260, true);
    expectLongerWait(sim.need(1000), 1260, false);

    const fifth = sim.need(1260);
    expectRestart(fifth, 5, true);
    assert.equal(fifth.gaveUp, true, 'the 5th restart in a row gives up');
    assert.deepEqual(sim.restarts, [0, 15, 630, 645, 1260]);

    const gone = sim.need(1300);
    assert.equal(gone.kind, 'given_up');
    assert.equal(gone.kind === 'given_up' && gone.sinceMs, t(1260));
    assert.equal(sim.need(1_000_000).kind, 'given_up', 'given up stays given up however long');
    assert.equal(sim.view(1_000_000).state, 'given_up');
    assert.equal(sim.view(1_000_000).untilMs, null);

    // Recovery lifts it and is notified.
    assert.equal(sim.recover(1_000_010), true);
    assert.equal(sim.view(1_000_011).state, 'ok');
    assert.equal(sim.view(1_000_011).streak, 0);
    expectRestart(sim.need(1_000_020), 1, false);
  });

  it('a failed restart counts toward the frame, the streak and the give-up', () => {
    const sim = new Sim(WALK);
    sim.need(0, false);
    assert.equal(sim.state.lastRestartOk, false);
    expectRestart(sim.need(15, false), 2, true);
    expectLongerWait(sim.need(30), 630, true);
    sim.need(630, false);
    sim.need(645, false);
    sim.need(660);
    const last = sim.need(1260, false);
    assert.equal(last.gaveUp, true);
    assert.equal(sim.need(2000).kind, 'given_up');
  });

  it('gaveUp is reported once, on the restart that makes the streak', () => {
    const p = { ...WALK, maxRestartsInFrame: 0, maxChecksToGiveUp: 2 };
    let s = initialBudget();
    let r = recordRestart(s, p, t(0), true);
    assert.equal(r.gaveUp, false);
    r = recordRestart(r.state, p, t(20), true);
    assert.equal(r.gaveUp, true);
    s = r.state;
    // Someone restarting it anyway (not via decide) does not report a second give-up.
    r = recordRestart(s, p, t(40), true);
    assert.equal(r.gaveUp, false);
    assert.equal(r.state.givenUp, true);
    assert.equal(r.state.givenUpAtMs, t(20));
  });
});

describe('restart budget: limits switched off', () => {
  it('max_restarts_in_frame=0: no frame limit, only the gap and the give-up', () => {
    const sim = new Sim({ ...WALK, maxRestartsInFrame: 0, maxChecksToGiveUp: 0 });
    for (let i = 0; i < 200; i++) expectRestart(sim.need(i * 15), i + 1, i > 0);
    assert.equal(sim.view(200 * 15).state, 'ok');
    assert.equal(sim.view(200 * 15 - 15).restartsInFrame, 21, 'the status page still counts restarts in the frame');
  });

  it('max_restarts_in_frame=0 with give-up 5 still gives up', () => {
    const sim = new Sim({ ...WALK, maxRestartsInFrame: 0 });
    for (let i = 0; i < 4; i++) assert.equal(sim.need(i * 15).gaveUp, false);
    assert.equal(sim.need(60).gaveUp, true);
    assert.equal(sim.need(75).kind, 'given_up');
  });

  it('max_checks_to_give_up=0: never gives up, frames keep turning', () => {
    const sim = new Sim({ ...WALK, maxChecksToGiveUp: 0 });
    let now = 0;
    for (let i = 0; i < 300; i++) {
      const d = sim.need(now);
      assert.notEqual(d.kind, 'given_up');
      now = d.kind === 'restart' ? now + 1 : (d as { untilMs: number }).untilMs / 1000 - BASE / 1000;
    }
    assert.ok(sim.restarts.length >= 100);
    assert.equal(sim.state.givenUp, false);
    assert.equal(sim.state.streak, sim.restarts.length);
  });

  it('caps the restart list at MAX_KEPT_RESTARTS with no frame limit and no gap', () => {
    const p = { ...WALK, secondsBetweenRestarts: 0, maxRestartsInFrame: 0, maxChecksToGiveUp: 0, frameSizeSec: 100_000 };
    let s = initialBudget();
    for (let i = 0; i < MAX_KEPT_RESTARTS + 50; i++) s = recordRestart(s, p, t(i), true).state;
    assert.equal(s.restartsMs.length, MAX_KEPT_RESTARTS);
    assert.equal(s.restartsMs.at(-1), t(MAX_KEPT_RESTARTS + 49));
  });
});

describe('restart budget: the gap between restarts', () => {
  it('waits for the rest of the gap, reported once, then restarts exactly at its end', () => {
    const sim = new Sim(WALK);
    sim.need(0);
    expectWait(sim.need(5), 15, true);
    const before = sim.state;
    expectWait(sim.need(10), 15, false);
    assert.equal(sim.state, before, 'a repeated wait leaves the state object untouched (nothing to save)');
    expectWait(sim.need(14.999), 15, false);
    expectRestart(sim.need(15), 2, true);
    assert.equal(sim.state.waitUntilMs, null, 'the restart ends the wait');
  });

  it('gap 0 restarts at once (until the frame is full)', () => {
    const sim = new Sim({ ...WALK, secondsBetweenRestarts: 0 });
    expectRestart(sim.need(0), 1, false);
    expectRestart(sim.need(0), 2, true);
    expectLongerWait(sim.need(0), 600, true);
  });

  it('zero-length frame and waits never loop: a 0 s longer wait ends at once and restarts', () => {
    const sim = new Sim({ secondsBetweenRestarts: 0, frameSizeSec: 0, maxRestartsInFrame: 1, secondsBetweenNextFrame: 0, maxChecksToGiveUp: 0 });
    expectRestart(sim.need(0), 1, false);
    expectLongerWait(sim.need(0), 0, true);
    expectRestart(sim.need(0), 2, true);
    expectLongerWait(sim.need(0), 0, true);
  });

  it('the gap applies after a longer wait that is shorter than the gap', () => {
    const sim = new Sim({ ...WALK, secondsBetweenRestarts: 60, frameSizeSec: 120, secondsBetweenNextFrame: 10 });
    sim.need(0);
    sim.need(60);
    expectLongerWait(sim.need(61), 71, true);
    expectWait(sim.need(71), 120, true);
    expectRestart(sim.need(120), 3, true);
  });
});

describe('restart budget: recovery', () => {
  it('recovery mid-frame ends the streak but the frame still counts its restarts', () => {
    const sim = new Sim(WALK);
    sim.need(0);
    assert.equal(sim.recover(10), false, 'no limit reached: not notified');
    expectRestart(sim.need(20), 1, false);
    expectLongerWait(sim.need(40), 640, true);
  });

  it('recovery during a longer wait cancels it, is notified, and a new failure in the frame waits again', () => {
    const sim = new Sim(WALK);
    sim.need(0);
    sim.need(15);
    expectLongerWait(sim.need(30), 630, true);
    assert.equal(sim.recover(100), true);
    assert.deepEqual(sim.view(101), { state: 'ok', untilMs: null, restartsInFrame: 2, reachedMaxInPreviousFrame: false, streak: 0 });
    // Still two restarts inside [−180, 120]: the limit holds, a new longer wait from this moment.
    expectLongerWait(sim.need(120), 720, true);
    assert.equal(sim.recover(130), true);
    // Outside the frame: restarts are allowed again, and it is a first restart.
    expectRestart(sim.need(316), 1, false);
  });

  it('recovery with nothing to end returns the same state object', () => {
    const s = initialBudget();
    assert.equal(recordRecovery(s, t(0)).state, s);
    const sim = new Sim(WALK);
    sim.need(0);
    sim.recover(5);
    const after = sim.state;
    assert.equal(recordRecovery(after, t(6)).state, after);
  });

  it('recovery during a gap wait cancels the wait', () => {
    const sim = new Sim(WALK);
    sim.need(0);
    expectWait(sim.need(3), 15, true);
    sim.recover(5);
    assert.equal(sim.view(6).state, 'ok');
    expectWait(sim.need(7), 15, true);
  });
});

describe('restart budget: reset', () => {
  it('reset clears give-up, waits, streak and frame', () => {
    const sim = new Sim({ ...WALK, maxChecksToGiveUp: 2 });
    sim.need(0);
    sim.need(15);
    assert.equal(sim.need(30).kind, 'given_up');
    sim.state = resetBudget();
    assert.deepEqual(sim.state, initialBudget());
    assert.deepEqual(sim.view(31), { state: 'ok', untilMs: null, restartsInFrame: 0, reachedMaxInPreviousFrame: false, streak: 0 });
    expectRestart(sim.need(31), 1, false);
  });

  it('reset during a longer wait allows a restart at once', () => {
    const sim = new Sim(WALK);
    sim.need(0);
    sim.need(15);
    sim.need(30);
    sim.state = resetBudget();
    expectRestart(sim.need(31), 1, false);
  });
});

describe('restart budget: the sliding frame', () => {
  it('a restart exactly frame_size ago still counts; one a moment older does not', () => {
    const sim = new Sim(WALK);
    sim.need(0);
    sim.need(15);
    sim.recover(20);
    expectLongerWait(decideAt(sim.state, WALK, 300), 900, true);
    const d = decideAt(sim.state, WALK, 300.001);
    assert.equal(d.kind, 'restart', 'at 300.001 only the restart at 15 is in the frame');
  });

  it('restarts leave the frame one by one', () => {
    const sim = new Sim(WALK);
    sim.need(0);
    sim.need(15);
    sim.recover(20);
    expectRestart(sim.need(315), 1, false); // frame [15, 315] holds the restart at 15 only
    expectRestart(sim.need(330), 2, true); // frame [30, 330] holds 315 only
    expectLongerWait(sim.need(345), 945, true); // frame [45, 345] holds 315 and 330
    assert.deepEqual(sim.state.restartsMs, [t(315), t(330)], 'restarts out of the frame are pruned');
  });

  it('reachedMaxInPreviousFrame lasts one whole frame after the longer wait', () => {
    const sim = new Sim(WALK);
    sim.need(0);
    sim.need(15);
    sim.need(30);
    sim.need(630);
    sim.recover(640);
    assert.equal(sim.view(929).reachedMaxInPreviousFrame, true);
    assert.equal(sim.view(930).reachedMaxInPreviousFrame, false);
    assert.equal(sim.view(930).restartsInFrame, 1, 'the restart at 630 is still in [630, 930]');
  });

  it('the status page shows a finished longer wait as a new frame before anyone decides', () => {
    const sim = new Sim(WALK);
    sim.need(0);
    sim.need(15);
    sim.need(30);
    assert.deepEqual(sim.view(700), { state: 'ok', untilMs: null, restartsInFrame: 0, reachedMaxInPreviousFrame: true, streak: 2 });
  });

  it('a longer wait decided on late still starts the new frame where the wait ended', () => {
    const sim = new Sim(WALK);
    sim.need(0);
    sim.need(15);
    sim.need(30);
    expectRestart(sim.need(800), 3, true);
    assert.equal(sim.state.frameStartMs, t(630));
    // Decided on after a whole frame: the "after the limit" frame has already run out.
    const sim2 = new Sim(WALK);
    sim2.need(0);
    sim2.need(15);
    sim2.need(30);
    expectRestart(sim2.need(2000), 3, true);
    assert.equal(sim2.state.frameStartMs, null);
    assert.equal(sim2.state.reachedMaxInPreviousFrame, false);
  });
});

function decideAt(state: BudgetState, policy: BudgetPolicy, sec: number): Decision {
  return decide(state, policy, t(sec));
}

describe('restart budget: policy changes between calls (labels changed on re-creation)', () => {
  it('a shorter seconds_between_next_frame shortens the wait in progress', () => {
    const sim = new Sim(WALK);
    sim.need(0);
    sim.need(15);
    expectLongerWait(sim.need(30), 630, true);
    sim.policy = { ...WALK, secondsBetweenNextFrame: 60 };
    expectLongerWait(sim.need(60), 90, false);
    expectRestart(sim.need(90), 3, true);
    assert.equal(sim.state.frameStartMs, t(90));
  });

  it('max_restarts_in_frame turned to 0 ends the longer wait and lifts the limit', () => {
    const sim = new Sim(WALK);
    sim.need(0);
    sim.need(15);
    sim.need(30);
    sim.policy = { ...WALK, maxRestartsInFrame: 0 };
    expectRestart(sim.need(31), 3, true);
    expectRestart(sim.need(46), 4, true);
  });

  it('a raised max allows another restart in the same frame', () => {
    const sim = new Sim(WALK);
    sim.need(0);
    sim.need(15);
    sim.policy = { ...WALK, maxRestartsInFrame: 3 };
    expectRestart(sim.need(30), 3, true);
    expectLongerWait(sim.need(45), 645, true);
  });

  it('a smaller frame forgets older restarts', () => {
    const sim = new Sim(WALK);
    sim.need(0);
    sim.need(15);
    sim.policy = { ...WALK, frameSizeSec: 30 };
    expectRestart(sim.need(50), 3, true); // [20, 50] is empty
  });

  it('a lowered give-up limit applies at the next restart', () => {
    const sim = new Sim({ ...WALK, maxRestartsInFrame: 0, maxChecksToGiveUp: 10 });
    for (let i = 0; i < 4; i++) sim.need(i * 15);
    sim.policy = { ...sim.policy, maxChecksToGiveUp: 3 };
    assert.equal(sim.need(60).gaveUp, true);
  });

  it('given up stays given up when the policy later says never give up', () => {
    const sim = new Sim({ ...WALK, maxRestartsInFrame: 0, maxChecksToGiveUp: 1 });
    sim.need(0);
    sim.policy = { ...sim.policy, maxChecksToGiveUp: 0 };
    assert.equal(sim.need(100).kind, 'given_up');
  });

  it('a changed gap applies to the wait in progress', () => {
    const sim = new Sim(WALK);
    sim.need(0);
    expectWait(sim.need(1), 15, true);
    sim.policy = { ...WALK, secondsBetweenRestarts: 5 };
    expectRestart(sim.need(5), 2, true);
  });
});

describe('restart budget: time going backwards (clock skew)', () => {
  it('a gap wait is never longer than the gap from the present', () => {
    const sim = new Sim(WALK);
    sim.need(10_000);
    const d = sim.need(0); // the clock jumped back almost 3 hours
    expectWait(d, 15, true);
    expectRestart(sim.need(15), 2, true);
  });

  it('the status page never shows a gap wait longer than the gap after a skew', () => {
    const sim = new Sim(WALK);
    sim.need(10_000);
    expectWait(sim.need(10_005), 10_015, true);
    assert.deepEqual(sim.view(0), { state: 'waiting', untilMs: t(15), restartsInFrame: 1, reachedMaxInPreviousFrame: false, streak: 1 });
  });

  it('a longer wait is never longer than seconds_between_next_frame from the present', () => {
    const sim = new Sim(WALK);
    sim.need(10_000);
    sim.need(10_015);
    expectLongerWait(sim.need(10_030), 10_630, true);
    expectLongerWait(sim.need(0), 600, false);
    assert.equal(sim.view(1).untilMs, t(600));
    expectRestart(sim.need(600), 3, true);
  });

  it('restarts stamped in the future count as now and then leave the frame', () => {
    const sim = new Sim(WALK);
    sim.need(10_000);
    sim.need(10_015);
    sim.recover(10_020);
    expectLongerWait(sim.need(0), 600, true);
    sim.recover(1);
    expectRestart(sim.need(301), 1, false);
  });

  it('every wait after any skew ends within its own duration', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -100_000, max: 100_000 }), { minLength: 1, maxLength: 30 }), (times) => {
        const sim = new Sim(WALK);
        for (const sec of times) {
          const d = sim.need(sec);
          if (d.kind === 'wait') assert.ok(d.untilMs > t(sec) && d.untilMs <= t(sec + 15));
          if (d.kind === 'longer_wait') assert.ok(d.untilMs > t(sec) && d.untilMs <= t(sec + 600));
          const v = sim.view(sec);
          if (v.untilMs !== null) assert.ok(v.untilMs <= t(sec + 600));
        }
      }),
    );
  });
});

describe('restart budget: state is plain JSON', () => {
  it('round-trips through JSON and parseBudgetState', () => {
    const sim = new Sim(WALK);
    sim.need(0);
    sim.need(15);
    sim.need(30);
    const back = parseBudgetState(JSON.parse(JSON.stringify(sim.state)));
    assert.deepEqual(back, sim.state);
    expectLongerWait(decideAt(back!, WALK, 100), 630, false);
  });

  it('rejects what is not a budget state', () => {
    for (const bad of [null, 1, 'x', [], {}, { v: 2 }, { ...initialBudget(), restartsMs: ['a'] }, { ...initialBudget(), streak: -1 },
      { ...initialBudget(), givenUp: 'yes' }, { ...initialBudget(), waitUntilMs: 'soon' }, { ...initialBudget(), lastRestartOk: 3 }]) {
      assert.equal(parseBudgetState(bad), null, JSON.stringify(bad));
    }
  });

  it('keeps an in-flight restart marker through JSON, and drops a damaged one without the budget', () => {
    const marker = { atMs: t(5), verb: 'start' as const, reason: 'crashed with exit code 3', exitCode: 3, attempt: 2, multipleFailures: true, gaveUp: false, maxHistoricEntries: 50 };
    const s = { ...recordRestart(initialBudget(), WALK, t(5), true).state, inFlight: marker };
    assert.deepEqual(parseBudgetState(JSON.parse(JSON.stringify(s))), s);
    // The budget functions carry it along untouched.
    assert.deepEqual(decide(s, WALK, t(10)).state.inFlight, marker);
    for (const bad of [1, 'x', [], {}, { ...marker, atMs: 'then' }, { ...marker, verb: 'reboot' }, { ...marker, attempt: 0 }, { ...marker, gaveUp: 1 },
      { ...marker, maxHistoricEntries: -1 }, { ...marker, exitCode: 'x' }]) {
      const parsed = parseBudgetState({ ...s, inFlight: bad });
      assert.ok(parsed, JSON.stringify(bad));
      assert.equal('inFlight' in parsed, false, JSON.stringify(bad));
      assert.deepEqual(parsed.restartsMs, [t(5)]);
    }
  });

  it('fills fields a future-compatible row leaves out, and sorts restarts', () => {
    const parsed = parseBudgetState({ v: 1, restartsMs: [t(20), t(10)], streak: 2 });
    assert.deepEqual(parsed, { ...initialBudget(), restartsMs: [t(10), t(20)], streak: 2 });
  });
});

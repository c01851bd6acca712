import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BACKOFF_MAX_MS, BACKOFF_RESET_MS, backoffDelayMs, backoffView, decideBackoff, recordBackoffRestart } from './backoff.js';
import { initialBudget, parseBudgetState, recordRecovery, type BudgetPolicy, type BudgetState, type Decision } from './budget.js';
import { budgetViewByMode, decideByMode, recordRestartByMode } from './modes.js';

const BASE = Date.UTC(2024, 0, 1);
const t = (seconds: number): number => BASE + seconds * 1000;
// The frame numbers must not matter in backoff mode: a frame limit of 1 would otherwise hold restarts back.
const POLICY: BudgetPolicy = { secondsBetweenRestarts: 15, frameSizeSec: 300, maxRestartsInFrame: 1, secondsBetweenNextFrame: 600, maxChecksToGiveUp: 0 };

/** A container that needs a restart at every moment asked; returns when it was restarted. */
class Loop {
  state: BudgetState = initialBudget();
  restarts: number[] = [];
  constructor(public policy: BudgetPolicy = POLICY) {}
  need(ms: number): Decision & { gaveUp?: boolean } {
    const d = decideBackoff(this.state, ms);
    this.state = d.state;
    if (d.kind !== 'restart') return d;
    const r = recordBackoffRestart(this.state, this.policy, ms, true);
    this.state = r.state;
    this.restarts.push(ms);
    return { ...d, gaveUp: r.gaveUp };
  }
  /** Crashes again as soon as it is restarted: follows every wait to its end. */
  crashLoop(fromMs: number, restarts: number): void {
    let now = fromMs;
    while (this.restarts.length < restarts) {
      const d = this.need(now);
      if (d.kind === 'wait') now = d.untilMs;
      else if (d.kind !== 'restart') throw new Error(`unexpected ${d.kind}`);
    }
  }
}

describe('budget_mode backoff: the Kubernetes figures (CrashLoopBackOff)', () => {
  it('waits 0, 10, 20, 40, 80, 160 s, then 300 s (the cap) for ever', () => {
    const secs = Array.from({ length: 12 }, (_, n) => backoffDelayMs(n) / 1000);
    assert.deepEqual(secs, [0, 10, 20, 40, 80, 160, 300, 300, 300, 300, 300, 300]);
    assert.equal(backoffDelayMs(10_000), BACKOFF_MAX_MS);
    assert.equal(backoffDelayMs(-1), 0);
    assert.equal(backoffDelayMs(Number.NaN), 0);
  });

  it('a container crashing at once after every restart is restarted at 0, 10, 30, 70, 150, 310, 610, 910 s', () => {
    const loop = new Loop();
    loop.crashLoop(t(0), 8);
    assert.deepEqual(loop.restarts.map((ms) => (ms - BASE) / 1000), [0, 10, 30, 70, 150, 310, 610, 910]);
  });

  it('the wait is measured from the moment the need is seen (the crash), not from the last restart', () => {
    const loop = new Loop();
    loop.need(t(0));
    // Ran 50 s after its first restart, then crashed: waits 10 s from the crash.
    const d = loop.need(t(50));
    assert.equal(d.kind, 'wait');
    assert.equal(d.kind === 'wait' && d.reason, 'backoff');
    assert.equal(d.kind === 'wait' && d.untilMs, t(60));
    assert.equal(d.kind === 'wait' && d.startsNow, true);
    const again = loop.need(t(55));
    assert.equal(again.kind === 'wait' && again.startsNow, false);
    assert.equal(loop.need(t(60)).kind, 'restart');
  });

  it('starts over after 600 s (twice the cap) without a restart; at exactly 600 s it does not (the kubelet compares with >)', () => {
    const loop = new Loop();
    loop.crashLoop(t(0), 7); // last restart at 610 s, the next wait 300 s
    const last = loop.restarts.at(-1)!;
    const atLimit = decideBackoff(loop.state, last + BACKOFF_RESET_MS);
    assert.equal(atLimit.kind, 'wait');
    assert.equal(atLimit.kind === 'wait' && atLimit.untilMs - (last + BACKOFF_RESET_MS), BACKOFF_MAX_MS);
    const after = new Loop();
    after.state = loop.state;
    assert.equal(after.need(last + BACKOFF_RESET_MS + 1).kind, 'restart');
    // ... and the schedule begins again at 10 s.
    const next = after.need(last + BACKOFF_RESET_MS + 2);
    assert.equal(next.kind === 'wait' && next.untilMs - (last + BACKOFF_RESET_MS + 2), 10_000);
  });

  it('a recovery ends the streak and a wait in progress but not the backoff (only 10 minutes of running do)', () => {
    const loop = new Loop();
    loop.crashLoop(t(0), 3); // 0, 10, 30: the next wait is 40 s
    loop.need(t(35));
    loop.state = recordRecovery(loop.state, t(36)).state;
    assert.equal(loop.state.waitUntilMs, null);
    assert.equal(loop.state.streak, 0);
    const d = loop.need(t(100));
    assert.equal(d.kind === 'wait' && d.untilMs, t(140));
  });

  it('max_checks_to_give_up still applies, and nothing is restarted once given up', () => {
    const loop = new Loop({ ...POLICY, maxChecksToGiveUp: 3 });
    loop.crashLoop(t(0), 3);
    assert.equal(loop.state.givenUp, true);
    assert.equal(loop.need(t(10_000)).kind, 'given_up');
    assert.equal(backoffView(loop.state, loop.policy, t(10_000)).state, 'given_up');
  });

  it('the frame limit does not apply (max_restarts_in_frame 1 here)', () => {
    const loop = new Loop();
    loop.crashLoop(t(0), 4);
    assert.equal(loop.restarts.length, 4);
  });

  it('the view shows the backoff wait and its end', () => {
    const loop = new Loop();
    loop.need(t(0));
    loop.need(t(5));
    assert.deepEqual(backoffView(loop.state, POLICY, t(6)), { state: 'waiting', untilMs: t(15), restartsInFrame: 1, reachedMaxInPreviousFrame: false, streak: 1 });
    assert.equal(backoffView(loop.state, POLICY, t(15)).state, 'ok');
  });

  it('survives JSON and parseBudgetState (a file database resumes the backoff)', () => {
    const loop = new Loop();
    loop.crashLoop(t(0), 4);
    loop.need(t(100));
    const back = parseBudgetState(JSON.parse(JSON.stringify(loop.state)));
    assert.deepEqual(back, loop.state);
    assert.equal(back?.backoffRestarts, 4);
    assert.equal(parseBudgetState({ ...loop.state, backoffRestarts: -1 })?.backoffRestarts, undefined);
  });

  it('modes.ts routes by budget_mode: frames keep their frame limit, backoff ignores it', () => {
    const frames = { ...POLICY, budgetMode: 'frames' as const };
    const backoff = { ...POLICY, budgetMode: 'backoff' as const };
    let f = recordRestartByMode(initialBudget(), frames, t(0), true).state;
    assert.equal(decideByMode(f, frames, t(100)).kind, 'longer_wait');
    f = recordRestartByMode(initialBudget(), backoff, t(0), true).state;
    assert.equal(f.backoffRestarts, 1);
    const d = decideByMode(f, backoff, t(100));
    assert.equal(d.kind, 'wait');
    assert.equal(budgetViewByMode(d.state, backoff, t(101)).state, 'waiting');
  });
});

describe('budget_mode backoff: properties', () => {
  type Op = { op: 'need' } | { op: 'advance'; ms: number } | { op: 'followWait' } | { op: 'recover' } | { op: 'persist' };
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    { arbitrary: fc.constant<Op>({ op: 'need' }), weight: 5 },
    { arbitrary: fc.integer({ min: 0, max: 900_000 }).map<Op>((ms) => ({ op: 'advance', ms })), weight: 3 },
    { arbitrary: fc.constant<Op>({ op: 'followWait' }), weight: 3 },
    { arbitrary: fc.constant<Op>({ op: 'recover' }), weight: 1 },
    { arbitrary: fc.constant<Op>({ op: 'persist' }), weight: 1 },
  );
  const giveUpArb = fc.integer({ min: 0, max: 8 });

  it('two restarts are never closer than the delay the first one set, unless 600 s passed; waits never exceed the cap; give-up is final until recovery', () => {
    fc.assert(
      fc.property(giveUpArb, fc.array(opArb, { maxLength: 150 }), (maxChecksToGiveUp, ops) => {
        const policy = { ...POLICY, maxChecksToGiveUp };
        let now = BASE;
        let state = initialBudget();
        let lastUntil: number | null = null;
        let last: { atMs: number; delay: number } | null = null;
        let streak = 0;
        for (const o of ops) {
          if (o.op === 'advance') now += o.ms;
          else if (o.op === 'followWait') now = Math.max(now, lastUntil ?? now);
          else if (o.op === 'recover') {
            state = recordRecovery(state, now).state;
            streak = 0;
          } else if (o.op === 'persist') {
            const back = parseBudgetState(JSON.parse(JSON.stringify(state)));
            assert.deepEqual(back, state);
            state = back!;
          } else {
            const frozen = JSON.stringify(state);
            const d = decideBackoff(state, now);
            assert.equal(JSON.stringify(state), frozen, 'decide never mutates its input');
            assert.deepEqual(decideBackoff(state, now), d, 'decide is deterministic');
            state = d.state;
            if (d.kind === 'wait') {
              assert.ok(d.untilMs > now && d.untilMs - now <= BACKOFF_MAX_MS, 'a wait ends in the future, at most 300 s away');
              lastUntil = d.untilMs;
            } else if (d.kind === 'given_up') {
              assert.ok(maxChecksToGiveUp > 0 && streak >= maxChecksToGiveUp, 'given up only after max_checks_to_give_up in a row');
            } else {
              assert.equal(d.kind, 'restart', 'never a longer wait in backoff mode');
              if (d.kind !== 'restart') return;
              if (last && now - last.atMs <= BACKOFF_RESET_MS) assert.ok(now - last.atMs >= last.delay, `restart ${now - last.atMs} ms after the last, delay ${last.delay}`);
              assert.equal(d.attempt, streak + 1);
              const r = recordBackoffRestart(state, policy, now, true);
              state = r.state;
              streak++;
              assert.equal(r.gaveUp, maxChecksToGiveUp > 0 && streak === maxChecksToGiveUp);
              last = { atMs: now, delay: backoffDelayMs(state.backoffRestarts ?? 0) };
            }
          }
        }
      }),
    );
  });

  it('the delay never shrinks as restarts add up, and stays within 0..300 s', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), (n) => {
        const a = backoffDelayMs(n);
        const b = backoffDelayMs(n + 1);
        assert.ok(a <= b && b <= BACKOFF_MAX_MS && a >= 0);
        if (n >= 1) assert.ok(b === BACKOFF_MAX_MS || b === 2 * a);
      }),
    );
  });

  it('a clock that went backwards never makes a wait longer than the delay from now', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 10_000_000 }), (restarts, back) => {
        const loop = new Loop();
        loop.crashLoop(t(0), restarts);
        const d1 = loop.need(loop.restarts.at(-1)! + 1);
        const now = (d1.kind === 'wait' ? d1.untilMs : t(0)) - back;
        const d = decideBackoff(loop.state, now);
        if (d.kind === 'wait') assert.ok(d.untilMs - now <= BACKOFF_MAX_MS);
      }),
    );
  });
});

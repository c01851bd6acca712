// budget_mode backoff (docs/behaviour.md §12): Kubernetes' CrashLoopBackOff as pure functions over the
// same BudgetState as the frames (so it is persisted, resumed and shown the same way). The kubelet's
// figures: the first restart at once, then waits of 10 s doubling up to 300 s, measured from the moment
// the container was found needing a restart; once 600 s (twice the cap) pass after a restart without a
// new one, the next restart is immediate again. max_checks_to_give_up still applies (recordRestart);
// the frame limit does not.
import { recordRestart, type BudgetPolicy, type BudgetState, type BudgetView, type Decision } from './budget.js';

export const BACKOFF_INITIAL_MS = 10_000;
export const BACKOFF_MAX_MS = 300_000;
/** The kubelet forgets a container's backoff after twice the cap without a restart. */
export const BACKOFF_RESET_MS = 2 * BACKOFF_MAX_MS;

/** The wait before the next restart when `restarts` were made since the backoff started over. */
export function backoffDelayMs(restarts: number): number {
  if (!Number.isFinite(restarts) || restarts <= 0) return 0;
  // 10 s * 2^(n-1), capped; the exponent is capped too so it never overflows.
  return Math.min(BACKOFF_MAX_MS, BACKOFF_INITIAL_MS * 2 ** Math.min(restarts - 1, 30));
}

/** Restarts that count for the next delay: none once BACKOFF_RESET_MS have passed since the last one. */
export function backoffRestartsAt(state: BudgetState, nowMs: number): number {
  if (state.lastRestartMs === null || nowMs - Math.min(state.lastRestartMs, nowMs) > BACKOFF_RESET_MS) return 0;
  return state.backoffRestarts ?? 0;
}

/** decide() of budget.ts for budget_mode backoff: given up, a backoff wait, or a restart. */
export function decideBackoff(state: BudgetState, nowMs: number): Decision {
  let s = state;
  if (s.givenUp) return { kind: 'given_up', sinceMs: s.givenUpAtMs, state: s };
  const delay = backoffDelayMs(backoffRestartsAt(s, nowMs));
  // A wait stored for later than the delay allows (a clock that went backwards) is cut to it.
  let until = s.waitUntilMs;
  if (until !== null && until > nowMs + delay) until = nowMs + delay;
  if (delay > 0 && until === null) {
    s = { ...s, waitUntilMs: nowMs + delay, longerWaitStartedMs: null };
    return { kind: 'wait', reason: 'backoff', untilMs: nowMs + delay, startsNow: true, state: s };
  }
  if (until !== null && nowMs < until) {
    if (until !== s.waitUntilMs) s = { ...s, waitUntilMs: until };
    return { kind: 'wait', reason: 'backoff', untilMs: until, startsNow: false, state: s };
  }
  return { kind: 'restart', multipleFailures: s.streak >= 1, attempt: s.streak + 1, restartsInFrame: 0, state: s };
}

/** recordRestart of budget.ts, counting the restart in the backoff too (or starting it over). */
export function recordBackoffRestart(state: BudgetState, policy: BudgetPolicy, nowMs: number, ok: boolean): { state: BudgetState; gaveUp: boolean } {
  const before = backoffRestartsAt(state, nowMs);
  const r = recordRestart(state, policy, nowMs, ok);
  return { state: { ...r.state, backoffRestarts: before + 1, longerWaitStartedMs: null }, gaveUp: r.gaveUp };
}

/** budgetView of budget.ts for budget_mode backoff: given up, waiting until the backoff ends, or ok. */
export function backoffView(state: BudgetState, policy: BudgetPolicy, nowMs: number): BudgetView {
  const frameStart = nowMs - Math.max(0, policy.frameSizeSec) * 1000;
  const base = { restartsInFrame: state.restartsMs.filter((t) => t >= frameStart && t <= nowMs).length, reachedMaxInPreviousFrame: false, streak: state.streak };
  if (state.givenUp) return { state: 'given_up', untilMs: null, ...base };
  const delay = backoffDelayMs(backoffRestartsAt(state, nowMs));
  const until = state.waitUntilMs === null ? null : Math.min(state.waitUntilMs, nowMs + delay);
  if (until !== null && nowMs < until) return { state: 'waiting', untilMs: until, ...base };
  return { state: 'ok', untilMs: null, ...base };
}

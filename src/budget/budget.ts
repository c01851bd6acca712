// The restart budget of docs/behaviour.md §3, as pure functions: no I/O, no clock (time is passed in as UTC
// epoch ms), and a plain-JSON state so the journal can persist it and a restarted Repairman resumes
// waits and give-ups instead of restarting early.
//
// How the healer uses it, per container (keyed by name):
//
//   const d = decide(state, policy, nowMs);     // only when the container NEEDS a restart
//   if (d.state !== state) persist(d.state);    // every function returns the SAME object when nothing
//   state = d.state;                            // changed, so `!==` tells whether to save
//   switch (d.kind) {
//     case 'restart':     act; ({ state, gaveUp } = recordRestart(state, policy, Date.now(), ok));
//                         d.multipleFailures -> journal/notify "multiple restart failures" (2nd+ in a row)
//                         gaveUp -> journal/notify "Admin, help: not touching this container any more"
//     case 'wait':        timer until d.untilMs, then decide again (d.startsNow: first time this wait
//                         was decided, journal it once)
//     case 'longer_wait': timer until d.untilMs, then decide again (d.startsNow: the limit was reached
//                         just now, journal/notify "maximum restarts reached")
//     case 'given_up':    do nothing until recovery or `repairman reset NAME`
//   }
//   on recovery: ({ state, wasLimited } = recordRecovery(state, nowMs)); wasLimited -> "healthy again"
//   on `repairman reset NAME`: state = resetBudget()
//   status page: budgetView(state, policy, nowMs)
//
// Semantics (docs/behaviour.md §3), with the choices made where docs/behaviour.md is silent:
// - A restart counts whether it succeeded or failed (docs/behaviour.md §2.4): both go through recordRestart.
// - The sliding frame is the closed interval [now - frameSize, now]: a restart exactly frameSize ago
//   still counts. (With an open interval, frame == max * gap, which the cross-check allows, would
//   never reach the limit.)
// - The longer wait is entered by decide() at the moment a restart is needed and the frame is full,
//   never pre-emptively. It lasts secondsBetweenNextFrame from that moment; when it ends a new frame
//   starts at its end and restarts before that no longer count. Its end is computed from the CURRENT
//   policy (start + secondsBetweenNextFrame), so a container re-created with other labels gets the new
//   value; with maxRestartsInFrame now 0 (no limit) the wait ends at once.
// - Recovery ends the streak, lifts a give-up and cancels a wait in progress (a healthy container is
//   not "waiting"), but the restarts already in the sliding frame keep counting: a container that
//   flaps (restart, healthy, unhealthy, restart...) still meets the frame limit.
// - Given up is sticky whatever the policy says later: only recovery or reset lift it (step 1).
//   Give-up triggers when the streak reaches maxChecksToGiveUp (>=, so a lowered limit applies at the
//   next restart).
// - reachedMaxInPreviousFrame is set when a frame starts after a longer wait, and cleared once that new
//   frame has run a whole frameSize (it is then no longer "the frame after the limit").
// - Clock going backwards: every stored moment later than `now` is clamped to `now`, so a wait is
//   never longer than its own duration measured from the present (no wait "forever" after a skew).
// - With maxRestartsInFrame = 0 the restart list is still kept (it is shown on the status page),
//   pruned to the frame and capped at MAX_KEPT_RESTARTS.

/**
 * The five numbers of a container's policy that the budget uses (a whole ContainerPolicy fits). Its
 * own type, so the budget (below config and journal) imports nothing.
 */
export interface BudgetPolicy {
  secondsBetweenRestarts: number;
  frameSizeSec: number;
  /** 0 = no limit. */
  maxRestartsInFrame: number;
  secondsBetweenNextFrame: number;
  /** 0 = never. */
  maxChecksToGiveUp: number;
}

export type BudgetStateName = 'ok' | 'waiting' | 'longer_wait' | 'given_up';

/** The budget as people read it (budgetView): the status page, the HTTP report and `repairman status`. */
export interface BudgetView {
  state: BudgetStateName;
  /** For waiting / longer_wait: when the wait ends (UTC epoch ms). */
  untilMs: number | null;
  restartsInFrame: number;
  reachedMaxInPreviousFrame: boolean;
  /** Restarts in a row without recovery. */
  streak: number;
}

/** Plain JSON; persisted as is by the journal. Treat as immutable. */
export interface BudgetState {
  v: 1;
  /** Start of the current frame after a longer wait: restarts before it no longer count. */
  frameStartMs: number | null;
  /** Restart attempts (successful or failed) still inside the frame, oldest first. */
  restartsMs: number[];
  lastRestartMs: number | null;
  lastRestartOk: boolean | null;
  /** Restarts in a row without recovery. */
  streak: number;
  /** The gap wait in progress (decided and not yet ended by a restart or recovery). */
  waitUntilMs: number | null;
  /** When the longer wait in progress started; it ends secondsBetweenNextFrame later. */
  longerWaitStartedMs: number | null;
  /** The frame limit was reached during this streak (so recovery is notified). */
  limitReachedInStreak: boolean;
  reachedMaxInPreviousFrame: boolean;
  givenUp: boolean;
  givenUpAtMs: number | null;
  /** budget_mode backoff: restarts since the backoff last started over (src/budget/backoff.ts); absent before the first. */
  backoffRestarts?: number;
  /**
   * A restart handed to the engine and not yet seen through (absent otherwise). Saved with the
   * restart it describes, before the engine call, and removed in the same transaction as that
   * restart's journal entries: one left over at start means Repairman stopped or was killed while the
   * engine restarted the container, and becomes the journal entry that was never written (see
   * Healer). The budget functions below carry it along untouched.
   */
  inFlight?: InFlightRestart;
}

/** What the journal needs to say about a restart that Repairman did not live to see end. */
export interface InFlightRestart {
  /** When it was asked of the engine (the moment also recorded in restartsMs). */
  atMs: number;
  /** restart/start; stop/kill for on_unhealthy (docs/behaviour.md §12). */
  verb: 'restart' | 'start' | 'stop' | 'kill';
  /** "unhealthy", "crashed with exit code 3"... */
  reason: string;
  exitCode?: number;
  attempt: number;
  /** The restart was the second or later in a row: "multiple restart failures" goes with it. */
  multipleFailures: boolean;
  /** The restart made the container given up: "Admin, help" goes with it. */
  gaveUp: boolean;
  /** The container's max_historic_entries then (for trimming when the container is gone at start). */
  maxHistoricEntries: number;
}

export type Decision =
  | {
      kind: 'restart';
      /** Second or later restart while the container never recovered: "multiple restart failures". */
      multipleFailures: boolean;
      /** This restart's position in the streak, 1-based (give-up happens at maxChecksToGiveUp). */
      attempt: number;
      /** Restarts already in the frame, before this one. */
      restartsInFrame: number;
      state: BudgetState;
    }
  | {
      kind: 'wait';
      /** gap: seconds_between_restarts (frames); backoff: CrashLoopBackOff's delay (backoff.ts). */
      reason: 'gap' | 'backoff';
      untilMs: number;
      /** True the first time this wait is decided (journal it once). */
      startsNow: boolean;
      state: BudgetState;
    }
  | {
      kind: 'longer_wait';
      untilMs: number;
      /** True when the limit was reached just now: journal and notify "maximum restarts reached". */
      startsNow: boolean;
      /** Restarts in the frame: those that reached the limit when startsNow, those still in it otherwise. */
      restartsInFrame: number;
      state: BudgetState;
    }
  | { kind: 'given_up'; sinceMs: number | null; state: BudgetState };

/** More than this many restart times are never kept (only reachable with maxRestartsInFrame = 0). */
export const MAX_KEPT_RESTARTS = 1000;

export function initialBudget(): BudgetState {
  return {
    v: 1,
    frameStartMs: null,
    restartsMs: [],
    lastRestartMs: null,
    lastRestartOk: null,
    streak: 0,
    waitUntilMs: null,
    longerWaitStartedMs: null,
    limitReachedInStreak: false,
    reachedMaxInPreviousFrame: false,
    givenUp: false,
    givenUpAtMs: null,
  };
}

/** `repairman reset NAME`: a clean slate (no give-up, no waits, no streak, an empty frame). */
export function resetBudget(): BudgetState {
  return initialBudget();
}

// Non-negative finite seconds -> ms; anything else counts as 0 (config validation already rejects it).
function ms(seconds: number): number {
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
}
function count(n: number): number {
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}

function clampTo(t: number | null, limit: number): number | null {
  return t !== null && t > limit ? limit : t;
}

/**
 * Brings a state to `nowMs`: clamps moments the clock has not reached yet (skew), prunes restarts the
 * frame no longer holds, ends the "after the limit" frame once it has run whole. Same object when
 * nothing changed.
 */
function normalize(state: BudgetState, policy: BudgetPolicy, nowMs: number): BudgetState {
  const frameMs = ms(policy.frameSizeSec);
  const gapMs = ms(policy.secondsBetweenRestarts);
  let changed = false;
  const next: BudgetState = { ...state };

  const lastRestartMs = clampTo(state.lastRestartMs, nowMs);
  const longerWaitStartedMs = clampTo(state.longerWaitStartedMs, nowMs);
  let frameStartMs = clampTo(state.frameStartMs, nowMs);
  const givenUpAtMs = clampTo(state.givenUpAtMs, nowMs);
  const waitUntilMs = clampTo(state.waitUntilMs, nowMs + gapMs);
  let reachedMaxInPreviousFrame = state.reachedMaxInPreviousFrame;
  if (frameStartMs !== null && nowMs - frameStartMs >= frameMs) {
    // The frame that began after a longer wait has run whole: the sliding frame covers it entirely.
    frameStartMs = null;
    reachedMaxInPreviousFrame = false;
  }
  const windowStart = Math.max(nowMs - frameMs, frameStartMs ?? -Infinity);
  let restartsMs = state.restartsMs;
  if (restartsMs.some((t) => t > nowMs || t < windowStart) || restartsMs.length > MAX_KEPT_RESTARTS) {
    restartsMs = restartsMs
      .map((t) => Math.min(t, nowMs))
      .filter((t) => t >= windowStart)
      .slice(-MAX_KEPT_RESTARTS);
  }

  const assign = <K extends keyof BudgetState>(key: K, value: BudgetState[K]): void => {
    if (state[key] !== value) {
      next[key] = value;
      changed = true;
    }
  };
  assign('lastRestartMs', lastRestartMs);
  assign('longerWaitStartedMs', longerWaitStartedMs);
  assign('frameStartMs', frameStartMs);
  assign('givenUpAtMs', givenUpAtMs);
  assign('waitUntilMs', waitUntilMs);
  assign('reachedMaxInPreviousFrame', reachedMaxInPreviousFrame);
  assign('restartsMs', restartsMs);
  return changed ? next : state;
}

/** Restarts inside the sliding frame (and inside the current frame after a longer wait). */
function restartsInFrame(state: BudgetState, policy: BudgetPolicy, nowMs: number): number {
  const windowStart = Math.max(nowMs - ms(policy.frameSizeSec), state.frameStartMs ?? -Infinity);
  let n = 0;
  for (const t of state.restartsMs) if (t >= windowStart && t <= nowMs) n++;
  return n;
}

/** When the longer wait in progress ends under this policy, or null when none is in progress. */
function longerWaitUntil(state: BudgetState, policy: BudgetPolicy): number | null {
  if (state.longerWaitStartedMs === null) return null;
  // No limit any more (labels changed): the wait has no reason to go on.
  if (count(policy.maxRestartsInFrame) === 0) return state.longerWaitStartedMs;
  return state.longerWaitStartedMs + ms(policy.secondsBetweenNextFrame);
}

/**
 * The longer wait is over: a new frame starts where it ended and the restarts before it no longer
 * count. "Before" includes a restart at the very moment the wait started (a wait of 0 seconds would
 * otherwise meet its own frame's restarts again and never end).
 */
function endLongerWait(s: BudgetState, policy: BudgetPolicy, untilMs: number, nowMs: number): BudgetState {
  const frameStartMs = Math.min(untilMs, nowMs);
  const startedMs = s.longerWaitStartedMs ?? -Infinity;
  const next: BudgetState = {
    ...s,
    longerWaitStartedMs: null,
    frameStartMs,
    reachedMaxInPreviousFrame: true,
    restartsMs: s.restartsMs.filter((t) => t >= frameStartMs && t > startedMs),
  };
  // A frame that started long ago (decided on late) may already have run whole.
  return normalize(next, policy, nowMs);
}

/**
 * What to do for a container that needs a restart now. Steps 1-4 of docs/behaviour.md §3. May change the state
 * (entering or leaving the longer wait, recording a gap wait): always keep `decision.state`.
 */
export function decide(state: BudgetState, policy: BudgetPolicy, nowMs: number): Decision {
  let s = normalize(state, policy, nowMs);
  const max = count(policy.maxRestartsInFrame);

  // 1. Given up.
  if (s.givenUp) return { kind: 'given_up', sinceMs: s.givenUpAtMs, state: s };

  // 2. The longer wait: in progress, ending, or starting now.
  const until = longerWaitUntil(s, policy);
  if (until !== null) {
    if (nowMs < until) {
      return { kind: 'longer_wait', untilMs: until, startsNow: false, restartsInFrame: restartsInFrame(s, policy, nowMs), state: s };
    }
    s = endLongerWait(s, policy, until, nowMs);
  }
  const inFrame = restartsInFrame(s, policy, nowMs);
  if (max > 0 && inFrame >= max) {
    s = { ...s, longerWaitStartedMs: nowMs, limitReachedInStreak: true, waitUntilMs: null };
    return { kind: 'longer_wait', untilMs: nowMs + ms(policy.secondsBetweenNextFrame), startsNow: true, restartsInFrame: inFrame, state: s };
  }

  // 3. The gap since the last restart.
  const gapMs = ms(policy.secondsBetweenRestarts);
  if (s.lastRestartMs !== null && nowMs < s.lastRestartMs + gapMs) {
    const untilMs = s.lastRestartMs + gapMs;
    const startsNow = s.waitUntilMs !== untilMs;
    if (startsNow) s = { ...s, waitUntilMs: untilMs };
    return { kind: 'wait', reason: 'gap', untilMs, startsNow, state: s };
  }

  // 4. Restart (recordRestart counts it and decides the give-up).
  return { kind: 'restart', multipleFailures: s.streak >= 1, attempt: s.streak + 1, restartsInFrame: inFrame, state: s };
}

/**
 * Counts a restart attempt made at `nowMs`, successful or not (a failed restart counts too: docs/behaviour.md §2.4).
 * `gaveUp` is true when this restart made maxChecksToGiveUp restarts in a row (only on that transition).
 */
export function recordRestart(
  state: BudgetState,
  policy: BudgetPolicy,
  nowMs: number,
  ok: boolean,
): { state: BudgetState; gaveUp: boolean } {
  const s = normalize(state, policy, nowMs);
  const streak = s.streak + 1;
  const giveUpAt = count(policy.maxChecksToGiveUp);
  const gaveUp = !s.givenUp && giveUpAt > 0 && streak >= giveUpAt;
  const next: BudgetState = {
    ...s,
    restartsMs: [...s.restartsMs, nowMs].slice(-MAX_KEPT_RESTARTS),
    lastRestartMs: nowMs,
    lastRestartOk: ok,
    streak,
    waitUntilMs: null,
    givenUp: s.givenUp || gaveUp,
    givenUpAtMs: gaveUp ? nowMs : s.givenUpAtMs,
  };
  return { state: next, gaveUp };
}

/**
 * The container recovered (healthy; or, without a healthcheck, running for a whole frame). Ends the
 * streak, lifts a give-up, cancels waits in progress. `wasLimited`: it had reached the frame limit in
 * this streak or been given up, so "healthy again" is notified. Same object when there was nothing to
 * end (call it on every healthy event freely).
 */
export function recordRecovery(state: BudgetState, _nowMs: number): { state: BudgetState; wasLimited: boolean } {
  const wasLimited = state.givenUp || state.limitReachedInStreak;
  if (state.streak === 0 && !wasLimited && state.waitUntilMs === null && state.longerWaitStartedMs === null) {
    return { state, wasLimited: false };
  }
  return {
    state: {
      ...state,
      streak: 0,
      givenUp: false,
      givenUpAtMs: null,
      limitReachedInStreak: false,
      waitUntilMs: null,
      longerWaitStartedMs: null,
    },
    wasLimited,
  };
}

/** The budget as the status page, the HTTP report and `repairman status` show it. */
export function budgetView(state: BudgetState, policy: BudgetPolicy, nowMs: number): BudgetView {
  const s = normalize(state, policy, nowMs);
  const base = {
    restartsInFrame: restartsInFrame(s, policy, nowMs),
    reachedMaxInPreviousFrame: s.reachedMaxInPreviousFrame,
    streak: s.streak,
  };
  if (s.givenUp) return { state: 'given_up', untilMs: null, ...base };
  const until = longerWaitUntil(s, policy);
  if (until !== null && nowMs < until) return { state: 'longer_wait', untilMs: until, ...base };
  if (until !== null) {
    // Ended but not yet acted on: show the new frame as decide() will record it.
    const ended = endLongerWait(s, policy, until, nowMs);
    return {
      state: 'ok',
      untilMs: null,
      restartsInFrame: restartsInFrame(ended, policy, nowMs),
      reachedMaxInPreviousFrame: ended.reachedMaxInPreviousFrame,
      streak: ended.streak,
    };
  }
  if (s.waitUntilMs !== null && nowMs < s.waitUntilMs) return { state: 'waiting', untilMs: s.waitUntilMs, ...base };
  return { state: 'ok', untilMs: null, ...base };
}

function isMs(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}
function isMsOrNull(v: unknown): v is number | null {
  return v === null || isMs(v);
}

/**
 * A persisted state back from JSON, or null when it is not one (a damaged or foreign row): the caller
 * then starts from initialBudget(). Missing optional fields of older versions get their defaults.
 */
export function parseBudgetState(value: unknown): BudgetState | null {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return null;
  const o = value as Record<string, unknown>;
  if (o.v !== 1) return null;
  if (!Array.isArray(o.restartsMs) || !o.restartsMs.every(isMs)) return null;
  const nullableMs = ['frameStartMs', 'lastRestartMs', 'waitUntilMs', 'longerWaitStartedMs', 'givenUpAtMs'] as const;
  for (const k of nullableMs) if (!isMsOrNull(o[k] ?? null)) return null;
  if (typeof o.streak !== 'number' || !Number.isInteger(o.streak) || o.streak < 0) return null;
  const bool = (k: string): boolean | null => (typeof o[k] === 'boolean' ? (o[k] as boolean) : o[k] === undefined ? false : null);
  const limitReachedInStreak = bool('limitReachedInStreak');
  const reachedMaxInPreviousFrame = bool('reachedMaxInPreviousFrame');
  const givenUp = bool('givenUp');
  if (limitReachedInStreak === null || reachedMaxInPreviousFrame === null || givenUp === null) return null;
  const lastRestartOk = o.lastRestartOk === undefined || o.lastRestartOk === null ? null : o.lastRestartOk;
  if (lastRestartOk !== null && typeof lastRestartOk !== 'boolean') return null;
  // A damaged marker is dropped, never the budget with it (the budget is what prevents early restarts).
  const inFlight = parseInFlight(o.inFlight);
  const backoffRestarts = typeof o.backoffRestarts === 'number' && Number.isSafeInteger(o.backoffRestarts) && o.backoffRestarts >= 0 ? o.backoffRestarts : undefined;
  return {
    v: 1,
    frameStartMs: (o.frameStartMs as number | null | undefined) ?? null,
    restartsMs: [...(o.restartsMs as number[])].sort((a, b) => a - b).slice(-MAX_KEPT_RESTARTS),
    lastRestartMs: (o.lastRestartMs as number | null | undefined) ?? null,
    lastRestartOk,
    streak: o.streak,
    waitUntilMs: (o.waitUntilMs as number | null | undefined) ?? null,
    longerWaitStartedMs: (o.longerWaitStartedMs as number | null | undefined) ?? null,
    limitReachedInStreak,
    reachedMaxInPreviousFrame,
    givenUp,
    givenUpAtMs: (o.givenUpAtMs as number | null | undefined) ?? null,
    ...(backoffRestarts !== undefined ? { backoffRestarts } : {}),
    ...(inFlight ? { inFlight } : {}),
  };
}

function parseInFlight(value: unknown): InFlightRestart | null {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return null;
  const { atMs, verb, reason, exitCode, attempt, multipleFailures, gaveUp, maxHistoricEntries } = value as Record<string, unknown>;
  const whole = (n: unknown, min: number): n is number => typeof n === 'number' && Number.isInteger(n) && n >= min;
  if (!isMs(atMs) || (verb !== 'restart' && verb !== 'start' && verb !== 'stop' && verb !== 'kill') || typeof reason !== 'string') return null;
  if (!whole(attempt, 1) || !whole(maxHistoricEntries, 0)) return null;
  if (typeof multipleFailures !== 'boolean' || typeof gaveUp !== 'boolean') return null;
  const code = exitCode === undefined ? undefined : whole(exitCode, -Infinity) ? exitCode : null;
  if (code === null) return null;
  return {
    atMs,
    verb,
    reason: reason.slice(0, 500),
    ...(code !== undefined ? { exitCode: code } : {}),
    attempt,
    multipleFailures,
    gaveUp,
    maxHistoricEntries,
  };
}

// `repairman explain NAME` (docs/behaviour.md §11): the facts about one container turned into what
// Repairman does about it, why, and what happens next and when. Pure (time and zone passed in): the
// decision is classify()'s, the healer's own rules, so the explanation cannot drift from what it does.
import { budgetViewByMode } from '../../budget/modes.js';
import { DEUNHEALTH_LABEL, fallbackWords } from '../../config/labels.js';
import { LABEL_PREFIX, POLICY_ROWS, type PolicyField } from '../../config/settings-table.js';
import type { ContainerPolicy, LabelProblem } from '../../config/types.js';
import { bareName, classify, COMPOSE_ONEOFF_LABEL, engineHealthAction, engineWillRestart, SWARM_TASK_LABEL, type Classification } from '../../heal/classify.js';
import { printable } from '../../util/printable.js';
import { closest } from '../../util/suggest.js';
import { formatTime, shortDuration } from '../../util/time-format.js';
import type { ExplainFacts, ExplainReason, ExplainSetting, ExplainVerdict, Explanation } from './types.js';

const ENABLE_LABEL = `${LABEL_PREFIX}enable_autoheal`;

/** The settings that decide what happens to a container, in the order people read them. */
const DECIDING_POLICY: readonly PolicyField[] = [
  'enableAutoheal', 'healExited', 'onUnhealthy', 'unhealthyForSec', 'budgetMode', 'secondsBetweenRestarts',
  'frameSizeSec', 'maxRestartsInFrame', 'secondsBetweenNextFrame', 'maxChecksToGiveUp',
];

/** Label text from a container: visible, short, quoted. */
function quoted(raw: string): string {
  const text = printable(raw);
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}

interface Words {
  at(ms: number): string;
  /** "2026-12-03 10:00:15 UTC (in 12s)". */
  when(ms: number): string;
}

function words(nowMs: number, timeZone: string): Words {
  const at = (ms: number): string => formatTime(ms, timeZone);
  return {
    at,
    when: (ms) => `${at(ms)} (${ms >= nowMs ? `in ${shortDuration(ms - nowMs)}` : `${shortDuration(nowMs - ms)} ago`})`,
  };
}

/** Each deciding setting with its value and where it came from (label > switch > environment > default). */
export function decidingSettings(f: ExplainFacts): ExplainSetting[] {
  const out: ExplainSetting[] = [];
  const global = (key: string, value: string): void => {
    const info = f.sources[key] ?? { source: 'default' };
    out.push({ key, value, source: info.source, ...(info.name ? { from: info.name } : {}) });
  };
  global('namespace', f.settings.namespace === '' ? '""' : JSON.stringify(f.settings.namespace));
  if (f.settings.autohealLabel !== '') global('autoheal_label', f.settings.autohealLabel);
  const policy = f.decoded.policy;
  for (const field of DECIDING_POLICY) {
    const row = POLICY_ROWS.find((r) => r.field === field);
    if (!row) continue;
    const value = row.show(policy[field]);
    const compat = f.decoded.compatFrom?.[field];
    const bad = f.decoded.problems.find((p) => p.code === 'RM_LABEL_INVALID' && (p.label === row.label || (compat !== undefined && p.label === compat)));
    if (bad) out.push({ key: row.key, value, source: 'bad label', from: bad.label });
    else if (f.decoded.fromLabels?.includes(field)) out.push({ key: row.key, value, source: 'label', from: row.label });
    else if (compat !== undefined) out.push({ key: row.key, value, source: 'compat label', from: compat });
    else global(row.key, value);
  }
  global('heal_exited_lookback', `${f.settings.healExitedLookbackSec}`);
  return out;
}

/** "enable_autoheal=false (label org.riotkit.repairman.enable_autoheal)". */
export function settingText(s: ExplainSetting): string {
  return `${s.key}=${s.value} (${s.source}${s.from ? ` ${s.from}` : ''})`;
}

/** A label problem as one sentence: which label, what value, what is used instead. */
export function problemSentence(p: LabelProblem): string {
  const what = p.code === 'RM_LABEL_UNKNOWN' ? 'Unknown label' : 'Bad label';
  return `${what} ${p.label}=${JSON.stringify(p.value)}: expected ${p.expected}; ${fallbackWords(p.fallback)}.`;
}

const ACTION_VERB: Record<ContainerPolicy['onUnhealthy'], string> = { restart: 'restarts it', stop: 'stops it', kill: 'kills it', notify: 'only tells (on_unhealthy=notify)' };

interface Verdict {
  verdict: ExplainVerdict;
  reason: ExplainReason;
  sentence: string;
  next: string;
}

/** Why enable_autoheal is false for this container: its own label, a peer's label, a bad label, or opt-in mode. */
function autohealOff(f: ExplainFacts, name: string): Verdict {
  const labels = f.inspect?.Config?.Labels ?? {};
  const compat = f.decoded.compatFrom?.enableAutoheal;
  const bad = f.decoded.problems.find((p) => p.code === 'RM_LABEL_INVALID' && (p.label === ENABLE_LABEL || (compat !== undefined && p.label === compat)));
  const never = 'Nothing, whatever its state, while the label says so.';
  if (bad) {
    return {
      verdict: 'left_alone', reason: 'bad_label',
      sentence: `Left alone: its label ${bad.label}=${JSON.stringify(bad.value)} is not valid (expected ${bad.expected}), so enable_autoheal is false for it: a typo never switches healing on.`,
      next: `Nothing until the label is fixed (see: repairman check-labels ${name}).`,
    };
  }
  if (f.decoded.fromLabels?.includes('enableAutoheal')) {
    return { verdict: 'left_alone', reason: 'opted_out', sentence: `Left alone: its label ${ENABLE_LABEL}=${quoted(labels[ENABLE_LABEL] ?? '')} opts it out.`, next: never };
  }
  if (compat !== undefined) {
    return { verdict: 'left_alone', reason: 'opted_out', sentence: `Left alone: its label ${compat}=${quoted(labels[compat] ?? '')} opts it out (willfarrell/docker-autoheal's rule, any case).`, next: never };
  }
  const info = f.sources.enable_autoheal ?? { source: 'default' };
  const mode = f.settings.autohealLabel;
  const optIn = mode !== '' && mode !== 'all' ? `${mode}=true` : `${ENABLE_LABEL}=true`;
  const alt = mode !== '' && mode !== 'all' ? ` (or ${ENABLE_LABEL}=true, or ${DEUNHEALTH_LABEL}=true)` : ` (or ${DEUNHEALTH_LABEL}=true)`;
  return {
    verdict: 'left_alone', reason: 'not_opted_in',
    sentence: `Left alone: healing is opt-in here (enable_autoheal=false from ${info.source}${info.name ? ` ${info.name}` : ''}) and no label opts it in.`,
    next: `Nothing until it carries the label ${optIn}${alt}.`,
  };
}

/** The static exclusions, in classify()'s order, with their sentences. */
function excluded(f: ExplainFacts, c: Extract<Classification, { kind: 'skip' }>, name: string): Verdict | null {
  const labels = f.inspect?.Config?.Labels ?? {};
  switch (c.reason) {
    case 'outside_namespace':
      return {
        verdict: 'left_alone', reason: 'outside_namespace',
        sentence: `Left alone: its name does not start with the namespace ${JSON.stringify(f.settings.namespace)} (--namespace), so Repairman does not watch it.`,
        next: 'Nothing, while the namespace does not match its name.',
      };
    case 'compose_leftover':
      return {
        verdict: 'left_alone', reason: 'compose_leftover',
        sentence: 'Left alone: its name is a docker-compose leftover (<12 hex>_<name>); starting it would bring back a stale copy.',
        next: 'Duplicate cleaning removes it when enable_cleaning_duplicated_services is true for the real container.',
      };
    case 'swarm_task':
      return {
        verdict: 'left_alone', reason: 'swarm_task',
        sentence: `Left alone: it is a Swarm task (label ${SWARM_TASK_LABEL}=${quoted(labels[SWARM_TASK_LABEL] ?? '')}); Swarm replaces its tasks itself.`,
        next: 'Nothing: Swarm handles it.',
      };
    case 'self':
      return {
        verdict: 'left_alone', reason: 'self',
        sentence: "Left alone: this is Repairman's own container.",
        next: `Nothing, unless a label ${ENABLE_LABEL}=true on it asks for healing.`,
      };
    case 'autoheal_disabled':
      return autohealOff(f, name);
    default:
      return null;
  }
}

function maintenancePause(f: ExplainFacts, name: string, nowMs: number): { untilMs: number | null; all: boolean } | null {
  const found = f.pauses.filter((p) => (p.container === name || p.container === '*') && (p.untilMs === null || p.untilMs > nowMs));
  if (found.length === 0) return null;
  const last = found.reduce((a, b) => (a.untilMs === null ? a : b.untilMs === null ? b : a.untilMs >= b.untilMs ? a : b));
  return { untilMs: last.untilMs, all: last.container === '*' };
}

function crashSentences(f: ExplainFacts, c: Extract<Classification, { kind: 'skip' }>, name: string, w: Words): Verdict | null {
  const st = f.inspect?.State;
  const code = st?.ExitCode ?? 0;
  const untilStarted = 'Nothing until someone starts it; then Repairman watches it again.';
  if (f.ownStop && (c.reason === 'deliberate_exit' || c.reason === 'stopped_by_someone')) {
    const action = f.decoded.policy.onUnhealthy === 'kill' ? 'killed' : 'stopped';
    return {
      verdict: 'left_alone', reason: 'stopped_by_repairman',
      sentence: `Left alone: Repairman ${action} it itself when it turned unhealthy (on_unhealthy=${f.decoded.policy.onUnhealthy}, exit code ${code}); it stays down on purpose.`,
      next: untilStarted,
    };
  }
  switch (c.reason) {
    case 'deliberate_exit': {
      const how = code === 0 ? 'it exited with code 0 (finished, or stopped on purpose)'
        : code === 143 ? 'it was stopped by hand (exit code 143, SIGTERM: docker stop)'
          : code === 130 ? 'it was stopped by hand (exit code 130, SIGINT)'
            : 'it was stopped by hand (exit code 137, SIGKILL without an OOM kill: docker kill)';
      return { verdict: 'left_alone', reason: 'stopped_by_hand', sentence: `Left alone: ${how}; Repairman starts only crashed containers.`, next: untilStarted };
    }
    case 'stopped_by_someone':
      return {
        verdict: 'left_alone', reason: 'stopped_by_hand',
        sentence: `Left alone: it was stopped by hand (Repairman saw a docker stop or kill before it exited with code ${code}); Repairman never starts a container someone stopped.`,
        next: untilStarted,
      };
    case 'engine_restarts_it':
      return {
        verdict: 'left_alone', reason: 'engine_restarts_it',
        sentence: `Left alone: its restart policy ${engineWillRestart(f.inspect!).policy} makes the engine restart it; Repairman does not start it too.`,
        next: 'The engine restarts it.',
      };
    case 'one_off':
      return {
        verdict: 'left_alone', reason: 'one_off',
        sentence: `Left alone: it is a compose one-off (docker compose run, label ${COMPOSE_ONEOFF_LABEL}=${quoted(f.inspect?.Config?.Labels?.[COMPOSE_ONEOFF_LABEL] ?? '')}) and exited with code ${code}; one-offs are never started again.`,
        next: 'Nothing: a one-off runs once.',
      };
    case 'auto_remove':
      return { verdict: 'left_alone', reason: 'auto_remove', sentence: `Left alone: it was started with --rm and exited with code ${code}; the engine removes it.`, next: 'Nothing: the engine removes it.' };
    case 'heal_exited_disabled': {
      const s = decidingSettings(f).find((x) => x.key === 'heal_exited');
      return {
        verdict: 'left_alone', reason: 'heal_exited_disabled',
        sentence: `Left alone: it crashed with exit code ${code}, but heal_exited is false for it (${s ? `${s.source}${s.from ? ` ${s.from}` : ''}` : 'default'}); only unhealthy containers are acted on.`,
        next: untilStarted,
      };
    }
    case 'old_crash': {
      const finished = Date.parse(st?.FinishedAt ?? '');
      const win = f.crashWindow;
      const basis = win.basis === 'watching' ? `Repairman began watching at ${w.at(win.fromMs)}`
        : win.basis === 'last_alive' ? `a Repairman on this journal was last alive at ${w.at(win.fromMs)}`
          : 'now: no Repairman run is recorded';
      return {
        verdict: 'left_alone', reason: 'old_crash',
        sentence: `Left alone: it crashed with exit code ${code} at ${Number.isFinite(finished) ? w.at(finished) : 'an unknown time'}, before the look-back: only crashes since ${w.at(win.sinceMs)} count (heal_exited_lookback=${f.settings.healExitedLookbackSec} s before ${basis}).`,
        next: `${untilStarted.slice(0, -1)}; a host's old crashes are never started just because Repairman was installed.`,
      };
    }
    case 'engine_health_action':
      return {
        verdict: 'left_alone', reason: 'engine_health_action',
        sentence: `Left alone: Podman's --health-on-failure=${engineHealthAction(f.inspect!) ?? '?'} acts on it when it turns unhealthy; Repairman leaves it to Podman.`,
        next: 'Podman acts on it.',
      };
    case 'removing':
      return { verdict: 'left_alone', reason: 'removing', sentence: 'Left alone: the engine is removing it.', next: 'Nothing: it is going away.' };
    case 'dead':
      return { verdict: 'left_alone', reason: 'dead', sentence: 'Left alone: it is dead (the engine could not remove it).', next: 'Nothing: only `docker rm` helps.' };
    case 'restarting':
      return { verdict: 'left_alone', reason: 'restarting', sentence: 'Left alone: the engine is restarting it (its restart policy).', next: 'The engine restarts it; Repairman looks again once it runs or exits.' };
    case 'paused':
      return { verdict: 'left_alone', reason: 'paused', sentence: `Left alone: it is paused (docker pause); Repairman never touches a paused container.`, next: `After docker unpause ${name}, Repairman looks at it again (at once if it is unhealthy).` };
    default:
      return null;
  }
}

/** Explain one container: facts in, the explanation out. */
export function explain(f: ExplainFacts, opts: { nowMs: number; timeZone: string }): Explanation {
  const { nowMs, timeZone } = opts;
  const w = words(nowMs, timeZone);
  const policy = f.decoded.policy;
  const base = {
    asked: f.asked,
    settings: decidingSettings(f),
    labelProblems: f.decoded.problems,
    dependencies: f.dependencies,
    source: f.source,
    atMs: nowMs,
    timeZone,
  };
  if (!f.inspect) {
    const guess = closest(bareName(f.asked), f.knownNames) ?? null;
    return {
      ...base, name: null, id: null, state: null, health: null, watched: false, verdict: 'unknown', reason: 'unknown',
      sentence: `Unknown: no container is named ${quoted(f.asked)}${guess ? ` (did you mean ${guess}?)` : ''}.`,
      next: 'Nothing: Repairman acts only on containers the engine has.',
      action: { onUnhealthy: policy.onUnhealthy, unhealthyForSec: policy.unhealthyForSec, budgetMode: policy.budgetMode, unhealthySinceMs: null, actAfterMs: null },
      budget: null, budgetText: 'none', pause: null, suggestion: guess,
    };
  }
  const info = f.inspect;
  const name = bareName(info.Name);
  const st = info.State;
  const health = st?.Health?.Status ?? null;
  const c = classify(info, policy, {
    namespace: f.settings.namespace,
    isSelf: f.isSelf,
    deliberateStop: f.deliberateStop,
    crashWindow: { sinceMs: f.crashWindow.sinceMs, sawItAlive: f.crashWindow.sawItAlive },
  });
  const stored = f.budget;
  const view = stored === null ? null : budgetViewByMode(stored, policy, nowMs);
  const budget = view === null || stored === null ? null : { ...view, givenUpAtMs: stored.givenUpAtMs, lastRestartMs: stored.lastRestartMs };
  const since = health === 'unhealthy' ? f.unhealthySinceMs : null;
  const actAfterMs = since !== null && policy.unhealthyForSec > 0 && nowMs < since + policy.unhealthyForSec * 1000 ? since + policy.unhealthyForSec * 1000 : null;
  const pause = maintenancePause(f, name, nowMs);
  const fixed = c.kind === 'skip' ? excluded(f, c, name) : null;
  const v: Verdict = fixed
    ?? (st?.Status === 'paused' || st?.Paused ? crashSentences(f, { kind: 'skip', reason: 'paused', detail: 'paused' }, name, w) : null)
    ?? (pause ? pauseVerdict(pause, name, w) : null)
    ?? (c.kind === 'skip' ? crashSentences(f, c, name, w) : null)
    ?? (c.kind === 'unhealthy' || c.kind === 'crashed' ? troubleVerdict(f, c, budget, actAfterMs, since, w) : null)
    ?? calmVerdict(f, st?.Status ?? 'unknown', health);
  return {
    ...base,
    name,
    id: info.Id,
    state: st?.Status ?? null,
    health,
    watched: fixed === null,
    ...v,
    action: { onUnhealthy: policy.onUnhealthy, unhealthyForSec: policy.unhealthyForSec, budgetMode: policy.budgetMode, unhealthySinceMs: since, actAfterMs },
    budget,
    budgetText: budgetText(budget, policy, f, w),
    pause,
    suggestion: null,
  };
}

function pauseVerdict(pause: { untilMs: number | null; all: boolean }, name: string, w: Words): Verdict {
  const who = pause.all ? 'every container is paused for maintenance (repairman pause without a NAME)' : 'paused for maintenance (repairman pause)';
  const until = pause.untilMs === null ? 'until resumed' : `until ${w.when(pause.untilMs)}`;
  return {
    verdict: 'left_alone', reason: 'maintenance',
    sentence: `Left alone: ${who} ${until}.`,
    next: `No action on it ${pause.untilMs === null ? 'until' : `until ${w.at(pause.untilMs)} or`} repairman resume${pause.all ? '' : ` ${name}`}; then Repairman looks at it again.`,
  };
}

function troubleVerdict(
  f: ExplainFacts,
  c: Extract<Classification, { kind: 'unhealthy' | 'crashed' }>,
  budget: Explanation['budget'],
  actAfterMs: number | null,
  since: number | null,
  w: Words,
): Verdict {
  const policy = f.decoded.policy;
  const what = c.kind === 'unhealthy' ? 'it is unhealthy' : `it crashed with exit code ${c.exitCode}${c.oomKilled ? ' (OOM killed)' : ''}`;
  const act = c.kind === 'crashed' ? 'starts it' : ACTION_VERB[policy.onUnhealthy];
  const still = c.kind === 'crashed' ? 'still exited' : 'still unhealthy';
  if (budget?.state === 'given_up') {
    return {
      verdict: 'left_alone', reason: 'given_up',
      sentence: `Left alone: Repairman gave up${budget.givenUpAtMs !== null ? ` at ${w.at(budget.givenUpAtMs)}` : ''} after ${budget.streak} restarts in a row without recovery (max_checks_to_give_up=${policy.maxChecksToGiveUp}).`,
      next: `Nothing until it recovers (healthy, or running for a whole frame) or someone runs: repairman reset ${bareName(f.inspect!.Name)}`,
    };
  }
  if (budget?.state === 'longer_wait' && budget.untilMs !== null) {
    return {
      verdict: 'waits', reason: 'longer_wait',
      sentence: `Waiting: ${what}, and the frame's limit was reached (max_restarts_in_frame=${policy.maxRestartsInFrame} in ${policy.frameSizeSec} s); the longer wait (seconds_between_next_frame=${policy.secondsBetweenNextFrame} s) ends at ${w.when(budget.untilMs)}.`,
      next: `At ${w.at(budget.untilMs)} Repairman ${act} if it is ${still}, in a new frame.`,
    };
  }
  if (budget?.state === 'waiting' && budget.untilMs !== null) {
    const rule = policy.budgetMode === 'backoff' ? 'the back-off delay (budget_mode=backoff)' : `seconds_between_restarts=${policy.secondsBetweenRestarts} s`;
    return {
      verdict: 'waits', reason: 'waiting',
      sentence: `Waiting: ${what}; ${rule} after the last restart${budget.lastRestartMs !== null ? ` at ${w.at(budget.lastRestartMs)}` : ''} keeps the next one until ${w.when(budget.untilMs)}.`,
      next: `At ${w.at(budget.untilMs)} Repairman ${act} if it is ${still}.`,
    };
  }
  if (c.kind === 'unhealthy' && actAfterMs !== null && since !== null) {
    return {
      verdict: 'waits', reason: 'unhealthy_for',
      sentence: `Waiting: it has been unhealthy since ${w.at(since)}; unhealthy_for=${policy.unhealthyForSec} s holds any action until ${w.when(actAfterMs)}.`,
      next: `At ${w.at(actAfterMs)} Repairman ${act} unless it has recovered.`,
    };
  }
  const dry = f.settings.dryRun ? ' (dry run: it only says so)' : '';
  return {
    verdict: 'acts', reason: 'acts',
    sentence: `Acting: ${what}, and Repairman ${act}${dry}${c.kind === 'unhealthy' && policy.unhealthyForSec > 0 ? ` (unhealthy_for=${policy.unhealthyForSec} s is over)` : ''}.`,
    next: f.source.kind === 'instance' ? `Repairman ${act} now, under its restart budget.` : `A running Repairman ${act} at once, under its restart budget.`,
  };
}

function calmVerdict(f: ExplainFacts, state: string, health: string | null): Verdict {
  const policy = f.decoded.policy;
  const onCrash = policy.healExited ? 'if it crashes (a non-zero exit code, not stopped by someone), Repairman starts it (heal_exited=true)' : 'a crash is not acted on (heal_exited=false)';
  if (state === 'running' && health === null) {
    return {
      verdict: 'nothing_to_do', reason: 'no_healthcheck',
      sentence: 'Watched, nothing to do: it is running and has no health check, so only a crash can show trouble.',
      next: `${onCrash[0]!.toUpperCase()}${onCrash.slice(1)}.`,
    };
  }
  if (state === 'running') {
    const delay = policy.unhealthyForSec > 0 ? ` once it has been unhealthy for ${policy.unhealthyForSec} s` : ' at once';
    return {
      verdict: 'nothing_to_do', reason: health === 'starting' ? 'starting' : 'healthy',
      sentence: health === 'starting' ? 'Watched, nothing to do yet: its health check is still starting.' : `Watched, nothing to do: it is running and ${health}.`,
      next: `If it turns unhealthy, Repairman ${ACTION_VERB[policy.onUnhealthy]}${policy.onUnhealthy === 'notify' ? '' : delay}; ${onCrash}.`,
    };
  }
  return {
    verdict: 'nothing_to_do', reason: 'not_running',
    sentence: `Watched, nothing to do: it is ${state}; Repairman acts only on unhealthy or crashed containers.`,
    next: 'Nothing until it runs.',
  };
}

function budgetText(budget: Explanation['budget'], policy: ContainerPolicy, f: ExplainFacts, w: Words): string {
  if (budget === null) {
    return f.settings.dbPath === ':memory:' || f.settings.dbPath === ''
      ? 'unknown: the journal is in memory (--db-path :memory:), only the running instance knows it'
      : `unknown: ${f.settings.dbPath} could not be read`;
  }
  const limit = policy.budgetMode === 'backoff' ? 'budget_mode=backoff' : `${budget.restartsInFrame} of ${policy.maxRestartsInFrame === 0 ? 'unlimited' : policy.maxRestartsInFrame} restarts in the ${policy.frameSizeSec} s frame${budget.reachedMaxInPreviousFrame ? ' (the limit was reached in the previous frame)' : ''}`;
  const streak = `${budget.streak} in a row without recovery (gives up at ${policy.maxChecksToGiveUp === 0 ? 'never' : policy.maxChecksToGiveUp})`;
  const head = budget.state === 'given_up' ? `given up${budget.givenUpAtMs !== null ? ` at ${w.at(budget.givenUpAtMs)}` : ''}`
    : budget.state === 'longer_wait' ? `longer wait until ${w.when(budget.untilMs ?? 0)}`
      : budget.state === 'waiting' ? `waiting until ${w.when(budget.untilMs ?? 0)}`
        : 'ok';
  return `${head}; ${limit}; ${streak}`;
}

// What to journal and whom to notify after a healing decision or its result, as one pure function:
// given the container (its name and policy), what happened, the host and the time, it returns the
// journal entries to append and the notifications to send. No I/O: the healer applies the result
// (reporter.ts), so every message is decided, and tested, here (outcomes.test.ts).
import { fallbackWords } from '../config/labels.js';
import type { ContainerPolicy, LabelProblem } from '../config/types.js';
import type { BudgetState, InFlightRestart } from '../budget/budget.js';
import type { JournalEntryInput, JournalKind } from '../journal/types.js';
import { severityOf, shouldSend } from '../notify/levels.js';
import type { NotifyEvent } from '../notify/types.js';
import { maskUrlsInText } from '../util/mask.js';
import { formatTime } from '../util/time-format.js';
import { formatDuration } from './messages.js';

/** The container an outcome is about (a TrackedContainer fits). */
export interface OutcomeSubject {
  name: string;
  policy: ContainerPolicy;
}

/** Where and when: the host shown in notifications, the zone for times people read, now (UTC ms). */
export interface OutcomeContext {
  host: string;
  timeZone?: string;
  nowMs: number;
}

/** Which wait a container removed (or renamed) during a wait was in (see goneWait). */
export type GoneWait = 'longer' | 'gap' | 'retry';

/** Everything the healer decides or finds out that is journaled or notified. */
export type HealOutcome =
  /** A label with a bad value or an unknown label (reported once per container and value). */
  | { kind: 'label_problem'; problem: LabelProblem }
  /** decide() -> wait, the first time this wait was decided. */
  | { kind: 'wait'; reason: string; untilMs: number }
  /** decide() -> longer_wait, the moment the frame limit was reached. */
  | { kind: 'longer_wait'; reason: string; untilMs: number; restartsInFrame: number; healthOutput?: string }
  /** decide() -> restart, and what the engine call (or the dry run) did. */
  | {
      kind: 'restart';
      verb: ActionVerb;
      reason: string;
      exitCode?: number;
      attempt: number;
      multipleFailures: boolean;
      dryRun: boolean;
      /** null: it succeeded; otherwise the failure's message (URLs are masked here) and code. */
      failure: { message: string; code?: string } | null;
      /** The restart made the streak reach the give-up limit. */
      gaveUp: boolean;
      streak: number;
      healthOutput?: string;
    }
  /** The engine (a socket proxy) refused the action with 403: not counted, journaled once until one goes through. */
  | { kind: 'refused'; verb: ActionVerb; reason: string; call: string; message: string }
  /** A restart whose end Repairman did not handle as usual, from its marker (BudgetState.inFlight). */
  | { kind: 'interrupted_restart'; marker: InFlightRestart; how: 'done' | 'stopped' | 'killed'; notify: boolean }
  /** Healthy again, or ran a whole frame without a healthcheck. */
  | { kind: 'recovered'; how: 'healthy' | 'ran_whole_frame'; wasLimited: boolean; streak: number; wasGivenUp: boolean }
  /** on_unhealthy notify: unhealthy, only told (once per unhealthy spell). */
  | { kind: 'unhealthy_notice'; reason: string; sinceMs: number | null; dryRun: boolean; healthOutput?: string }
  /** Not acted on yet: unhealthy_for not reached (until then), or a maintenance pause (until its end, null = until resumed). */
  | { kind: 'held'; why: 'unhealthy_for' | 'paused'; reason: string; untilMs: number | null; allPaused?: boolean }
  /** Unhealthy, and the engine acts on it itself (Podman's --health-on-failure=action): journaled once per spell. */
  | { kind: 'left_to_engine'; action: string; reason: string }
  /** The post-action command's end. */
  | { kind: 'post_action'; action: string; result: 'ok' | 'failed' | 'timeout'; exitCode: number | null; signal: string | null; ms: number; lastLines: string[]; error?: string }
  /** A running instance learnt of `repairman pause` or `resume` (the command journaled it): notified only. */
  | { kind: 'maintenance'; what: 'pause' | 'resume'; untilMs: number | null; all: boolean }
  /** Removed (or renamed, then renamedTo) while a wait before its next restart was in progress. */
  | { kind: 'gone'; wait: GoneWait; untilMs: number | null; renamedTo?: string }
  /** A dependent restarted, started or recreated because its provider was (docs/behaviour.md §10). */
  | {
      kind: 'dependent';
      action: 'restart' | 'start' | 'recreate';
      /** "vpn restarted", "vpn recreated". */
      reason: string;
      provider: string;
      attempt: number;
      dryRun: boolean;
      failure: { message: string; code?: string } | null;
      /** A failed recreate: whether the old container was put back under its name (and started). */
      putBack?: 'started' | 'not_started' | 'failed';
      gaveUp: boolean;
      streak: number;
    };

export type OutcomeKind = HealOutcome['kind'];

/** What an action did to a container: restart (unhealthy), start (crashed), stop or kill (on_unhealthy). */
export type ActionVerb = 'restart' | 'start' | 'stop' | 'kill';
const DONE: Record<ActionVerb, string> = { restart: 'Restarted', start: 'Started', stop: 'Stopped', kill: 'Killed' };
const NOUN: Record<ActionVerb, string> = { restart: 'Restart', start: 'Start', stop: 'Stop', kill: 'Kill' };
const PASSIVE: Record<ActionVerb, string> = { restart: 'restarted', start: 'started', stop: 'stopped', kill: 'killed' };
/** The journal kind of a successful action. */
export const ACTION_KIND: Record<ActionVerb, JournalKind> = { restart: 'restart', start: 'restart', stop: 'stopped', kill: 'killed' };

export interface PlannedNotification {
  event: NotifyEvent;
  /** The container's last log lines belong in it (fetched by the healer). */
  withLogs: boolean;
}

export interface OutcomeRecord {
  /** To append in this order (for a restart: in one transaction with its budget). */
  entries: JournalEntryInput[];
  /** Only those the container's notify level and URLs let through, in sending order. */
  notifications: PlannedNotification[];
}

type NotifyFields = Pick<NotifyEvent, 'summary'> & Partial<Pick<NotifyEvent, 'reason' | 'next' | 'healthOutput' | 'dedupeKey' | 'atMs'>>;

/** Whether a notification of this kind would be sent for this container. */
export function wouldNotify(subject: OutcomeSubject, kind: JournalKind): boolean {
  return subject.policy.notifyUrls.length > 0 && shouldSend(severityOf(kind), subject.policy.notifyLevel);
}

/** The journal entries and notifications of one outcome. Pure. */
export function outcomeRecord(subject: OutcomeSubject, outcome: HealOutcome, ctx: OutcomeContext): OutcomeRecord {
  const name = subject.name;
  const entries: JournalEntryInput[] = [];
  const notifications: PlannedNotification[] = [];
  const journal = (kind: JournalKind, message: string, details: Record<string, unknown>, atMs = ctx.nowMs): void => {
    entries.push({ container: name, kind, atMs, message, details });
  };
  // Fields are built only for notifications that are sent: formatting a time is often an instance's
  // first use of Intl, which maps ICU's data into RSS (BENCHMARKS.md, "Figures behind the code").
  const notify = (kind: JournalKind, fields: () => NotifyFields, withLogs: boolean): void => {
    if (!wouldNotify(subject, kind)) return;
    const event: NotifyEvent = {
      kind,
      severity: severityOf(kind),
      container: name,
      host: ctx.host,
      atMs: ctx.nowMs,
      urls: subject.policy.notifyUrls,
      level: subject.policy.notifyLevel,
      ...fields(),
    };
    notifications.push({ event, withLogs });
  };
  const frame = (): string => formatDuration(subject.policy.frameSizeSec * 1000);
  const giveUpNext = `nothing until it is healthy again or someone runs \`repairman reset ${name}\``;

  switch (outcome.kind) {
    case 'label_problem': {
      const p = outcome.problem;
      const what = p.code === 'RM_LABEL_UNKNOWN' ? 'unknown label' : 'invalid label';
      const message = `${what} ${p.label}=${JSON.stringify(p.value)}: expected ${p.expected}; ${fallbackWords(p.fallback)}`;
      journal('config_error', message, { label: p.label, value: p.value, code: p.code });
      notify('config_error', () => ({ summary: `Configuration error on ${name}: ${message}`, reason: `${what} (${p.code})`, dedupeKey: p.label }), false);
      break;
    }
    case 'wait': {
      const when = formatTime(outcome.untilMs, ctx.timeZone);
      journal('wait', `Waiting until ${when} before restarting again (${outcome.reason})`, { reason: outcome.reason, untilMs: outcome.untilMs });
      break;
    }
    case 'longer_wait': {
      const { reason, untilMs, restartsInFrame } = outcome;
      const when = formatTime(untilMs, ctx.timeZone);
      journal('longer_wait', `Maximum restarts reached (${restartsInFrame} in ${frame()}): waiting until ${when}`, { reason, untilMs, restartsInFrame });
      notify('longer_wait', () => ({
        summary: `${name} reached its maximum of ${subject.policy.maxRestartsInFrame} restarts in ${frame()}; waiting longer`,
        reason,
        next: `next restart not before ${when}`,
        healthOutput: outcome.healthOutput,
      }), true);
      break;
    }
    case 'restart':
      restartRecord(subject, outcome, ctx, journal, notify, giveUpNext);
      break;
    case 'refused':
      // Notified once per call kind for all containers (the app, src/docker/refusals.ts), not here.
      journal('refused', `${NOUN[outcome.verb]} (${outcome.reason}) refused by the engine: ${maskUrlsInText(outcome.message)}; not counted against the restart budget, tried again at the next re-check`, { reason: outcome.reason, call: outcome.call });
      break;
    case 'interrupted_restart': {
      const marker = outcome.marker;
      const how = outcome.how;
      const Verb = NOUN[marker.verb];
      const message =
        how === 'done'
          ? `${DONE[marker.verb]} (${marker.reason}), as Repairman stopped`
          : how === 'stopped'
            ? `${Verb} requested (${marker.reason}) and handed to the engine when Repairman stopped; the engine finishes it`
            : `${Verb} requested (${marker.reason}) before Repairman was stopped or killed; left to the engine to finish`;
      const base = { reason: marker.reason, attempt: marker.attempt };
      if (marker.multipleFailures) journal('multiple_failures', multipleFailuresMessage(marker.attempt, marker.reason), base, marker.atMs);
      journal(ACTION_KIND[marker.verb], message, { ...base, exitCode: marker.exitCode, interrupted: how === 'done' ? undefined : how, requestedAtMs: marker.atMs }, marker.atMs);
      if (marker.gaveUp) journal('give_up', giveUpMessage(marker.attempt), { reason: marker.reason, streak: marker.attempt }, marker.atMs);
      if (!outcome.notify) break;
      const next = marker.gaveUp ? 'no more restarts: given up' : 'watching it again';
      if (marker.multipleFailures) {
        notify('multiple_failures', () => ({ summary: `${name} keeps failing: restart ${marker.attempt} in a row without recovery`, reason: marker.reason, next, atMs: marker.atMs }), false);
      }
      notify(ACTION_KIND[marker.verb], () => ({
        summary: `${name}: ${Verb.toLowerCase()} requested at ${formatTime(marker.atMs, ctx.timeZone)}, before Repairman stopped; left to the engine to finish`,
        reason: marker.reason,
        next,
        atMs: marker.atMs,
      }), false);
      if (marker.gaveUp) notify('give_up', () => ({ summary: `${name}: ${giveUpMessage(marker.attempt)}`, reason: marker.reason, next: giveUpNext, atMs: marker.atMs }), false);
      break;
    }
    case 'recovered': {
      const { how, wasLimited, streak } = outcome;
      const why = how === 'healthy' ? 'healthy again' : `running for a whole frame (${frame()})`;
      journal('recovered', `Recovered: ${why}`, { how, wasLimited, streak });
      if (wasLimited) {
        notify('recovered', () => ({
          summary: `${name} is healthy again`,
          reason: why,
          next: outcome.wasGivenUp ? 'watching it again (it had been given up)' : 'watching it as usual; its restart budget is restored',
        }), false);
      }
      break;
    }
    case 'dependent':
      dependentRecord(subject, outcome, journal, notify, giveUpNext);
      break;
    case 'unhealthy_notice': {
      const { reason, sinceMs, dryRun, healthOutput } = outcome;
      const since = sinceMs === null ? '' : ` since ${formatTime(sinceMs, ctx.timeZone)}`;
      journal('unhealthy', `${dryRun ? 'Dry run: ' : ''}Unhealthy${since} (${reason}); on_unhealthy=notify: left as it is`, { reason, sinceMs, dryRun });
      notify('unhealthy', () => ({ summary: `${name} is unhealthy${since}`, reason, next: 'nothing: on_unhealthy is notify, the container is left as it is', healthOutput }), true);
      break;
    }
    case 'held': {
      // Journaled once per spell or pause, never notified at INFO (debug).
      const { why, reason, untilMs } = outcome;
      const when = untilMs === null ? 'until someone runs `repairman resume`' : `until ${formatTime(untilMs, ctx.timeZone)}`;
      const message =
        why === 'unhealthy_for'
          ? `Unhealthy (${reason}); unhealthy_for is ${formatDuration(subject.policy.unhealthyForSec * 1000)}: acting ${when} unless it recovers`
          : `Not acting (${reason}): ${outcome.allPaused ? 'every container is' : 'it is'} paused for maintenance ${when}`;
      journal('held', message, { why, reason, untilMs });
      break;
    }
    case 'left_to_engine': {
      const { action, reason } = outcome;
      journal('left_to_engine', `Unhealthy (${reason}); left to Podman: its --health-on-failure=${action} acts on it, Repairman does not`, { reason, action, skip: 'engine_health_action' });
      break;
    }
    case 'post_action': {
      const { action, result, exitCode, signal, ms, lastLines, error } = outcome;
      const how =
        result === 'timeout'
          ? `killed at its time limit after ${formatDuration(ms)}`
          : error !== undefined
            ? `could not run: ${maskUrlsInText(error)}`
            : signal !== null
              ? `ended by ${signal} after ${formatDuration(ms)}`
              : `exited with code ${exitCode} after ${formatDuration(ms)}`;
      const output = lastLines.map((l) => maskUrlsInText(l));
      const kind: JournalKind = result === 'ok' ? 'post_action' : 'post_action_failed';
      journal(kind, `Post-action command (after ${action}) ${how}${output.length ? `; last output: ${output.join(' | ')}` : ''}`, { action, result, exitCode, signal, ms, lastLines: output });
      notify(kind, () => ({ summary: `${name}: the post-action command (after ${action}) ${how}`, reason: `post_action_command ${result}`, ...(output.length ? { healthOutput: output.join('\n') } : {}) }), false);
      break;
    }
    case 'maintenance': {
      const { what, untilMs, all } = outcome;
      const who = all ? 'every container' : name;
      const summary =
        what === 'pause'
          ? `${who}: paused for maintenance ${untilMs === null ? 'until `repairman resume`' : `until ${formatTime(untilMs, ctx.timeZone)}`}; Repairman takes no action meanwhile`
          : `${who}: maintenance over; Repairman acts again`;
      // A pause whose time is up was ended by no command: the instance journals it.
      if (what === 'resume' && untilMs !== null) journal('resume', `Maintenance pause of ${who} over (it ran until ${formatTime(untilMs, ctx.timeZone)})`, { untilMs, all });
      notify(what, () => ({ summary, reason: what === 'pause' ? '`repairman pause`' : untilMs === null ? '`repairman resume`' : 'the pause is over' }), false);
      break;
    }
    case 'gone': {
      // Journaled, never notified (like the wait itself).
      const { wait, untilMs, renamedTo } = outcome;
      const what = wait === 'longer' ? 'its longer wait' : wait === 'gap' ? 'the wait before its next restart' : 'the wait before its next try';
      const when = untilMs === null ? '' : ` (until ${formatTime(untilMs, ctx.timeZone)})`;
      if (renamedTo !== undefined) {
        journal('gone', `Renamed to ${renamedTo} during ${what}${when}: nothing left to restart under this name; the new name has a budget of its own`, { wait, untilMs, renamedTo });
      } else {
        journal('gone', `Removed during ${what}${when}: nothing left to restart`, { wait, untilMs });
      }
      break;
    }
  }
  return { entries, notifications };
}

function restartRecord(
  subject: OutcomeSubject,
  restart: Extract<HealOutcome, { kind: 'restart' }>,
  ctx: OutcomeContext,
  journal: (kind: JournalKind, message: string, details: Record<string, unknown>) => void,
  notify: (kind: JournalKind, fields: () => NotifyFields, withLogs: boolean) => void,
  giveUpNext: string,
): void {
  const name = subject.name;
  const { verb, reason, attempt, dryRun, gaveUp, healthOutput } = restart;
  const ok = restart.failure === null;
  const error = restart.failure === null ? '' : maskUrlsInText(restart.failure.message);
  // Only notifications say when the next restart may come.
  const nextGap = (): string => formatTime(ctx.nowMs + subject.policy.secondsBetweenRestarts * 1000, ctx.timeZone);
  if (restart.multipleFailures) journal('multiple_failures', multipleFailuresMessage(attempt, reason), { reason, attempt });
  const stays = verb === 'stop' || verb === 'kill';
  if (ok) {
    const message = dryRun ? `Dry run: would have ${PASSIVE[verb]} it (${reason})` : `${DONE[verb]} (${reason})${stays ? `; on_unhealthy=${verb}: it stays down until someone starts it` : ''}`;
    journal(ACTION_KIND[verb], message, { reason, exitCode: restart.exitCode, attempt, dryRun, ...(stays ? { action: verb } : {}) });
  } else {
    journal('restart_failed', `${NOUN[verb]} failed (${reason}): ${error}`, { reason, error, code: restart.failure?.code, ...(stays ? { action: verb } : {}) });
  }
  if (gaveUp) journal('give_up', giveUpMessage(restart.streak), { reason, streak: restart.streak });

  if (restart.multipleFailures) {
    notify('multiple_failures', () => ({
      summary: `${name} keeps failing: restart ${attempt} in a row without recovery`,
      reason,
      next: gaveUp ? 'no more restarts: given up' : `restarted again${dryRun ? ' (dry run)' : ''}; the next restart, if needed, not before ${nextGap()}`,
      healthOutput,
    }), true);
  }
  if (ok) {
    notify(ACTION_KIND[verb], () => ({
      summary: dryRun ? `Dry run: ${name} would have been ${PASSIVE[verb]}` : `${name} was ${verb === 'start' ? 'started again' : PASSIVE[verb]}`,
      reason,
      next: gaveUp
        ? 'no more restarts: given up'
        : stays
          ? `it stays down (on_unhealthy=${verb}) until someone starts it`
          : `watching it; the next restart, if needed, not before ${nextGap()}`,
      healthOutput,
    }), true);
  } else {
    notify('restart_failed', () => ({
      summary: `${name} could not be ${PASSIVE[verb]}: ${error}`,
      reason,
      next: gaveUp ? 'no more restarts: given up' : `another try not before ${nextGap()}`,
      healthOutput,
    }), true);
  }
  if (gaveUp) notify('give_up', () => ({ summary: `${name}: ${giveUpMessage(restart.streak)}`, reason, next: giveUpNext, healthOutput }), true);
}

const DEPENDENT_DONE = { restart: 'Restarted', start: 'Started', recreate: 'Recreated' } as const;
const DEPENDENT_VERB = { restart: 'restart', start: 'start', recreate: 'recreate' } as const;
const PUT_BACK_TEXT = {
  started: 'the old container is back under its name and running',
  not_started: 'the old container is back under its name but did not start',
  failed: 'the old container could not be put back: see the log',
} as const;

function dependentRecord(
  subject: OutcomeSubject,
  d: Extract<HealOutcome, { kind: 'dependent' }>,
  journal: (kind: JournalKind, message: string, details: Record<string, unknown>) => void,
  notify: (kind: JournalKind, fields: () => NotifyFields, withLogs: boolean) => void,
  giveUpNext: string,
): void {
  const name = subject.name;
  const { action, reason, provider, attempt, dryRun, gaveUp } = d;
  const details = { reason, provider, action, attempt, dryRun };
  if (d.failure === null) {
    const message = dryRun ? `Dry run: would have ${action === 'recreate' ? 'recreated' : `${action}ed`} it as a dependent (${reason})` : `${DEPENDENT_DONE[action]} as a dependent (${reason})`;
    journal('restart', message, details);
    notify('restart', () => ({
      summary: dryRun ? `Dry run: ${name} would have been ${action === 'recreate' ? 'recreated' : `${action}ed`} after ${provider}` : `${name} was ${action === 'recreate' ? 'recreated' : `${action}ed`} after ${provider}`,
      reason,
      next: gaveUp ? 'no more restarts: given up' : 'watching it',
    }), false);
  } else {
    const error = maskUrlsInText(d.failure.message);
    const back = d.putBack ? `; ${PUT_BACK_TEXT[d.putBack]}` : '';
    journal('restart_failed', `Could not ${DEPENDENT_VERB[action]} it as a dependent (${reason}): ${error}${back}`, { ...details, error, code: d.failure.code, putBack: d.putBack });
    notify('restart_failed', () => ({ summary: `${name} could not be ${action === 'recreate' ? 'recreated' : `${action}ed`} after ${provider}: ${error}${back}`, reason, next: 'watching it' }), true);
  }
  if (gaveUp) {
    journal('give_up', giveUpMessage(d.streak), { reason, streak: d.streak });
    notify('give_up', () => ({ summary: `${name}: ${giveUpMessage(d.streak)}`, reason, next: giveUpNext }), false);
  }
}

/**
 * Which wait a container removed during a wait was in, and until when: the pending timer's end when
 * there is one, else the budget's.
 */
export function goneWait(budget: BudgetState | undefined, policy: Pick<ContainerPolicy, 'secondsBetweenNextFrame'>, wakeUntilMs: number | null): { wait: GoneWait; untilMs: number | null } {
  const wait: GoneWait = budget?.longerWaitStartedMs != null ? 'longer' : budget?.waitUntilMs != null ? 'gap' : 'retry';
  const untilMs =
    wakeUntilMs ??
    (wait === 'longer' ? budget!.longerWaitStartedMs! + policy.secondsBetweenNextFrame * 1000 : wait === 'gap' ? budget!.waitUntilMs : null);
  return { wait, untilMs };
}

export function multipleFailuresMessage(attempt: number, reason: string): string {
  return `Multiple restart failures: restart ${attempt} in a row without recovery (${reason})`;
}

export function giveUpMessage(streak: number): string {
  return `Admin, help: not touching this container any more (${streak} restarts in a row without recovery)`;
}

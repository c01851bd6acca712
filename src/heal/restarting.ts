// Deciding and acting on a container that needs a restart (unhealthy) or a start (crashed): the budget
// decides (wait, longer wait, given up, or restart); a restart waits for a free slot (Limiter), looks
// again when that took a while, counts and persists the restart with a marker BEFORE the engine call
// (so a kill mid-call loses nothing), then journals, counts and notifies the result.
import type { BudgetState, Decision, InFlightRestart } from '../budget/budget.js';
import { decideByMode, recordRestartByMode } from '../budget/modes.js';
import type { ContainerInspect } from '../docker/types.js';
import { errorMessage, isRepairmanError, type RepairmanError } from '../errors.js';
import { maskUrlsInText } from '../util/mask.js';
import type { BudgetBook } from './budget-book.js';
import { describeCandidate, type Classification } from './classify.js';
import { errorCode, inspectContainer, type HealContext, type Trigger } from './context.js';
import { withoutInFlight, type InterruptedRestarts } from './interrupted-restarts.js';
import { lastHealthOutput } from './messages.js';
import { wouldNotify, type ActionVerb } from './outcomes.js';
import type { ActionHolds } from './holds.js';
import type { PostActionRunner } from './post-action.js';
import type { Recovery } from './recovery.js';
import type { OutcomeReporter } from './reporter.js';
import { runPostRestartScript } from './post-restart-script.js';
import type { HealTimers } from './timers.js';
import type { ContainerTracker, TrackedContainer } from './tracking.js';

/** A container that needs a restart or a start. */
export type Candidate = Extract<Classification, { kind: 'unhealthy' | 'crashed' }>;

/** An inspect older than this when a restart slot frees up is repeated (the container may have changed). */
const FRESH_INSPECT_MS = 250;
/** Never look again sooner than this after a dry run or a failed restart (no hot loop with a 0 s gap). */
const MIN_RELOOK_MS = 1_000;
const DOING: Record<ActionVerb, string> = { restart: 'restarting', start: 'starting', stop: 'stopping', kill: 'killing' };
const DONE: Record<ActionVerb, string> = { restart: 'restarted', start: 'started', stop: 'stopped', kill: 'killed' };

/** What a candidate gets: a crashed container a start, an unhealthy one its on_unhealthy (notify is not an engine call). */
export function actionVerbOf(candidate: Candidate, onUnhealthy: TrackedContainer['policy']['onUnhealthy']): ActionVerb {
  if (candidate.kind === 'crashed') return 'start';
  return onUnhealthy === 'stop' || onUnhealthy === 'kill' ? onUnhealthy : 'restart';
}

export class Restarter {
  /** Containers Repairman is restarting right now: their kill/die events are its own doing. */
  private readonly actingOnNames = new Set<string>();
  /**
   * The same, by container id: a container renamed while Repairman restarts it must not be restarted
   * again under its new name (the serializer and actingOnNames are keyed by name).
   */
  private readonly actingOnIds = new Set<string>();
  /** on_unhealthy notify: the unhealthy spell (its start) last told of, by name (told once per spell). */
  private readonly toldSpells = new Map<string, number | null>();
  /** The call refused (403) at the container's last attempt, by name: journaled once, until one goes through. */
  private readonly refusedCalls = new Map<string, string>();

  constructor(
    private readonly ctx: HealContext,
    private readonly tracker: ContainerTracker,
    private readonly budgets: BudgetBook,
    private readonly timers: HealTimers,
    private readonly reporter: OutcomeReporter,
    private readonly recovery: Recovery,
    private readonly interrupted: InterruptedRestarts,
    private readonly holds: ActionHolds,
    private readonly postAction: PostActionRunner,
    /** A wait is over: evaluate the container again. */
    private readonly onWake: (name: string) => void,
  ) {}

  /** The container is gone: what was told of it goes too. */
  forget(name: string): void {
    this.toldSpells.delete(name);
    this.refusedCalls.delete(name);
  }

  isActingOn(name: string): boolean {
    return this.actingOnNames.has(name);
  }

  isActingOnId(id: string): boolean {
    return this.actingOnIds.has(id);
  }

  private scheduleWake(name: string, untilMs: number): void {
    this.timers.scheduleWake(name, untilMs, () => this.onWake(name));
  }

  /** The budget's decision for a candidate, and what follows from it. */
  async decideAndAct(t: TrackedContainer, info: ContainerInspect, candidate: Candidate, inspectedAt: number, trigger: Trigger): Promise<void> {
    const name = t.name;
    const reason = describeCandidate(candidate);
    const hold = this.holds.holdOf(t, candidate.kind, reason, () => this.onWake(name));
    if (hold) {
      this.ctx.metrics.skips.inc({ reason: hold.why });
      this.ctx.log.debug(hold.why === 'paused' ? 'paused for maintenance: not acting' : 'unhealthy, not for long enough yet', { container: name, reason, untilMs: hold.untilMs, trigger });
      return;
    }
    if (candidate.kind === 'unhealthy' && t.policy.onUnhealthy === 'notify') {
      this.tellOnly(t, info, reason);
      return;
    }
    const now = this.ctx.clock.now();
    const decision = decideByMode(this.budgets.of(name), t.policy, now);
    this.budgets.set(name, decision.state);
    switch (decision.kind) {
      case 'given_up':
        this.ctx.metrics.skips.inc({ reason: 'given_up' });
        this.ctx.log.debug('given up: not touching it', { container: name, reason, trigger });
        return;
      case 'longer_wait':
        this.scheduleWake(name, decision.untilMs);
        if (decision.startsNow) {
          this.ctx.metrics.waits.inc({ kind: 'longer' });
          this.ctx.log.warn('maximum restarts reached, waiting longer', { container: name, reason, restartsInFrame: decision.restartsInFrame, untilMs: decision.untilMs });
          this.reporter.report(t, { kind: 'longer_wait', reason, untilMs: decision.untilMs, restartsInFrame: decision.restartsInFrame, healthOutput: lastHealthOutput(info) }, info.Id);
        }
        return;
      case 'wait':
        this.scheduleWake(name, decision.untilMs);
        if (decision.startsNow) {
          this.ctx.metrics.waits.inc({ kind: 'gap' });
          this.ctx.log.info('waiting before the next restart', { container: name, reason, untilMs: decision.untilMs });
          this.reporter.report(t, { kind: 'wait', reason, untilMs: decision.untilMs });
        }
        return;
      case 'restart':
        await this.restartInTurn(t, info, candidate, decision, inspectedAt);
        return;
    }
  }

  /** on_unhealthy notify: journal and notify once per unhealthy spell, change nothing. */
  private tellOnly(t: TrackedContainer, info: ContainerInspect, reason: string): void {
    const spell = t.unhealthySinceMs;
    if (this.toldSpells.has(t.name) && this.toldSpells.get(t.name) === spell) {
      this.ctx.log.debug('unhealthy, already told (on_unhealthy=notify)', { container: t.name });
      return;
    }
    this.toldSpells.set(t.name, spell);
    this.ctx.metrics.actions.inc({ action: 'notify' });
    this.ctx.log.warn('unhealthy: only telling (on_unhealthy=notify)', { container: t.name, reason, sinceMs: spell });
    this.reporter.report(t, { kind: 'unhealthy_notice', reason, sinceMs: spell, dryRun: this.ctx.settings.dryRun, healthOutput: lastHealthOutput(info) }, info.Id);
    this.postAction.run(t, info.Id, { action: 'notify', reason, result: 'ok' });
  }

  /** Waits for a free restart slot, then acts if the container (looked at again if need be) still needs it. */
  private async restartInTurn(t0: TrackedContainer, info0: ContainerInspect, candidate0: Candidate, decision: Extract<Decision, { kind: 'restart' }>, inspectedAt: number): Promise<void> {
    const name = t0.name;
    await this.ctx.limiter.run(async () => {
      if (this.ctx.work.stopped) return;
      let t = t0;
      let info = info0;
      let classification: Classification = candidate0;
      // Waiting for a free slot took a while: look again just before acting.
      if (this.ctx.clock.now() - inspectedAt > FRESH_INSPECT_MS) {
        const fresh = await inspectContainer(this.ctx, name);
        if (fresh === 'failed' || this.ctx.work.stopped) return;
        if (fresh === null) {
          this.ctx.log.info('gone before it could be restarted', { container: name });
          return;
        }
        info = fresh;
        t = this.tracker.fromInspect(fresh);
        classification = this.tracker.classify(t, fresh);
      }
      if (classification.kind !== 'unhealthy' && classification.kind !== 'crashed') {
        this.ctx.log.info('no longer needs a restart', { container: name, now: classification.detail });
        return;
      }
      const paused = this.holds.pauseOf(name);
      if (paused) {
        this.ctx.metrics.skips.inc({ reason: 'paused' });
        this.ctx.log.info('paused for maintenance while waiting for a slot: not acting', { container: name, untilMs: paused.untilMs });
        return;
      }
      if (this.actingOnIds.has(info.Id)) {
        this.ctx.log.debug('already being restarted under another name', { container: name, id: info.Id.slice(0, 12) });
        return;
      }
      await this.act(t, info, classification, decision);
    });
  }

  private async act(t: TrackedContainer, info: ContainerInspect, candidate: Candidate, decision: Extract<Decision, { kind: 'restart' }>): Promise<void> {
    const name = t.name;
    const policy = t.policy;
    const reason = describeCandidate(candidate);
    const dryRun = this.ctx.settings.dryRun;
    const verb = actionVerbOf(candidate, policy.onUnhealthy);
    const giveUpNow = policy.maxChecksToGiveUp > 0 && decision.attempt >= policy.maxChecksToGiveUp;
    // Logs go only into notifications that will be sent; they are fetched beside the restart call,
    // never before it, so they never delay the repair.
    const logsWanted =
      wouldNotify(t, 'restart') || (decision.multipleFailures && wouldNotify(t, 'multiple_failures')) || (giveUpNow && wouldNotify(t, 'give_up'));
    let logs: Promise<string[] | undefined> | null = null;
    let error: unknown = null;
    let ok = true;
    const startedMs = this.ctx.clock.now();
    // The budget before this restart: the outcome below is recorded on it.
    const budgetBefore = this.budgets.of(name);
    let marker: InFlightRestart | null = null;
    if (!dryRun) {
      // Counted (and persisted) before the call: if Repairman dies while the engine restarts the
      // container, the engine finishes the restart without us, and the next instance must still find
      // it in the budget (or a SIGKILL at the wrong moment would reset the budget early). The marker
      // saved with it tells the next instance to journal it (see interrupted-restarts.ts).
      const counted = recordRestartByMode(budgetBefore, policy, startedMs, true);
      marker = {
        atMs: startedMs,
        verb,
        reason,
        ...(candidate.kind === 'crashed' ? { exitCode: candidate.exitCode } : {}),
        attempt: decision.attempt,
        multipleFailures: decision.multipleFailures,
        gaveUp: counted.gaveUp,
        maxHistoricEntries: policy.maxHistoricEntries,
      };
      this.budgets.set(name, { ...counted.state, inFlight: marker });
    }
    // Logged once the marker is saved: a "restarting" line always has its journal entry. Quiet while a
    // socket proxy refuses it: the refusal was said once, and this is tried at every re-check.
    this.ctx.log[this.refusedCalls.has(name) ? 'debug' : 'info'](dryRun ? `dry run: would ${verb}` : DOING[verb], { container: name, reason, attempt: decision.attempt, stopTimeoutSec: policy.stopTimeoutSec });
    if (marker) {
      this.actingOnNames.add(name);
      this.actingOnIds.add(info.Id);
      try {
        const signal = this.ctx.work.signal;
        const engine = this.ctx.engine;
        const stopTimeoutSec = policy.stopTimeoutSec;
        const call =
          verb === 'restart'
            ? engine.restart(info.Id, { stopTimeoutSec, signal })
            : verb === 'stop'
              ? engine.stop(info.Id, { stopTimeoutSec, signal })
              : verb === 'kill'
                ? engine.kill(info.Id, { signal })
                : engine.start(info.Id, { signal });
        if (logsWanted) logs = this.reporter.fetchLogs(info.Id);
        await call;
      } catch (err) {
        ok = false;
        error = err;
      } finally {
        this.actingOnNames.delete(name);
        this.actingOnIds.delete(info.Id);
      }
      if (this.ctx.work.stopped) {
        // Repairman is stopping: the call was abandoned (aborted; the engine finishes the restart) or
        // returned just now. Journal it while the journal is still open (app.ts closes it after
        // healer.stop), with no notification (the notifier is closing) and no timers.
        this.interrupted.journal(t, marker, ok ? 'done' : 'stopped', false);
        return;
      }
    } else if (logsWanted) {
      logs = this.reporter.fetchLogs(info.Id);
    }
    if (this.ctx.work.stopped) return;
    if (isRepairmanError(error, 'RM_ENGINE_REFUSED')) {
      this.refused(t, verb, reason, budgetBefore, error);
      return;
    }
    this.refusedCalls.delete(name);
    const now = this.ctx.clock.now();
    const recorded = recordRestartByMode(budgetBefore, policy, now, ok);
    const failure = ok ? null : { message: errorMessage(error), code: errorCode(error) };
    const record = this.reporter.recordOf(t, {
      kind: 'restart',
      verb,
      reason,
      ...(candidate.kind === 'crashed' ? { exitCode: candidate.exitCode } : {}),
      attempt: decision.attempt,
      multipleFailures: decision.multipleFailures,
      dryRun,
      failure,
      gaveUp: recorded.gaveUp,
      streak: recorded.state.streak,
      healthOutput: lastHealthOutput(info),
    }, now);

    // The budget (without the marker) and the journal entries in one transaction: a SIGKILL between
    // them would leave a restart either journaled twice or not at all.
    this.reporter.atomically(name, () => {
      this.budgets.set(name, withoutInFlight(recorded.state));
      this.reporter.append(t, record.entries);
    });
    for (const n of record.notifications) {
      // A failure's own notification fetches the log when nothing else wanted it.
      this.reporter.notify(n, n.event.kind === 'restart_failed' && logs === null ? info.Id : logs);
    }

    const staysDown = verb === 'stop' || verb === 'kill';
    if (ok) {
      if (staysDown) this.ctx.metrics.actions.inc({ action: verb });
      else this.ctx.metrics.restarts.inc({ reason: candidate.kind });
      // A dry run's start of a crashed container keeps the message it always had ('dry run: not restarted').
      this.ctx.log.info(dryRun ? `dry run: not ${DONE[verb === 'start' ? 'restart' : verb]}` : DONE[verb], { container: name, reason, attempt: decision.attempt, ms: now - startedMs });
      // Its own stop or kill: the exit that follows is not a crash to start again.
      if (staysDown && !dryRun) this.tracker.markDeliberate(t, { atMs: now, action: verb, signal: null, own: true });
      if (!dryRun && !staysDown && !info.State?.Health) this.recovery.scheduleProbe(name, now + policy.frameSizeSec * 1000);
    } else {
      this.ctx.metrics.restartFailures.inc();
      this.ctx.log.warn(`${verb} failed`, { container: name, reason, error: maskUrlsInText(errorMessage(error)), code: failure?.code });
    }
    const script = this.ctx.settings.postRestartScript;
    if (script && !dryRun) {
      void runPostRestartScript(script, { name, id: info.Id, state: info.State?.Status ?? 'unknown', stopTimeoutSec: policy.stopTimeoutSec }, this.ctx.log, this.ctx.work.signal);
    }
    // No engine event will follow a dry run or a failed call: look again when the gap is over.
    if ((dryRun || !ok) && !recorded.gaveUp) this.scheduleWake(name, now + Math.max(MIN_RELOOK_MS, policy.secondsBetweenRestarts * 1000));
    if (recorded.gaveUp) {
      this.ctx.metrics.giveUps.inc();
      this.ctx.log.warn('gave up', { container: name, reason, streak: recorded.state.streak });
    }
    this.postAction.run(t, info.Id, { action: verb, reason, result: ok ? 'ok' : 'failed' });
  }

  /**
   * The engine answered 403 (a socket proxy that does not allow the call; the client reported it, once
   * per call kind, to the log, a notification and /healthz). Nothing happened to the container, so the
   * budget is put back as it was before the attempt: no frame or backoff charge, no give-up, no retry
   * timer. The next re-check tries again (a re-check interval, never a tight loop).
   */
  private refused(t: TrackedContainer, verb: ActionVerb, reason: string, budgetBefore: BudgetState, err: RepairmanError): void {
    const call = typeof err.details.call === 'string' ? err.details.call : '';
    const first = this.refusedCalls.get(t.name) !== call;
    this.refusedCalls.set(t.name, call);
    this.reporter.atomically(t.name, () => {
      this.budgets.set(t.name, withoutInFlight(budgetBefore));
      if (first) this.reporter.append(t, this.reporter.recordOf(t, { kind: 'refused', verb, reason, call, message: err.message }).entries);
    });
    this.ctx.log.debug(`${verb} refused by the engine; not counted, tried again at the next re-check`, { container: t.name, call });
  }
}

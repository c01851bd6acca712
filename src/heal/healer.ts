// The healer: turns what the engine reports (a listing, events, re-checks) into decisions (classify.ts)
// under the restart budget (src/budget), and acts on them (docs/behaviour.md §2.4):
// - one action at a time per container (the shared KeyedSerializer), a bounded number of restarts at
//   once across containers (Limiter); waits are timers, never a blocked worker;
// - a fresh inspect just before acting; the restart call uses the container's stop_timeout;
// - every outcome journaled, counted and notified; a failure is never a crash.
// It knows nothing about the event stream's connection or the re-check schedule: watcher.ts drives it.
// This file routes events and evaluations; the rooms own the rest:
//   tracking.ts (what is known per container), rechecks.ts (listings), restarting.ts (deciding and
//   acting), recovery.ts, interrupted-restarts.ts (restarts a stop or a kill cut short), timers.ts,
//   budget-book.ts (budgets by name), outcomes.ts (what to journal and notify, pure) and reporter.ts.
import { hostname as osHostname } from 'node:os';
import type { BudgetState, BudgetView } from '../budget/budget.js';
import type { ContainerPolicy, GlobalSettings } from '../config/types.js';
import type { ContainerRecreator, DockerEvent, EngineApi } from '../docker/types.js';
import { errorMessage } from '../errors.js';
import type { DeliberateStopMark } from '../journal/types.js';
import type { Logger } from '../log.js';
import type { Notifier } from '../notify/types.js';
import { systemClock, type Clock } from '../util/clock.js';
import type { KeyedSerializer, Limiter } from '../util/keyed-queue.js';
import { BudgetBook } from './budget-book.js';
import { bareName, engineHealthAction, isDeliberateExit, splitEventAction } from './classify.js';
import { Dependents } from './dependents/coordinator.js';
import type { DependencyView } from './dependents/graph.js';
import { ExitEventWait } from './event-lag.js';
import { BackgroundWork, inspectContainer, type DecodeLabels, type HealContext, type HealJournal, type Trigger } from './context.js';
import { ActionHolds, ALL_CONTAINERS, type MaintenancePause, type PauseInForce } from './holds.js';
import { InterruptedRestarts } from './interrupted-restarts.js';
import type { HealMetrics } from './metrics.js';
import { Rechecks, type RecheckMode } from './rechecks.js';
import { Recovery } from './recovery.js';
import { PostActionRunner } from './post-action.js';
import { OutcomeReporter } from './reporter.js';
import { Restarter } from './restarting.js';
import type { SelfIdentity } from './self-id.js';
import { HealTimers } from './timers.js';
import { ContainerTracker, type TrackedContainer } from './tracking.js';

export type { HealJournal } from './context.js';
export type { TrackedContainer } from './tracking.js';
export type { MaintenancePause, PauseInForce } from './holds.js';

/** What Repairman does about one container now (for status, the page, the API and `explain`). */
export interface ActionState {
  onUnhealthy: ContainerPolicy['onUnhealthy'];
  unhealthyForSec: number;
  budgetMode: ContainerPolicy['budgetMode'];
  /** Unhealthy without a recovery since then (null: not unhealthy). */
  unhealthySinceMs: number | null;
  /** With unhealthy_for: no action before this moment (null: none pending). */
  actAfterMs: number | null;
  /** A maintenance pause in force (null: none). */
  paused: PauseInForce | null;
}

export interface HealerOptions {
  engine: EngineApi;
  settings: GlobalSettings;
  log: Logger;
  notifier: Notifier;
  journal: HealJournal;
  metrics: HealMetrics;
  serializer: KeyedSerializer;
  limiter: Limiter;
  decodeLabels: DecodeLabels;
  self: SelfIdentity;
  /** Budgets loaded from the journal (a file database resumes waits and give-ups). */
  budgets?: Map<string, BudgetState>;
  /** Shown in notifications; default os.hostname(). */
  host?: string;
  /** For times shown to people; default TZ or the system zone. */
  timeZone?: string;
  clock?: Clock;
  /**
   * UTC ms at which the previous run (of the same --db-path file) was last alive: crashes since then
   * minus heal_exited_lookback count. Absent (no file, first run): from now minus the look-back.
   */
  previousRunLastAliveMs?: number | null;
  /** Stops and kills a previous run saw (read from the journal file): those exits stay left alone. */
  deliberateStops?: readonly DeliberateStopMark[];
  /** Creating and renaming containers, to recreate dependents (docs/behaviour.md §10); without it they are only restarted. */
  recreator?: ContainerRecreator;
}

export class Healer {
  readonly host: string;
  private readonly ctx: HealContext;
  private readonly work: BackgroundWork;
  /** Aborted at stop: every engine call of the healer passes its signal. */
  private readonly abort = new AbortController();
  private readonly timers: HealTimers;
  private readonly budgets: BudgetBook;
  private readonly tracker: ContainerTracker;
  private readonly interrupted: InterruptedRestarts;
  private readonly recovery: Recovery;
  private readonly restarter: Restarter;
  private readonly rechecks: Rechecks;
  private readonly dependents: Dependents;
  private readonly holds: ActionHolds;
  private readonly postAction: PostActionRunner;
  private readonly reporter: OutcomeReporter;
  /** Evaluations queued and not started yet: a burst of triggers makes one evaluation. */
  private readonly evaluationQueue = new Set<string>();
  /** A re-check leaves exits newer than the event stream's reach to their events (event-lag.ts). */
  private readonly exitEventWait: ExitEventWait;

  constructor(opts: HealerOptions) {
    this.host = opts.host ?? osHostname();
    this.work = new BackgroundWork(opts.log, this.abort);
    const clock = opts.clock ?? systemClock;
    const now = clock.now();
    const watchedSinceMs = Math.min(now, opts.previousRunLastAliveMs ?? now);
    this.ctx = {
      engine: opts.engine,
      settings: opts.settings,
      log: opts.log,
      notifier: opts.notifier,
      journal: opts.journal,
      metrics: opts.metrics,
      serializer: opts.serializer,
      limiter: opts.limiter,
      clock,
      self: opts.self,
      host: this.host,
      timeZone: opts.timeZone,
      work: this.work,
      crashesCountFromMs: watchedSinceMs - opts.settings.healExitedLookbackSec * 1000,
    };
    const ctx = this.ctx;
    const reporter = new OutcomeReporter(ctx);
    this.reporter = reporter;
    this.timers = new HealTimers(clock);
    this.holds = new ActionHolds(ctx, this.timers, reporter);
    this.postAction = new PostActionRunner(ctx, reporter);
    this.budgets = new BudgetBook(ctx, opts.budgets);
    this.interrupted = new InterruptedRestarts(ctx, this.budgets, reporter);
    this.tracker = new ContainerTracker(ctx, opts.decodeLabels, this.budgets, this.timers, reporter, (t) => this.interrupted.onTracked(t), opts.deliberateStops);
    this.recovery = new Recovery(ctx, this.tracker, this.budgets, this.timers, reporter);
    this.restarter = new Restarter(ctx, this.tracker, this.budgets, this.timers, reporter, this.recovery, this.interrupted, this.holds, this.postAction, (name) => this.consider(name, 'timer'));
    this.dependents = new Dependents({ ctx, tracker: this.tracker, budgets: this.budgets, reporter, recovery: this.recovery, recreator: opts.recreator });
    this.exitEventWait = new ExitEventWait(clock, (name) => this.consider(name, 'timer'));
    this.rechecks = new Rechecks(ctx, this.tracker, this.budgets, this.timers, this.recovery, this.interrupted, {
      consider: (name, trigger) => this.consider(name, trigger),
      isQueued: (name) => this.evaluationQueue.has(name),
      listedAll: (all) => this.dependents.replaceAll(all),
    });
  }

  // ---- read side (state view) ----------------------------------------------------------------

  containers(): TrackedContainer[] {
    return this.tracker.all();
  }

  /** Exited because someone stopped it (tracking.ts): shown as "stopped by hand, left alone". */
  stoppedByHand(name: string): boolean {
    const t = this.tracker.get(name);
    return t !== undefined && this.tracker.stoppedByHand(t);
  }

  budgetOf(name: string): BudgetState {
    return this.budgets.of(name);
  }

  policyOf(name: string): ContainerPolicy {
    return this.tracker.get(name)?.policy ?? this.ctx.settings.defaults;
  }

  /** Names with a budget (containers seen in trouble), including ones no longer present. */
  budgetNames(): string[] {
    return this.budgets.names();
  }

  pendingWakeMs(name: string): number | null {
    return this.timers.wakeUntilMs(name);
  }

  /** For the state view: the budget as people read it. */
  budgetViewOf(name: string, nowMs: number): BudgetView {
    return this.budgets.view(name, this.policyOf(name), nowMs);
  }

  /** A container's providers and dependents (docs/behaviour.md §10), for the status page, `status` and `explain`. */
  dependencyViewOf(name: string): DependencyView {
    return this.dependents.viewOf(name);
  }

  /** What only the healer saw of one container (this id), for `explain`; null when it does not follow it. */
  seenOf(name: string, id: string): { deliberateStop: boolean; ownStop: boolean; sawAlive: boolean; unhealthySinceMs: number | null } | null {
    const t = this.tracker.get(name);
    if (!t || t.id !== id) return null;
    const deliberateStop = this.tracker.isDeliberate(t);
    return { deliberateStop, ownStop: deliberateStop && t.deliberate?.own === true, sawAlive: t.sawAlive, unhealthySinceMs: t.unhealthySinceMs };
  }

  /** Crashes that finished before this moment (UTC ms) and were not seen are old (docs/behaviour.md §2.2). */
  get crashesCountFromMs(): number {
    return this.ctx.crashesCountFromMs;
  }

  /** The pauses in force (`repairman pause`), the pause of every container first. */
  pauses(nowMs = this.ctx.clock.now()): MaintenancePause[] {
    return this.holds.pausesInForce(nowMs);
  }

  /** The action and hold state of one container, as data (status, page, API, `explain`). */
  actionStateOf(name: string, nowMs = this.ctx.clock.now()): ActionState {
    const policy = this.policyOf(name);
    const t = this.tracker.get(name);
    const since = t?.health === 'unhealthy' ? t.unhealthySinceMs : null;
    const actAfterMs = since !== null && policy.unhealthyForSec > 0 && nowMs < since + policy.unhealthyForSec * 1000 ? since + policy.unhealthyForSec * 1000 : null;
    return {
      onUnhealthy: policy.onUnhealthy,
      unhealthyForSec: policy.unhealthyForSec,
      budgetMode: policy.budgetMode,
      unhealthySinceMs: since,
      actAfterMs,
      paused: this.holds.pauseOf(name, nowMs),
    };
  }

  /**
   * The pauses as the journal file holds them now (`repairman pause` / `resume` write them; app.ts
   * reads them at start, initial: nothing told, and then every second). A pause that starts or ends is
   * notified; at its end the containers it held are looked at again.
   */
  applyPauses(rows: readonly MaintenancePause[], opts: { initial?: boolean } = {}): void {
    if (this.work.stopped) return;
    const now = this.ctx.clock.now();
    const { started, ended } = this.holds.updatePauses(rows, now);
    if (opts.initial) return;
    for (const p of started) {
      this.ctx.log.info('paused for maintenance', { container: p.container, untilMs: p.untilMs });
      this.reportMaintenance(p.container, { kind: 'maintenance', what: 'pause', untilMs: p.untilMs, all: p.container === ALL_CONTAINERS });
    }
    for (const p of ended) {
      const timeUp = p.untilMs !== null && p.untilMs <= now;
      this.ctx.log.info(timeUp ? 'maintenance pause over' : 'resumed', { container: p.container });
      this.reportMaintenance(p.container, { kind: 'maintenance', what: 'resume', untilMs: timeUp ? p.untilMs : null, all: p.container === ALL_CONTAINERS });
      if (p.container === ALL_CONTAINERS) void this.recheck('quick');
      else if (this.tracker.has(p.container)) this.consider(p.container, 'timer');
    }
  }

  private reportMaintenance(container: string, outcome: { kind: 'maintenance'; what: 'pause' | 'resume'; untilMs: number | null; all: boolean }): void {
    const subject = { name: container, policy: this.policyOf(container) };
    this.reporter.report(subject, outcome);
  }

  /** UTC ms of the end of the last successful re-check (for /healthz). */
  get lastFullCheckMs(): number | null {
    return this.rechecks.lastFullCheckMs;
  }

  /** The last re-check's failure (null when it succeeded). */
  get lastCheckError(): unknown {
    return this.rechecks.lastCheckError;
  }

  get isStopped(): boolean {
    return this.work.stopped;
  }

  // ---- events ---------------------------------------------------------------------------------

  /** The engine answered the watcher's event stream request. */
  eventStreamOpened(): void {
    this.exitEventWait.opened();
  }

  /** The event stream ended or broke: re-checks act on what they find at once. */
  eventStreamClosed(): void {
    this.exitEventWait.closed();
  }

  /** One engine event (type container). Never throws; slow work is queued, not awaited. */
  handleEvent(ev: DockerEvent): void {
    this.exitEventWait.saw(ev);
    if (this.work.stopped || ev.Type !== 'container') return;
    const attrs = ev.Actor?.Attributes ?? {};
    const id = ev.Actor?.ID ?? '';
    const name = bareName(attrs.name ?? '');
    const [verb, arg] = splitEventAction(ev.Action ?? '');
    const now = this.ctx.clock.now();
    this.dependents.onEvent(ev);

    if (verb === 'rename') {
      this.onRename(bareName(attrs.oldName ?? ''), name, id, attrs);
      return;
    }
    if (!name || !this.tracker.inNamespace(name)) return;

    if (verb === 'destroy') {
      const t = this.tracker.get(name);
      if (t && (t.id === id || !id)) this.tracker.forget(name, id);
      return;
    }

    const t = this.tracker.fromEvent(name, id, attrs);
    // Every event watched (health, kill, stop, start, die, pause) means it was alive meanwhile.
    t.sawAlive = true;
    switch (verb) {
      case 'health_status': {
        const status = (arg ?? attrs.health_status ?? '').trim();
        if (status) this.tracker.noteHealth(t, status);
        if (status === 'unhealthy') {
          if (t.excluded) this.ctx.metrics.skips.inc({ reason: t.excluded.reason });
          else this.consider(name, 'event');
        } else if (status === 'healthy') {
          this.recovery.queue(name, 'healthy');
        }
        return;
      }
      case 'kill':
      case 'stop': {
        if (this.restarter.isActingOn(name) || this.dependents.isActingOn(name)) return;
        // Its own on_unhealthy stop's events may come after the call returned (a loaded engine): the
        // mark stays Repairman's until the next start clears it.
        if (t.deliberate?.own) return;
        this.tracker.markDeliberate(t, { atMs: now, action: verb, signal: attrs.signal ?? null });
        return;
      }
      case 'start': {
        t.state = 'running';
        this.tracker.clearDeliberate(t);
        t.exit = null;
        this.tracker.unsettle(id);
        if (t.health !== null) this.tracker.noteHealth(t, 'starting');
        return;
      }
      case 'die': {
        t.state = 'exited';
        this.tracker.unsettle(id);
        const exitCode = Number(attrs.exitCode);
        t.exit = Number.isInteger(exitCode) ? { code: exitCode, oomKilled: null } : null;
        // During Repairman's own restart the die may be its own doing or a crash right after the
        // start: look once the action is over (a running container is then left alone).
        if (this.restarter.isActingOn(name) || this.dependents.isActingOn(name)) {
          this.consider(name, 'event');
          return;
        }
        if (t.excluded) {
          this.ctx.metrics.skips.inc({ reason: t.excluded.reason });
          return;
        }
        // Deliberate exit codes need no inspect (137 may be an OOM kill: inspect).
        if (Number.isInteger(exitCode) && exitCode !== 137 && isDeliberateExit(exitCode, false)) {
          this.ctx.metrics.skips.inc({ reason: 'deliberate_exit' });
          this.tracker.settle(id, exitCode);
          return;
        }
        if (!t.policy.healExited) {
          this.ctx.metrics.skips.inc({ reason: 'heal_exited_disabled' });
          return;
        }
        this.consider(name, 'event');
        return;
      }
      case 'pause':
        t.state = 'paused';
        return;
      case 'unpause':
        t.state = 'running';
        // Health checks were frozen while paused: an unhealthy container gets no new event.
        if (t.health === 'unhealthy' && !t.excluded) this.consider(name, 'event');
        return;
      default:
        return;
    }
  }

  private onRename(oldName: string, newName: string, id: string, attrs: Record<string, string>): void {
    const before = this.tracker.forgetRenamed(oldName, id, newName);
    if (!newName || !this.tracker.inNamespace(newName)) return;
    const t = this.tracker.fromEvent(newName, id, attrs);
    if (before) {
      t.state = before.state;
      t.health = before.health;
      t.unhealthySinceMs = before.unhealthySinceMs;
    }
  }

  // ---- re-checks ------------------------------------------------------------------------------

  /**
   * A re-check of every container; 'full' (at start and after a reconnect) lists them all and
   * refreshes what is known, 'quick' (every --interval) lists only the unhealthy and the exited.
   * Either way a constant number of API calls plus one inspect per container that needs a decision.
   * Resolves as soon as the re-check that serves this request ends: false when the engine could not
   * be listed (lastCheckError says why).
   *
   * One re-check at a time, and requests never pile up behind it: a quick one asked for while one
   * runs is served by it; a full one (after a reconnect: what the running one listed may be older)
   * starts once it is over, one for any number of requests. After a failed full re-check the next one
   * is full. `fresh` abandons a running re-check whose calls seem stuck (the watcher asks for it
   * when a cheap listing answers while that one has waited an interval): its calls are aborted, it
   * decides nothing, and its callers get the fresh one's result. A fresh re-check is never abandoned
   * in turn, so a slow engine always gets one whole call deadline.
   */
  recheck(mode: RecheckMode, opts: { fresh?: boolean } = {}): Promise<boolean> {
    return this.rechecks.request(mode, opts);
  }

  /** The re-check running now: since when, and whether `fresh` may abandon it (see recheck()). */
  get checkInFlight(): { sinceMs: number; mode: RecheckMode; abandonable: boolean } | null {
    return this.rechecks.inFlight;
  }

  // ---- deciding -------------------------------------------------------------------------------

  /** Queue an evaluation of one container (coalesced: several triggers make one evaluation). */
  private consider(name: string, trigger: Trigger): void {
    if (this.work.stopped || this.evaluationQueue.has(name)) return;
    this.evaluationQueue.add(name);
    this.work.add(this.ctx.serializer.run(name, async () => {
      this.evaluationQueue.delete(name);
      if (this.work.stopped) return;
      await this.evaluate(name, trigger);
    }));
  }

  /** A fresh inspect, the candidate rules, then (for a candidate) the budget's decision. */
  private async evaluate(name: string, trigger: Trigger): Promise<void> {
    const info = await inspectContainer(this.ctx, name);
    if (info === 'failed' || this.work.stopped) return;
    if (info === null) {
      const t = this.tracker.get(name);
      if (t) this.tracker.forget(name, t.id);
      this.timers.wakeHandled(name);
      return;
    }
    this.timers.wakeHandled(name);
    if (this.restarter.isActingOnId(info.Id) || this.dependents.isActingOnId(info.Id)) {
      this.ctx.log.debug('already being restarted under another name', { container: name, id: info.Id.slice(0, 12), trigger });
      return;
    }
    const inspectedAt = this.ctx.clock.now();
    const t = this.tracker.fromInspect(info);
    const c = this.tracker.classify(t, info);
    if (c.kind === 'none') {
      if (info.State?.Health?.Status === 'healthy') this.recovery.recover(t, 'healthy');
      if (info.State?.Status === 'exited') this.tracker.settle(info.Id, info.State.ExitCode);
      return;
    }
    if (c.kind === 'crashed' && trigger === 'recheck' && this.exitEventWait.holds(name, info.State?.FinishedAt, inspectedAt)) {
      // Its kill or stop event may still be on its way: the die event (or the look again) decides.
      this.ctx.log.debug('exit newer than the event stream: waiting for its events', { container: name, finishedAt: info.State?.FinishedAt });
      return;
    }
    if (c.kind === 'skip') {
      this.ctx.metrics.skips.inc({ reason: c.reason });
      if (info.State?.Status === 'exited') this.tracker.settle(info.Id, info.State.ExitCode);
      // Podman acts on it itself: said once per unhealthy spell, not at every event and re-check.
      const engineAction = c.reason === 'engine_health_action' ? engineHealthAction(info) : null;
      if (engineAction !== null && this.holds.leftToEngine(t, engineAction, 'unhealthy')) {
        this.ctx.log.info('left to Podman', { container: name, reason: c.reason, detail: c.detail, trigger });
      } else {
        this.ctx.log.debug('left alone', { container: name, reason: c.reason, detail: c.detail, trigger });
      }
      return;
    }
    await this.restarter.decideAndAct(t, info, c, inspectedAt, trigger);
  }

  // ---- reset and stopping ---------------------------------------------------------------------

  /**
   * `repairman reset NAME` (seen in the journal, or asked directly): a clean budget, no waits; if the
   * container is still in trouble it is looked at again at once.
   */
  applyReset(name: string): void {
    if (this.work.stopped) return;
    this.work.add(this.ctx.serializer.run(name, async () => {
      // The reset removed the stored budget; a save of ours may have slipped in since: remove again.
      this.budgets.delete(name);
      try {
        this.ctx.journal.deleteBudget(name);
      } catch (err) {
        this.ctx.log.warn('could not delete the restart budget', { container: name, error: errorMessage(err) });
      }
      this.timers.cancel(name);
      this.ctx.log.info('restart budget reset', { container: name });
    }));
    this.consider(name, 'reset');
  }

  /**
   * Stop: clear every timer, abort engine calls and kill hook commands (the work signal), and wait for
   * in-flight work up to graceMs (then abandon it: an aborted restart is the engine's to finish).
   */
  async stop(graceMs = 500): Promise<void> {
    if (this.work.stopped) return;
    this.work.markStopped();
    this.timers.cancelAll();
    this.exitEventWait.cancelAll();
    await this.work.abortAndSettle(graceMs);
  }
}

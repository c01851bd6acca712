// The healer: turns what the engine reports (a listing, events, re-checks) into decisions (classify.ts)
// under the restart budget (budget.ts), and acts on them (SPEC 2.4):
// - one action at a time per container (the shared KeyedSerializer), a bounded number of restarts at
//   once across containers (Limiter); waits are timers, never a blocked worker;
// - a fresh inspect just before acting; the restart call uses the container's stop_timeout;
// - every outcome journaled, counted and notified; a failure is never a crash.
// It knows nothing about the event stream's connection or the re-check schedule: watcher.ts drives it.
import { hostname as osHostname } from 'node:os';
import type { ContainerPolicy, DecodedLabels, GlobalSettings, LabelProblem } from '../config/types.js';
import type { ContainerInspect, ContainerSummary, DockerEvent, EngineApi, Filters } from '../docker/types.js';
import { errorMessage, isRepairmanError } from '../errors.js';
import type { JournalEntryInput, JournalKind } from '../journal/types.js';
import type { Logger } from '../log.js';
import { severityOf, shouldSend } from '../notify/levels.js';
import type { Notifier, NotifyEvent } from '../notify/types.js';
import type { KeyedSerializer, Limiter } from '../util/keyed-queue.js';
import { maskUrlsInText } from '../util/mask.js';
import {
  budgetView,
  decide,
  initialBudget,
  recordRecovery,
  recordRestart,
  type BudgetState,
  type Decision,
  type InFlightRestart,
} from './budget.js';
import {
  bareName,
  classify,
  COMPOSE_ONEOFF_LABEL,
  describeCandidate,
  exitCodeFromStatus,
  healthFromStatus,
  isDeliberateExit,
  staticExclusion,
  summaryName,
  type Classification,
  type SkipReason,
} from './classify.js';
import { formatDuration, formatWhen, lastHealthOutput, trimLogLines } from './messages.js';
import type { HealMetrics } from './metrics.js';
import { isSelfContainer, type SelfIdentity } from './self-id.js';

/** What the healer needs from the journal (src/journal implements it). */
export interface HealJournal {
  append(entry: JournalEntryInput, maxPerContainer: number): unknown;
  saveBudget(container: string, state: BudgetState): void;
  deleteBudget(container: string): void;
  /** Runs fn's writes in one transaction (src/journal's batch); without it they run one by one. */
  batch?(fn: () => void): void;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface HealerOptions {
  engine: EngineApi;
  settings: GlobalSettings;
  log: Logger;
  notifier: Notifier;
  journal: HealJournal;
  metrics: HealMetrics;
  serializer: KeyedSerializer;
  limiter: Limiter;
  decodeLabels: (container: string, labels: Record<string, string> | null | undefined, defaults: ContainerPolicy) => DecodedLabels;
  self: SelfIdentity;
  /** Budgets loaded from the journal (a file database resumes waits and give-ups). */
  budgets?: Map<string, BudgetState>;
  /** Shown in notifications; default os.hostname(). */
  host?: string;
  /** For times shown to people; default TZ or the system zone. */
  timeZone?: string;
  clock?: Clock;
}

/** What the healer knows about one container (by name: a name survives restarts and re-creation). */
export interface TrackedContainer {
  id: string;
  name: string;
  state: string;
  health: string | null;
  labels: Record<string, string>;
  policy: ContainerPolicy;
  problems: LabelProblem[];
  excluded: { reason: SkipReason; detail: string } | null;
  /** A kill/stop seen since the last start: the next die is not a crash. */
  deliberate: { atMs: number; action: string; signal: string | null } | null;
}

type Trigger = 'event' | 'recheck' | 'timer' | 'reset';

/** One re-check (see Healer.recheck()). */
interface CheckRun {
  mode: 'full' | 'quick';
  startedMs: number;
  /** Aborts its listings: when abandoned for a fresh one, when it failed, or at stop. */
  ctl: AbortController;
  /** Started by `fresh`: never abandoned in turn. */
  fresh: boolean;
  /** Abandoned for a fresh re-check, whose result its callers get. */
  replaced: boolean;
  replacement: Promise<boolean> | null;
  result: Promise<boolean>;
}

// Signals that mean "stop": a kill with another signal (HUP to reload...) marks a deliberate stop
// only for a short while, so a crash hours after a reload is still a crash.
const STOPPING_SIGNALS = new Set(['2', '3', '9', '15', 'SIGINT', 'SIGQUIT', 'SIGKILL', 'SIGTERM', 'INT', 'QUIT', 'KILL', 'TERM']);
const OTHER_SIGNAL_MARK_MS = 60_000;
/** An inspect older than this when a restart slot frees up is repeated (the container may have changed). */
const FRESH_INSPECT_MS = 250;
/** Timers fire this much after a wait ends, so the budget sees the wait as over. */
const TIMER_SLACK_MS = 20;
const MAX_TIMER_MS = 2 ** 31 - 1;
const LOGS_TIMEOUT_MS = 5_000;
/** Never look again sooner than this after a dry run or a failed restart (no hot loop with a 0 s gap). */
const MIN_RELOOK_MS = 1_000;
// Event attributes that are not labels (the engine mixes both in Actor.Attributes).
const NON_LABEL_ATTRIBUTES = new Set(['name', 'image', 'exitCode', 'signal', 'oldName', 'execDuration', 'container']);

export class Healer {
  readonly host: string;
  private readonly engine: EngineApi;
  private readonly settings: GlobalSettings;
  private readonly log: Logger;
  private readonly notifier: Notifier;
  private readonly journal: HealJournal;
  private readonly metrics: HealMetrics;
  private readonly serializer: KeyedSerializer;
  private readonly limiter: Limiter;
  private readonly decodeLabels: HealerOptions['decodeLabels'];
  private readonly self: SelfIdentity;
  private readonly clock: Clock;
  private readonly timeZone: string | undefined;
  private readonly abort = new AbortController();

  private readonly tracked = new Map<string, TrackedContainer>();
  private readonly budgets: Map<string, BudgetState>;
  /** Pending "decide again" timers (gap and longer waits), one per container. */
  private readonly wakes = new Map<string, { handle: unknown; untilMs: number }>();
  /** Wakes that fired and whose evaluation has not yet found the container (a removal is still "during the wait"). */
  private readonly waking = new Set<string>();
  /**
   * Budgets loaded with a restart marker (BudgetState.inFlight): the previous instance died while the
   * engine restarted them. Journaled when the container is first tracked (its labels decide trimming
   * and notifications), or after the first full listing when it is gone.
   */
  private readonly leftovers = new Set<string>();
  /** Pending "has it run a whole frame?" timers for containers without a healthcheck. */
  private readonly probes = new Map<string, { handle: unknown; atMs: number }>();
  /** Evaluations queued and not started yet: a burst of triggers makes one evaluation. */
  private readonly queued = new Set<string>();
  /** Containers Repairman is restarting right now: their kill/die events are its own doing. */
  private readonly acting = new Set<string>();
  /**
   * The same, by container id: a container renamed while Repairman restarts it must not be restarted
   * again under its new name (the serializer and `acting` are keyed by name).
   */
  private readonly actingIds = new Set<string>();
  /** Exited containers already judged not crashed, by id -> exit code: re-checks do not inspect them again. */
  private readonly settled = new Map<string, number>();
  /** Label problems already reported: container|label|value. */
  private readonly reportedProblems = new Set<string>();
  private readonly inflight = new Set<Promise<unknown>>();
  private stopped = false;
  private firstFullCheckDone = false;

  /** The re-check running now: one at a time (see recheck()). */
  private check: CheckRun | null = null;
  /** A full re-check asked for while another ran: it starts once that one is over. */
  private fullNext: Promise<boolean> | null = null;
  /** The last full re-check failed: the next re-check lists everything. */
  private fullOwed = false;
  /** UTC ms of the end of the last successful full re-check (for /healthz). */
  lastFullCheckMs: number | null = null;
  /** The last re-check's failure (null when it succeeded). */
  lastCheckError: unknown = null;

  constructor(opts: HealerOptions) {
    this.engine = opts.engine;
    this.settings = opts.settings;
    this.log = opts.log;
    this.notifier = opts.notifier;
    this.journal = opts.journal;
    this.metrics = opts.metrics;
    this.serializer = opts.serializer;
    this.limiter = opts.limiter;
    this.decodeLabels = opts.decodeLabels;
    this.self = opts.self;
    this.clock = opts.clock ?? systemClock;
    this.timeZone = opts.timeZone;
    this.host = opts.host ?? osHostname();
    this.budgets = new Map(opts.budgets ?? []);
    for (const [name, b] of this.budgets) if (b.inFlight) this.leftovers.add(name);
  }

  // ---- read side (state view) ----------------------------------------------------------------

  containers(): TrackedContainer[] {
    return [...this.tracked.values()];
  }

  budgetOf(name: string): BudgetState {
    return this.budgets.get(name) ?? initialBudget();
  }

  policyOf(name: string): ContainerPolicy {
    return this.tracked.get(name)?.policy ?? this.settings.defaults;
  }

  /** Names with a budget (containers seen in trouble), including ones no longer present. */
  budgetNames(): string[] {
    return [...this.budgets.keys()];
  }

  pendingWakeMs(name: string): number | null {
    return this.wakes.get(name)?.untilMs ?? null;
  }

  // ---- events ---------------------------------------------------------------------------------

  /** One engine event (type container). Never throws; slow work is queued, not awaited. */
  handleEvent(ev: DockerEvent): void {
    if (this.stopped || ev.Type !== 'container') return;
    const attrs = ev.Actor?.Attributes ?? {};
    const id = ev.Actor?.ID ?? '';
    const name = bareName(attrs.name ?? '');
    const [verb, arg] = splitAction(ev.Action ?? '');
    const now = this.clock.now();

    if (verb === 'rename') {
      this.onRename(bareName(attrs.oldName ?? ''), name, id, attrs);
      return;
    }
    if (!name || !this.inNamespace(name)) return;

    if (verb === 'destroy') {
      const t = this.tracked.get(name);
      if (t && (t.id === id || !id)) this.forget(name, id);
      return;
    }

    const t = this.trackFromEvent(name, id, attrs);
    switch (verb) {
      case 'health_status': {
        const status = (arg ?? attrs.health_status ?? '').trim();
        if (status) t.health = status;
        if (status === 'unhealthy') {
          if (t.excluded) this.metrics.skips.inc({ reason: t.excluded.reason });
          else this.consider(name, 'event');
        } else if (status === 'healthy') {
          this.queueRecovery(name, 'healthy');
        }
        return;
      }
      case 'kill':
      case 'stop': {
        if (this.acting.has(name)) return;
        const signal = attrs.signal ?? null;
        t.deliberate = { atMs: now, action: verb, signal };
        return;
      }
      case 'start': {
        t.state = 'running';
        t.deliberate = null;
        this.settled.delete(id);
        if (t.health !== null) t.health = 'starting';
        return;
      }
      case 'die': {
        t.state = 'exited';
        this.settled.delete(id);
        // During Repairman's own restart the die may be its own doing or a crash right after the
        // start: look once the action is over (a running container is then left alone).
        if (this.acting.has(name)) {
          this.consider(name, 'event');
          return;
        }
        if (t.excluded) {
          this.metrics.skips.inc({ reason: t.excluded.reason });
          return;
        }
        const code = Number(attrs.exitCode);
        // Deliberate exit codes need no inspect (137 may be an OOM kill: inspect).
        if (Number.isInteger(code) && code !== 137 && isDeliberateExit(code, false)) {
          this.metrics.skips.inc({ reason: 'deliberate_exit' });
          this.settled.set(id, code);
          return;
        }
        if (!t.policy.healExited) {
          this.metrics.skips.inc({ reason: 'heal_exited_disabled' });
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
    const before = oldName ? this.tracked.get(oldName) : undefined;
    if (before && (before.id === id || !id)) {
      const wake = this.wakes.get(oldName);
      const waiting = wake !== undefined || this.waking.has(oldName);
      this.tracked.delete(oldName);
      this.cancelTimers(oldName);
      // The wait belongs to the old name (budgets are keyed by name, SPEC 3): say where it went.
      if (waiting) this.journalGone(before, wake?.untilMs ?? null, newName || '?');
    }
    if (!newName || !this.inNamespace(newName)) return;
    const t = this.trackFromEvent(newName, id, attrs);
    if (before) {
      t.state = before.state;
      t.health = before.health;
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
  recheck(mode: 'full' | 'quick', opts: { fresh?: boolean } = {}): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    const cur = this.check;
    if (this.fullNext) return this.fullNext;
    if (!cur) return this.startCheck(mode, false);
    if (opts.fresh && !cur.fresh) {
      cur.replaced = true;
      cur.ctl.abort();
      const fresh = this.startCheck(mode === 'full' || cur.mode === 'full' ? 'full' : 'quick', true);
      cur.replacement = fresh;
      return fresh;
    }
    if (mode === 'quick') return cur.result;
    const next = cur.result.then(() => {
      this.fullNext = null;
      return this.recheck('full');
    });
    this.fullNext = next;
    return next;
  }

  /** The re-check running now: since when, and whether `fresh` may abandon it (see recheck()). */
  get checkInFlight(): { sinceMs: number; mode: 'full' | 'quick'; abandonable: boolean } | null {
    const c = this.check;
    return c ? { sinceMs: c.startedMs, mode: c.mode, abandonable: !c.fresh && !this.fullNext } : null;
  }

  private startCheck(asked: 'full' | 'quick', fresh: boolean): Promise<boolean> {
    const mode = this.fullOwed ? 'full' : asked;
    const ctl = new AbortController();
    const onStop = (): void => ctl.abort();
    this.abort.signal.addEventListener('abort', onStop, { once: true });
    const run: CheckRun = { mode, startedMs: this.clock.now(), ctl, fresh, replaced: false, replacement: null, result: Promise.resolve(false) };
    this.check = run;
    run.result = this.runCheck(run).then((ok) => {
      this.abort.signal.removeEventListener('abort', onStop);
      if (this.check === run) this.check = null;
      return run.replaced && run.replacement ? run.replacement : ok;
    });
    return run.result;
  }

  private namespaceFilter(): Filters {
    const ns = this.settings.namespace;
    return ns ? { name: [`^/${escapeRegex(ns)}`] } : {};
  }

  private async runCheck(run: CheckRun): Promise<boolean> {
    const { mode } = run;
    const started = performance.now();
    const signal = run.ctl.signal;
    const ns = this.namespaceFilter();
    try {
      let candidates: ContainerSummary[];
      let healthy: ContainerSummary[] = [];
      if (mode === 'full') {
        const all = await this.engine.listContainers({ all: true, filters: ns, signal });
        this.syncAll(all);
        candidates = all.filter((c) => c.State === 'exited' || healthFromStatus(c.Status) === 'unhealthy');
        healthy = all.filter((c) => healthFromStatus(c.Status) === 'healthy');
      } else {
        // A healthy listing is only needed to notice recoveries missed (event stream gaps).
        const wantHealthy = this.someHealthcheckInTrouble();
        const [unhealthy, exited, healthyList] = await Promise.all([
          this.engine.listContainers({ all: true, filters: { ...ns, health: ['unhealthy'] }, signal }),
          this.engine.listContainers({ all: true, filters: { ...ns, status: ['exited'] }, signal }),
          wantHealthy ? this.engine.listContainers({ all: true, filters: { ...ns, health: ['healthy'] }, signal }) : Promise.resolve([]),
        ]);
        for (const c of [...unhealthy, ...exited, ...healthyList]) this.trackSummary(c);
        candidates = [...unhealthy, ...exited];
        healthy = healthyList;
      }
      for (const c of candidates) this.considerSummary(c);
      for (const c of healthy) {
        const name = summaryName(c);
        if (this.inTrouble(name)) this.queueRecovery(name, 'healthy');
      }
      if (mode === 'full') this.scheduleMissingProbes();
      this.updateGauges();
      this.lastFullCheckMs = this.clock.now();
      this.lastCheckError = null;
      if (mode === 'full') this.fullOwed = false;
      this.metrics.checks.inc();
      this.metrics.checkDurationSeconds.set((performance.now() - started) / 1000);
      if (mode === 'full' && !this.firstFullCheckDone) {
        this.firstFullCheckDone = true;
        const watched = this.containers().filter((t) => !t.excluded).length;
        this.log.info('watching', { containers: this.tracked.size, watched, candidates: candidates.length });
      } else {
        this.log.debug('re-check done', { mode, candidates: candidates.length, ms: Math.round(performance.now() - started) });
      }
      return true;
    } catch (err) {
      // The other listings of a quick re-check are of no use now: stop them (and their buffers).
      run.ctl.abort();
      if (this.stopped) return false;
      if (run.replaced) {
        this.log.debug('re-check abandoned for a fresh one', { mode, error: errorMessage(err) });
        return false;
      }
      this.lastCheckError = err;
      if (mode === 'full') this.fullOwed = true;
      this.log.warn('re-check failed', { mode, error: errorMessage(err), code: codeOf(err) });
      return false;
    }
  }

  /** Refresh everything known from a full listing; containers not listed are gone. */
  private syncAll(all: ContainerSummary[]): void {
    const seen = new Set<string>();
    for (const c of all) seen.add(this.trackSummary(c).name);
    for (const [name, t] of this.tracked) if (!seen.has(name)) this.forget(name, t.id);
    // Restarts left in flight by the previous instance, of containers that are gone by now.
    for (const name of [...this.leftovers]) if (!this.tracked.has(name)) this.journalLeftover(name, null);
  }

  /** A listed container in trouble: evaluate it unless the listing already says nothing can be done. */
  private considerSummary(c: ContainerSummary): void {
    const name = summaryName(c);
    const t = this.tracked.get(name);
    if (!t || t.excluded) return;
    if (c.State === 'paused' || c.State === 'restarting' || c.State === 'removing' || c.State === 'dead') return;
    if (this.budgetOf(name).givenUp) return;
    if (this.wakes.has(name) || this.queued.has(name) || this.serializer.busy(name)) return;
    if (c.State === 'exited') {
      const code = exitCodeFromStatus(c.Status);
      if (code !== null && code !== 137 && isDeliberateExit(code, false)) return;
      if (code !== null && this.settled.get(c.Id) === code) return;
      if (!t.policy.healExited) return;
      if ((c.Labels?.[COMPOSE_ONEOFF_LABEL] ?? '').trim().toLowerCase() === 'true') return;
    }
    this.consider(name, 'recheck');
  }

  // ---- tracking -------------------------------------------------------------------------------

  private inNamespace(name: string): boolean {
    return !this.settings.namespace || name.startsWith(this.settings.namespace);
  }

  private trackSummary(c: ContainerSummary): TrackedContainer {
    const name = summaryName(c);
    const t = this.track(name, c.Id, c.Labels ?? {});
    t.state = c.State;
    t.health = healthFromStatus(c.Status);
    return t;
  }

  private trackInspect(info: ContainerInspect): TrackedContainer {
    const t = this.track(bareName(info.Name), info.Id, info.Config?.Labels ?? {});
    t.state = info.State?.Status ?? t.state;
    t.health = info.State?.Health?.Status ?? null;
    return t;
  }

  private trackFromEvent(name: string, id: string, attrs: Record<string, string>): TrackedContainer {
    const known = this.tracked.get(name);
    if (known && (known.id === id || !id)) return known;
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(attrs)) if (!NON_LABEL_ATTRIBUTES.has(k)) labels[k] = v;
    return this.track(name, id, labels);
  }

  /** Create or refresh a container's record; labels are decoded once per container id. */
  private track(name: string, id: string, labels: Record<string, string>): TrackedContainer {
    const known = this.tracked.get(name);
    if (known && known.id === id && sameLabels(known.labels, labels)) return known;
    const decoded = this.decodeLabels(name, labels, this.settings.defaults);
    const excluded = staticExclusion(name, labels, decoded.policy, {
      namespace: this.settings.namespace,
      isSelf: isSelfContainer(this.self, id),
    });
    const t: TrackedContainer = {
      id,
      name,
      state: known?.state ?? 'unknown',
      health: known?.health ?? null,
      labels,
      policy: decoded.policy,
      problems: decoded.problems,
      excluded,
      deliberate: known && known.id === id ? known.deliberate : null,
    };
    this.tracked.set(name, t);
    if (known && known.id !== id) this.settled.delete(known.id);
    this.reportProblems(t);
    if (this.leftovers.size > 0) this.journalLeftover(name, t);
    return t;
  }

  /** The container is gone (destroyed, not listed, or not found). */
  private forget(name: string, id: string): void {
    const t = this.tracked.get(name);
    const wake = this.wakes.get(name);
    const waiting = wake !== undefined || this.waking.has(name);
    this.tracked.delete(name);
    this.settled.delete(id);
    this.cancelTimers(name);
    this.updateGauges();
    if (t && waiting) this.journalGone(t, wake?.untilMs ?? null);
  }

  /**
   * Removed while a wait before its next restart was in progress: the wait is dropped (nothing is
   * left to restart), and said so. Journaled, not notified (like the wait itself). The budget stays
   * with the name (SPEC 3): a container re-created under it goes on from there.
   */
  private journalGone(t: TrackedContainer, wakeUntilMs: number | null, renamedTo?: string): void {
    const b = this.budgets.get(t.name);
    const wait: 'longer' | 'gap' | 'retry' = b?.longerWaitStartedMs != null ? 'longer' : b?.waitUntilMs != null ? 'gap' : 'retry';
    const untilMs =
      wakeUntilMs ??
      (wait === 'longer' ? b!.longerWaitStartedMs! + t.policy.secondsBetweenNextFrame * 1000 : wait === 'gap' ? b!.waitUntilMs : null);
    const what = wait === 'longer' ? 'its longer wait' : wait === 'gap' ? 'the wait before its next restart' : 'the wait before its next try';
    const when = untilMs === null ? '' : ` (until ${formatWhen(untilMs, this.timeZone)})`;
    if (renamedTo !== undefined) {
      this.log.info('renamed while waiting', { container: t.name, newName: renamedTo, wait, untilMs });
      this.journalAppend(t, {
        kind: 'gone',
        message: `Renamed to ${renamedTo} during ${what}${when}: nothing left to restart under this name; the new name has a budget of its own`,
        details: { wait, untilMs, renamedTo },
      });
      return;
    }
    this.log.info('removed while waiting', { container: t.name, wait, untilMs });
    this.journalAppend(t, { kind: 'gone', message: `Removed during ${what}${when}: nothing left to restart`, details: { wait, untilMs } });
  }

  private cancelTimers(name: string): void {
    const w = this.wakes.get(name);
    if (w) this.clock.clearTimeout(w.handle);
    this.wakes.delete(name);
    this.waking.delete(name);
    const p = this.probes.get(name);
    if (p) this.clock.clearTimeout(p.handle);
    this.probes.delete(name);
  }

  private updateGauges(): void {
    let watched = 0;
    let problems = 0;
    for (const t of this.tracked.values()) {
      if (!t.excluded) watched++;
      problems += t.problems.length;
    }
    this.metrics.watchedContainers.set(watched);
    this.metrics.labelProblems.set(problems);
  }

  /** Bad labels: logged, journaled and notified once per container and value (SPEC 1). */
  private reportProblems(t: TrackedContainer): void {
    for (const p of t.problems) {
      const key = `${t.name}|${p.label}|${p.value}`;
      if (this.reportedProblems.has(key)) continue;
      this.reportedProblems.add(key);
      const what = p.code === 'RM_LABEL_UNKNOWN' ? 'unknown label' : 'invalid label';
      const message = `${what} ${p.label}=${JSON.stringify(p.value)}: expected ${p.expected}; using ${p.fallback}`;
      this.log.warn('label problem', { container: t.name, label: p.label, value: p.value, expected: p.expected, fallback: p.fallback, code: p.code });
      this.journalAppend(t, { kind: 'config_error', message, details: { label: p.label, value: p.value, code: p.code } });
      this.notify(t, 'config_error', { summary: `Configuration error on ${t.name}: ${message}`, reason: `${what} (${p.code})`, dedupeKey: p.label }, null);
    }
    this.updateGauges();
  }

  private isDeliberate(t: TrackedContainer): boolean {
    const d = t.deliberate;
    if (!d) return false;
    if (d.action === 'stop' || d.signal === null || STOPPING_SIGNALS.has(d.signal.toUpperCase())) return true;
    return this.clock.now() - d.atMs <= OTHER_SIGNAL_MARK_MS;
  }

  // ---- deciding -------------------------------------------------------------------------------

  /** Queue an evaluation of one container (coalesced: several triggers make one evaluation). */
  private consider(name: string, trigger: Trigger): void {
    if (this.stopped || this.queued.has(name)) return;
    this.queued.add(name);
    this.track_(this.serializer.run(name, async () => {
      this.queued.delete(name);
      if (this.stopped) return;
      await this.evaluate(name, trigger);
    }));
  }

  private track_(p: Promise<unknown>): void {
    const guarded = p.catch((err: unknown) => {
      if (!this.stopped) this.log.error('unexpected healing failure', { error: errorMessage(err), stack: err instanceof Error ? err.stack : undefined });
    });
    this.inflight.add(guarded);
    void guarded.finally(() => this.inflight.delete(guarded));
  }

  private async inspect(name: string): Promise<ContainerInspect | null | 'failed'> {
    try {
      return await this.engine.inspect(name, { signal: this.abort.signal });
    } catch (err) {
      if (this.stopped) return 'failed';
      if (isRepairmanError(err, 'RM_ENGINE_NOT_FOUND')) return null;
      this.log.warn('could not inspect a container', { container: name, error: errorMessage(err), code: codeOf(err) });
      return 'failed';
    }
  }

  private classifyNow(t: TrackedContainer, info: ContainerInspect): Classification {
    return classify(info, t.policy, {
      namespace: this.settings.namespace,
      isSelf: isSelfContainer(this.self, info.Id),
      deliberateStop: this.isDeliberate(t),
    });
  }

  private async evaluate(name: string, trigger: Trigger): Promise<void> {
    const info = await this.inspect(name);
    if (info === 'failed' || this.stopped) return;
    if (info === null) {
      const t = this.tracked.get(name);
      if (t) this.forget(name, t.id);
      this.waking.delete(name);
      return;
    }
    this.waking.delete(name);
    if (this.actingIds.has(info.Id)) {
      this.log.debug('already being restarted under another name', { container: name, id: info.Id.slice(0, 12), trigger });
      return;
    }
    const inspectedAt = this.clock.now();
    const t = this.trackInspect(info);
    const c = this.classifyNow(t, info);
    if (c.kind === 'none') {
      if (info.State?.Health?.Status === 'healthy') this.recover(t, 'healthy');
      if (info.State?.Status === 'exited') this.settled.set(info.Id, info.State.ExitCode);
      return;
    }
    if (c.kind === 'skip') {
      this.metrics.skips.inc({ reason: c.reason });
      if (info.State?.Status === 'exited') this.settled.set(info.Id, info.State.ExitCode);
      this.log.debug('left alone', { container: name, reason: c.reason, detail: c.detail, trigger });
      return;
    }
    await this.decideAndAct(t, info, c, inspectedAt, trigger);
  }

  private async decideAndAct(
    t: TrackedContainer,
    info: ContainerInspect,
    c: Extract<Classification, { kind: 'unhealthy' | 'crashed' }>,
    inspectedAt: number,
    trigger: Trigger,
  ): Promise<void> {
    const name = t.name;
    const now = this.clock.now();
    const d = decide(this.budgetOf(name), t.policy, now);
    this.setBudget(name, d.state);
    const reason = describeCandidate(c);
    switch (d.kind) {
      case 'given_up':
        this.metrics.skips.inc({ reason: 'given_up' });
        this.log.debug('given up: not touching it', { container: name, reason, trigger });
        return;
      case 'longer_wait':
        this.scheduleWake(name, d.untilMs);
        if (d.startsNow) {
          this.metrics.waits.inc({ kind: 'longer' });
          const when = formatWhen(d.untilMs, this.timeZone);
          const message = `Maximum restarts reached (${d.restartsInFrame} in ${formatDuration(t.policy.frameSizeSec * 1000)}): waiting until ${when}`;
          this.log.warn('maximum restarts reached, waiting longer', { container: name, reason, restartsInFrame: d.restartsInFrame, untilMs: d.untilMs });
          this.journalAppend(t, { kind: 'longer_wait', message, details: { reason, untilMs: d.untilMs, restartsInFrame: d.restartsInFrame } });
          this.notify(t, 'longer_wait', {
            summary: `${name} reached its maximum of ${t.policy.maxRestartsInFrame} restarts in ${formatDuration(t.policy.frameSizeSec * 1000)}; waiting longer`,
            reason,
            next: `next restart not before ${when}`,
            healthOutput: lastHealthOutput(info),
          }, info.Id);
        }
        return;
      case 'wait':
        this.scheduleWake(name, d.untilMs);
        if (d.startsNow) {
          this.metrics.waits.inc({ kind: 'gap' });
          const when = formatWhen(d.untilMs, this.timeZone);
          this.log.info('waiting before the next restart', { container: name, reason, untilMs: d.untilMs });
          this.journalAppend(t, { kind: 'wait', message: `Waiting until ${when} before restarting again (${reason})`, details: { reason, untilMs: d.untilMs } });
        }
        return;
      case 'restart':
        await this.restart(t, info, c, d, inspectedAt);
        return;
    }
  }

  private async restart(
    t0: TrackedContainer,
    info0: ContainerInspect,
    c0: Extract<Classification, { kind: 'unhealthy' | 'crashed' }>,
    d: Extract<Decision, { kind: 'restart' }>,
    inspectedAt: number,
  ): Promise<void> {
    const name = t0.name;
    await this.limiter.run(async () => {
      if (this.stopped) return;
      let t = t0;
      let info = info0;
      let c: Classification = c0;
      // Waiting for a free slot took a while: look again just before acting.
      if (this.clock.now() - inspectedAt > FRESH_INSPECT_MS) {
        const fresh = await this.inspect(name);
        if (fresh === 'failed' || this.stopped) return;
        if (fresh === null) {
          this.log.info('gone before it could be restarted', { container: name });
          return;
        }
        info = fresh;
        t = this.trackInspect(fresh);
        c = this.classifyNow(t, fresh);
      }
      if (c.kind !== 'unhealthy' && c.kind !== 'crashed') {
        this.log.info('no longer needs a restart', { container: name, now: c.kind === 'skip' ? c.detail : c.detail });
        return;
      }
      if (this.actingIds.has(info.Id)) {
        this.log.debug('already being restarted under another name', { container: name, id: info.Id.slice(0, 12) });
        return;
      }
      await this.act(t, info, c, d);
    });
  }

  private async act(
    t: TrackedContainer,
    info: ContainerInspect,
    c: Extract<Classification, { kind: 'unhealthy' | 'crashed' }>,
    d: Extract<Decision, { kind: 'restart' }>,
  ): Promise<void> {
    const name = t.name;
    const policy = t.policy;
    const reason = describeCandidate(c);
    const dryRun = this.settings.dryRun;
    const verb = c.kind === 'unhealthy' ? 'restart' : 'start';
    const giveUpNow = policy.maxChecksToGiveUp > 0 && d.attempt >= policy.maxChecksToGiveUp;
    // Logs go only into notifications that will be sent; they are fetched beside the restart call,
    // never before it, so they never delay the repair.
    const logsWanted =
      this.wouldSend(t, 'restart') || (d.multipleFailures && this.wouldSend(t, 'multiple_failures')) || (giveUpNow && this.wouldSend(t, 'give_up'));
    let logs: Promise<string[] | undefined> | null = null;
    let ok = true;
    let error: unknown = null;
    const startedMs = this.clock.now();
    // The budget before this restart: the outcome below is recorded on it.
    const budgetBefore = this.budgetOf(name);
    let marker: InFlightRestart | null = null;
    if (!dryRun) {
      // Counted (and persisted) before the call: if Repairman dies while the engine restarts the
      // container, the engine finishes the restart without us, and the next instance must still find
      // it in the budget (or a SIGKILL at the wrong moment would reset the budget early). The marker
      // saved with it tells the next instance to journal it (see journalInFlight).
      const counted = recordRestart(budgetBefore, policy, startedMs, true);
      marker = {
        atMs: startedMs,
        verb,
        reason,
        ...(c.kind === 'crashed' ? { exitCode: c.exitCode } : {}),
        attempt: d.attempt,
        multipleFailures: d.multipleFailures,
        gaveUp: counted.gaveUp,
        maxHistoricEntries: policy.maxHistoricEntries,
      };
      this.setBudget(name, { ...counted.state, inFlight: marker });
    }
    // Logged once the marker is saved: a "restarting" line always has its journal entry.
    this.log.info(dryRun ? `dry run: would ${verb}` : `${verb}ing`, { container: name, reason, attempt: d.attempt, stopTimeoutSec: policy.stopTimeoutSec });
    if (marker) {
      this.acting.add(name);
      this.actingIds.add(info.Id);
      try {
        const call =
          c.kind === 'unhealthy'
            ? this.engine.restart(info.Id, { stopTimeoutSec: policy.stopTimeoutSec, signal: this.abort.signal })
            : this.engine.start(info.Id, { signal: this.abort.signal });
        if (logsWanted) logs = this.fetchLogs(info.Id);
        await call;
      } catch (err) {
        ok = false;
        error = err;
      } finally {
        this.acting.delete(name);
        this.actingIds.delete(info.Id);
      }
      if (this.stopped) {
        // Repairman is stopping: the call was abandoned (aborted; the engine finishes the restart) or
        // returned just now. Journal it while the journal is still open (app.ts closes it after
        // healer.stop), with no notification (the notifier is closing) and no timers.
        this.journalInFlight(t, marker, ok ? 'done' : 'stopped', false);
        return;
      }
    } else if (logsWanted) {
      logs = this.fetchLogs(info.Id);
    }
    if (this.stopped) return;
    const now = this.clock.now();
    const r = recordRestart(budgetBefore, policy, now, ok);
    const tookMs = now - startedMs;
    const healthOutput = lastHealthOutput(info);
    // Only notifications say when the next restart may come. Formatting a time in TZ is often an
    // instance's first use of Intl, which maps ICU's data (~7 MB of RSS): skipped when none is sent.
    const notifies = this.wouldSend(t, 'multiple_failures') || this.wouldSend(t, ok ? 'restart' : 'restart_failed');
    const nextGap = notifies ? formatWhen(now + policy.secondsBetweenRestarts * 1000, this.timeZone) : '';
    const msg = ok ? '' : maskUrlsInText(errorMessage(error));

    // The budget (without the marker) and the journal entries in one transaction: a SIGKILL between
    // them would leave a restart either journaled twice or not at all.
    this.atomically(name, () => {
      this.setBudget(name, withoutInFlight(r.state));
      if (d.multipleFailures) {
        this.journalAppend(t, {
          kind: 'multiple_failures',
          message: multipleFailuresMessage(d.attempt, reason),
          details: { reason, attempt: d.attempt },
        });
      }
      if (ok) {
        const message = dryRun ? `Dry run: would have ${verb === 'restart' ? 'restarted' : 'started'} it (${reason})` : `${verb === 'restart' ? 'Restarted' : 'Started'} (${reason})`;
        this.journalAppend(t, { kind: 'restart', message, details: { reason, exitCode: c.kind === 'crashed' ? c.exitCode : undefined, attempt: d.attempt, dryRun } });
      } else {
        this.journalAppend(t, { kind: 'restart_failed', message: `${verb === 'restart' ? 'Restart' : 'Start'} failed (${reason}): ${msg}`, details: { reason, error: msg, code: codeOf(error) } });
      }
      if (r.gaveUp) {
        this.journalAppend(t, { kind: 'give_up', message: giveUpMessage(r.state.streak), details: { reason, streak: r.state.streak } });
      }
    });

    if (d.multipleFailures) {
      this.notify(t, 'multiple_failures', {
        summary: `${name} keeps failing: restart ${d.attempt} in a row without recovery`,
        reason,
        next: r.gaveUp ? 'no more restarts: given up' : `restarted again${dryRun ? ' (dry run)' : ''}; the next restart, if needed, not before ${nextGap}`,
        healthOutput,
      }, logs);
    }
    if (ok) {
      this.metrics.restarts.inc({ reason: c.kind });
      this.log.info(dryRun ? 'dry run: not restarted' : verb === 'restart' ? 'restarted' : 'started', { container: name, reason, attempt: d.attempt, ms: tookMs });
      this.notify(t, 'restart', {
        summary: dryRun ? `Dry run: ${name} would have been ${verb === 'restart' ? 'restarted' : 'started'}` : `${name} was ${verb === 'restart' ? 'restarted' : 'started again'}`,
        reason,
        next: r.gaveUp ? 'no more restarts: given up' : `watching it; the next restart, if needed, not before ${nextGap}`,
        healthOutput,
      }, logs);
      if (!dryRun && !info.State?.Health) this.scheduleProbe(name, now + policy.frameSizeSec * 1000);
    } else {
      this.metrics.restartFailures.inc();
      this.log.warn(`${verb} failed`, { container: name, reason, error: msg, code: codeOf(error) });
      this.notify(t, 'restart_failed', {
        summary: `${name} could not be ${verb === 'restart' ? 'restarted' : 'started'}: ${msg}`,
        reason,
        next: r.gaveUp ? 'no more restarts: given up' : `another try not before ${nextGap}`,
        healthOutput,
      }, logs ?? (this.wouldSend(t, 'restart_failed') ? this.fetchLogs(info.Id) : null));
    }
    // No engine event will follow a dry run or a failed call: look again when the gap is over.
    if ((dryRun || !ok) && !r.gaveUp) this.scheduleWake(name, now + Math.max(MIN_RELOOK_MS, policy.secondsBetweenRestarts * 1000));
    if (r.gaveUp) {
      this.metrics.giveUps.inc();
      this.log.warn('gave up', { container: name, reason, streak: r.state.streak });
      this.notify(t, 'give_up', {
        summary: `${name}: ${giveUpMessage(r.state.streak)}`,
        reason,
        next: `nothing until it is healthy again or someone runs \`repairman reset ${name}\``,
        healthOutput,
      }, logs);
    }
  }

  /**
   * The journal entries of a restart whose end Repairman did not handle as usual, from its marker
   * (BudgetState.inFlight): the same entries a restart gets (multiple failures, the restart, a
   * give-up), written in one transaction with the budget that drops the marker, so each restart is
   * journaled exactly once. `how`:
   * - 'done': the call returned while Repairman was stopping;
   * - 'stopped': abandoned at SIGTERM (the aborted call; the engine finishes the restart);
   * - 'killed': a marker left by an instance that ended during the call without recording it (a
   *   SIGKILL, an OOM kill, a power cut; or a SIGTERM whose journaling failed), found at this start.
   *   Notified like a restart would have been when `notify` (never while stopping).
   * When the transaction fails the marker stays, and the next start journals it.
   */
  private journalInFlight(t: TrackedContainer, m: InFlightRestart, how: 'done' | 'stopped' | 'killed', notify: boolean): void {
    const name = t.name;
    const Verb = m.verb === 'restart' ? 'Restart' : 'Start';
    const message =
      how === 'done'
        ? `${m.verb === 'restart' ? 'Restarted' : 'Started'} (${m.reason}), as Repairman stopped`
        : how === 'stopped'
          ? `${Verb} requested (${m.reason}) and handed to the engine when Repairman stopped; the engine finishes it`
          : `${Verb} requested (${m.reason}) before Repairman was stopped or killed; left to the engine to finish`;
    const base = { reason: m.reason, attempt: m.attempt };
    const entries: Omit<JournalEntryInput, 'container' | 'atMs'>[] = [];
    if (m.multipleFailures) {
      entries.push({ kind: 'multiple_failures', message: multipleFailuresMessage(m.attempt, m.reason), details: base });
    }
    entries.push({
      kind: 'restart',
      message,
      details: { ...base, exitCode: m.exitCode, interrupted: how === 'done' ? undefined : how, requestedAtMs: m.atMs },
    });
    if (m.gaveUp) entries.push({ kind: 'give_up', message: giveUpMessage(m.attempt), details: { reason: m.reason, streak: m.attempt } });
    const before = this.budgets.get(name);
    const after = before?.inFlight?.atMs === m.atMs ? withoutInFlight(before) : before;
    const max = t.id ? t.policy.maxHistoricEntries : m.maxHistoricEntries;
    const written = this.atomically(name, () => {
      for (const e of entries) this.journal.append({ container: name, atMs: m.atMs, ...e }, max);
      if (after && after !== before) this.journal.saveBudget(name, after);
    });
    if (!written) return;
    if (after && after !== before) this.budgets.set(name, after);
    if (how === 'killed') this.log.info('restart journaled from before this start', { container: name, reason: m.reason, requestedAtMs: m.atMs, gaveUp: m.gaveUp });
    else if (how === 'stopped') this.log.info(`${m.verb} left to the engine`, { container: name, reason: m.reason });
    if (!notify) return;
    const when = formatWhen(m.atMs, this.timeZone);
    const next = m.gaveUp ? 'no more restarts: given up' : 'watching it again';
    if (m.multipleFailures) {
      this.notify(t, 'multiple_failures', { summary: `${name} keeps failing: restart ${m.attempt} in a row without recovery`, reason: m.reason, next, atMs: m.atMs }, null);
    }
    this.notify(t, 'restart', { summary: `${name}: ${Verb.toLowerCase()} requested at ${when}, before Repairman stopped; left to the engine to finish`, reason: m.reason, next, atMs: m.atMs }, null);
    if (m.gaveUp) {
      this.notify(t, 'give_up', {
        summary: `${name}: ${giveUpMessage(m.attempt)}`,
        reason: m.reason,
        next: `nothing until it is healthy again or someone runs \`repairman reset ${name}\``,
        atMs: m.atMs,
      }, null);
    }
  }

  /** A marker left by the previous instance: journal it once the container's labels are known. */
  private journalLeftover(name: string, t: TrackedContainer | null): void {
    if (!this.leftovers.delete(name)) return;
    const m = this.budgets.get(name)?.inFlight;
    if (!m) return;
    this.journalInFlight(t ?? this.untracked(name), m, 'killed', true);
  }

  /** A stand-in for a container no longer there (its global policy; id '' marks it). */
  private untracked(name: string): TrackedContainer {
    return { id: '', name, state: 'unknown', health: null, labels: {}, policy: this.settings.defaults, problems: [], excluded: null, deliberate: null };
  }

  /**
   * Runs journal writes in one transaction when the journal can (the app's can). False, with the
   * error logged, when it failed: then none of its writes happened.
   */
  private atomically(name: string, fn: () => void): boolean {
    try {
      if (this.journal.batch) this.journal.batch(fn);
      else fn();
      return true;
    } catch (err) {
      this.log.error('could not write the journal', { container: name, error: errorMessage(err) });
      return false;
    }
  }

  // ---- recovery -------------------------------------------------------------------------------

  private inTrouble(name: string): boolean {
    const b = this.budgets.get(name);
    return Boolean(b && (b.streak > 0 || b.givenUp || b.waitUntilMs !== null || b.longerWaitStartedMs !== null));
  }

  private someHealthcheckInTrouble(): boolean {
    for (const name of this.budgets.keys()) {
      const t = this.tracked.get(name);
      if (t && t.health !== null && this.inTrouble(name)) return true;
    }
    return false;
  }

  private queueRecovery(name: string, how: 'healthy' | 'ran_whole_frame'): void {
    if (this.stopped || !this.inTrouble(name)) return;
    this.track_(this.serializer.run(name, async () => {
      const t = this.tracked.get(name);
      if (t && !this.stopped) this.recover(t, how);
    }));
  }

  private recover(t: TrackedContainer, how: 'healthy' | 'ran_whole_frame'): void {
    const name = t.name;
    const before = this.budgets.get(name);
    if (!before) return;
    const r = recordRecovery(before, this.clock.now());
    if (r.state === before) return;
    this.setBudget(name, r.state);
    this.cancelTimers(name);
    this.metrics.recoveries.inc();
    const why = how === 'healthy' ? 'healthy again' : `running for a whole frame (${formatDuration(t.policy.frameSizeSec * 1000)})`;
    this.log.info('recovered', { container: name, how, wasLimited: r.wasLimited, streak: before.streak });
    this.journalAppend(t, { kind: 'recovered', message: `Recovered: ${why}`, details: { how, wasLimited: r.wasLimited, streak: before.streak } });
    if (r.wasLimited) {
      this.notify(t, 'recovered', {
        summary: `${name} is healthy again`,
        reason: why,
        next: before.givenUp ? 'watching it again (it had been given up)' : 'watching it as usual; its restart budget is restored',
      }, null);
    }
  }

  /** Containers without a healthcheck recover after running a whole frame: look when it should end. */
  private scheduleProbe(name: string, atMs: number): void {
    const p = this.probes.get(name);
    if (p) this.clock.clearTimeout(p.handle);
    const handle = this.clock.setTimeout(() => {
      this.probes.delete(name);
      if (this.stopped || !this.inTrouble(name)) return;
      this.track_(this.serializer.run(name, () => this.probe(name)));
    }, clampDelay(atMs - this.clock.now() + TIMER_SLACK_MS));
    this.probes.set(name, { handle, atMs });
  }

  private async probe(name: string): Promise<void> {
    if (this.stopped) return;
    const info = await this.inspect(name);
    if (info === 'failed' || info === null || this.stopped) return;
    const t = this.trackInspect(info);
    if (info.State?.Health || info.State?.Status !== 'running') return; // a healthcheck or an exit decides
    const startedMs = Date.parse(info.State.StartedAt);
    const frameMs = t.policy.frameSizeSec * 1000;
    const now = this.clock.now();
    if (!Number.isFinite(startedMs) || now - startedMs >= frameMs - 1000) this.recover(t, 'ran_whole_frame');
    else this.scheduleProbe(name, startedMs + frameMs);
  }

  /** After a full listing: containers in trouble without a healthcheck and without a probe get one. */
  private scheduleMissingProbes(): void {
    for (const name of this.budgets.keys()) {
      const t = this.tracked.get(name);
      if (!t || t.health !== null || t.state !== 'running' || this.probes.has(name) || !this.inTrouble(name)) continue;
      if (this.budgetOf(name).givenUp) continue;
      this.scheduleProbe(name, this.clock.now());
    }
  }

  // ---- timers, budget, reset ------------------------------------------------------------------

  private scheduleWake(name: string, untilMs: number): void {
    const w = this.wakes.get(name);
    if (w && w.untilMs === untilMs) return;
    if (w) this.clock.clearTimeout(w.handle);
    const handle = this.clock.setTimeout(() => {
      this.wakes.delete(name);
      this.waking.add(name);
      this.consider(name, 'timer');
    }, clampDelay(untilMs - this.clock.now() + TIMER_SLACK_MS));
    this.wakes.set(name, { handle, untilMs });
  }

  private setBudget(name: string, state: BudgetState): void {
    if (this.budgets.get(name) === state) return;
    this.budgets.set(name, state);
    if (this.stopped) return;
    try {
      this.journal.saveBudget(name, state);
    } catch (err) {
      this.log.error('could not save the restart budget', { container: name, error: errorMessage(err) });
    }
  }

  /**
   * `repairman reset NAME` (seen in the journal, or asked directly): a clean budget, no waits; if the
   * container is still in trouble it is looked at again at once.
   */
  applyReset(name: string): void {
    if (this.stopped) return;
    this.track_(this.serializer.run(name, async () => {
      // The reset removed the stored budget; a save of ours may have slipped in since: remove again.
      this.budgets.delete(name);
      try {
        this.journal.deleteBudget(name);
      } catch (err) {
        this.log.warn('could not delete the restart budget', { container: name, error: errorMessage(err) });
      }
      this.cancelTimers(name);
      this.log.info('restart budget reset', { container: name });
    }));
    this.consider(name, 'reset');
  }

  // ---- notifications and journal ----------------------------------------------------------------

  private wouldSend(t: TrackedContainer, kind: JournalKind): boolean {
    return t.policy.notifyUrls.length > 0 && shouldSend(severityOf(kind), t.policy.notifyLevel);
  }

  private fetchLogs(id: string): Promise<string[] | undefined> {
    // Not AbortSignal.any([this.abort.signal, AbortSignal.timeout(...)]): on Node 20 each composite
    // leaves an entry in the long-lived stop signal's set of dependants that is never pruned
    // (nodejs/node#55351), one per notification for as long as Repairman runs. A controller of its
    // own, unhooked from the stop signal when the call ends, leaves nothing behind.
    const stopSignal = this.abort.signal;
    const ctl = new AbortController();
    const onStop = (): void => ctl.abort(stopSignal.reason);
    const timer = setTimeout(() => ctl.abort(new DOMException('The container log took too long', 'TimeoutError')), LOGS_TIMEOUT_MS);
    timer.unref();
    if (stopSignal.aborted) onStop();
    else stopSignal.addEventListener('abort', onStop, { once: true });
    return this.engine.logs(id, { tail: 10, signal: ctl.signal }).then(
      (r) => trimLogLines(r.lines.map((l) => l.text)),
      (err: unknown) => {
        this.log.debug('could not read the container log for a notification', { id: id.slice(0, 12), error: errorMessage(err) });
        return undefined;
      },
    ).finally(() => {
      clearTimeout(timer);
      stopSignal.removeEventListener('abort', onStop);
    });
  }

  /**
   * Send a notification when the container's level lets it through. `logs`: a fetch already under
   * way, a container id to fetch them now, or null for none.
   */
  private notify(
    t: TrackedContainer,
    kind: JournalKind,
    fields: Pick<NotifyEvent, 'summary'> & Partial<Pick<NotifyEvent, 'reason' | 'next' | 'healthOutput' | 'dedupeKey' | 'atMs'>>,
    logs: Promise<string[] | undefined> | string | null,
  ): void {
    if (this.stopped || !this.wouldSend(t, kind)) return;
    const base: NotifyEvent = {
      kind,
      severity: severityOf(kind),
      container: t.name,
      host: this.host,
      atMs: this.clock.now(),
      urls: t.policy.notifyUrls,
      level: t.policy.notifyLevel,
      ...fields,
    };
    if (logs === null) {
      this.notifier.send(base);
      return;
    }
    const lines = typeof logs === 'string' ? this.fetchLogs(logs) : logs;
    this.track_(lines.then((logLines) => {
      if (!this.stopped) this.notifier.send(logLines && logLines.length ? { ...base, logLines } : base);
    }));
  }

  private journalAppend(t: TrackedContainer, e: Omit<JournalEntryInput, 'container' | 'atMs'>): void {
    if (this.stopped) return;
    try {
      this.journal.append({ container: t.name, atMs: this.clock.now(), ...e }, t.policy.maxHistoricEntries);
    } catch (err) {
      this.log.error('could not write the journal', { container: t.name, kind: e.kind, error: errorMessage(err) });
    }
  }

  // ---- stopping -------------------------------------------------------------------------------

  /**
   * Stop: clear every timer, abort engine calls, and wait for in-flight work up to graceMs (then
   * abandon it: an aborted restart is the engine's to finish).
   */
  async stop(graceMs = 500): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const name of [...this.wakes.keys(), ...this.probes.keys()]) this.cancelTimers(name);
    this.abort.abort();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inflight]),
      new Promise<void>((r) => {
        timer = setTimeout(r, graceMs);
      }),
    ]);
    if (timer) clearTimeout(timer);
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** For the state view: the budget as people read it. */
  budgetViewOf(name: string, nowMs: number): ReturnType<typeof budgetView> {
    return budgetView(this.budgetOf(name), this.policyOf(name), nowMs);
  }
}

function splitAction(action: string): [string, string | undefined] {
  const i = action.indexOf(':');
  if (i < 0) return [action.trim(), undefined];
  return [action.slice(0, i).trim(), action.slice(i + 1).trim()];
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (a[k] !== b[k]) return false;
  return true;
}

function clampDelay(ms: number): number {
  return Math.min(MAX_TIMER_MS, Math.max(0, Math.ceil(ms)));
}

/** RE2 (the engine's regexp) escaping for a literal prefix. */
export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function multipleFailuresMessage(attempt: number, reason: string): string {
  return `Multiple restart failures: restart ${attempt} in a row without recovery (${reason})`;
}

function giveUpMessage(streak: number): string {
  return `Admin, help: not touching this container any more (${streak} restarts in a row without recovery)`;
}

/** The state without its in-flight marker (the same object when it has none). */
function withoutInFlight(state: BudgetState): BudgetState {
  if (state.inFlight === undefined) return state;
  const { inFlight: _done, ...rest } = state;
  return rest;
}

function codeOf(err: unknown): string | undefined {
  return isRepairmanError(err) ? err.code : undefined;
}

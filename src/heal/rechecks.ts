// Re-checks: listing the engine's containers to catch what events missed. 'full' (at start and after a
// reconnect) lists them all and refreshes what is known; 'quick' (every --interval) lists only the
// unhealthy and the exited. Either way a constant number of API calls plus one inspect per container
// that needs a decision (made by the healer, through `consider`).
import type { ContainerSummary, Filters } from '../docker/types.js';
import { FULL_LISTING_TIMEOUT_MS } from '../docker/engine-call.js';
import { errorMessage, isRepairmanError } from '../errors.js';
import type { BudgetBook } from './budget-book.js';
import { COMPOSE_ONEOFF_LABEL, exitAgeAtLeastSec, exitCodeFromStatus, healthFromStatus, isDeliberateExit, summaryName } from './classify.js';
import { errorCode, type HealContext, type Trigger } from './context.js';
import type { InterruptedRestarts } from './interrupted-restarts.js';
import type { Recovery } from './recovery.js';
import type { HealTimers } from './timers.js';
import type { ContainerTracker } from './tracking.js';

export type RecheckMode = 'full' | 'quick';

/** One re-check (see Rechecks.request()). */
interface CheckRun {
  mode: RecheckMode;
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

export interface RecheckHooks {
  /** Queue an evaluation of one container. */
  consider(name: string, trigger: Trigger): void;
  /** An evaluation of it is queued and not started yet. */
  isQueued(name: string): boolean;
  /** Every container the full re-check listed (the dependency graph is rebuilt from it). */
  listedAll?(all: ContainerSummary[]): void;
}

export class Rechecks {
  /** The re-check running now: one at a time (see request()). */
  private running: CheckRun | null = null;
  /** A full re-check asked for while another ran: it starts once that one is over. */
  private fullNext: Promise<boolean> | null = null;
  /** The last full re-check failed: the next re-check lists everything. */
  private fullOwed = false;
  private firstFullCheckDone = false;
  /** UTC ms of the end of the last successful re-check (for /healthz). */
  lastFullCheckMs: number | null = null;
  /** The last re-check's failure (null when it succeeded). */
  lastCheckError: unknown = null;

  constructor(
    private readonly ctx: HealContext,
    private readonly tracker: ContainerTracker,
    private readonly budgets: BudgetBook,
    private readonly timers: HealTimers,
    private readonly recovery: Recovery,
    private readonly interrupted: InterruptedRestarts,
    private readonly hooks: RecheckHooks,
  ) {}

  /** See Healer.recheck(). */
  request(mode: RecheckMode, opts: { fresh?: boolean } = {}): Promise<boolean> {
    if (this.ctx.work.stopped) return Promise.resolve(false);
    const cur = this.running;
    if (this.fullNext) return this.fullNext;
    if (!cur) return this.start(mode, false);
    if (opts.fresh && !cur.fresh) {
      cur.replaced = true;
      cur.ctl.abort();
      const fresh = this.start(mode === 'full' || cur.mode === 'full' ? 'full' : 'quick', true);
      cur.replacement = fresh;
      return fresh;
    }
    if (mode === 'quick') return cur.result;
    const next = cur.result.then(() => {
      this.fullNext = null;
      return this.request('full');
    });
    this.fullNext = next;
    return next;
  }

  /** The re-check running now: since when, and whether `fresh` may abandon it. */
  get inFlight(): { sinceMs: number; mode: RecheckMode; abandonable: boolean } | null {
    const c = this.running;
    return c ? { sinceMs: c.startedMs, mode: c.mode, abandonable: !c.fresh && !this.fullNext } : null;
  }

  private start(asked: RecheckMode, fresh: boolean): Promise<boolean> {
    const mode = this.fullOwed ? 'full' : asked;
    const ctl = new AbortController();
    const onStop = (): void => ctl.abort();
    const stopSignal = this.ctx.work.signal;
    stopSignal.addEventListener('abort', onStop, { once: true });
    const run: CheckRun = { mode, startedMs: this.ctx.clock.now(), ctl, fresh, replaced: false, replacement: null, result: Promise.resolve(false) };
    this.running = run;
    run.result = this.run(run).then((ok) => {
      stopSignal.removeEventListener('abort', onStop);
      if (this.running === run) this.running = null;
      return run.replaced && run.replacement ? run.replacement : ok;
    });
    return run.result;
  }

  /** A --namespace matching nothing watches nothing without a word: said once, with what the engine has. */
  private async warnEmptyNamespace(signal: AbortSignal): Promise<void> {
    const namespace = this.ctx.settings.namespace;
    const total = await this.ctx.engine.listContainers({ all: true, signal }).then((all) => all.length, () => null);
    if (total === null) return;
    this.ctx.log.warn(
      `namespace "${namespace}" matches no container: the engine has ${total} container${total === 1 ? '' : 's'}, none whose name starts with "${namespace}"; a Compose project "app" names its containers app-web-1 (or app_web_1)`,
      { namespace, engineContainers: total },
    );
  }

  private namespaceFilter(): Filters {
    const ns = this.ctx.settings.namespace;
    return ns ? { name: [`^/${escapeRegex(ns)}`] } : {};
  }

  private async run(run: CheckRun): Promise<boolean> {
    const { mode } = run;
    const { engine, log, metrics } = this.ctx;
    const started = performance.now();
    const signal = run.ctl.signal;
    const ns = this.namespaceFilter();
    try {
      let candidates: ContainerSummary[];
      let healthy: ContainerSummary[] = [];
      if (mode === 'full') {
        const all = await engine.listContainers({ all: true, filters: ns, signal, timeoutMs: FULL_LISTING_TIMEOUT_MS });
        this.syncAll(all);
        this.hooks.listedAll?.(all);
        candidates = all.filter((c) => c.State === 'exited' || healthFromStatus(c.Status) === 'unhealthy');
        healthy = all.filter((c) => healthFromStatus(c.Status) === 'healthy');
        // Podman's listing says no health: its unhealthy and healthy ones are asked for by filter.
        if (all.some((c) => c.HealthUnknown)) {
          const [unhealthy, healthyList] = await Promise.all([
            engine.listContainers({ all: true, filters: { ...ns, health: ['unhealthy'] }, signal }),
            engine.listContainers({ all: true, filters: { ...ns, health: ['healthy'] }, signal }),
          ]);
          candidates.push(...unhealthy);
          healthy = healthyList;
        }
      } else {
        // A healthy listing is only needed to notice recoveries missed (event stream gaps).
        const wantHealthy = this.recovery.someHealthcheckInTrouble();
        const [unhealthy, exited, healthyList] = await Promise.all([
          engine.listContainers({ all: true, filters: { ...ns, health: ['unhealthy'] }, signal }),
          engine.listContainers({ all: true, filters: { ...ns, status: ['exited'] }, signal }),
          wantHealthy ? engine.listContainers({ all: true, filters: { ...ns, health: ['healthy'] }, signal }) : Promise.resolve([]),
        ]);
        for (const c of [...unhealthy, ...exited, ...healthyList]) this.tracker.fromSummary(c);
        candidates = [...unhealthy, ...exited];
        healthy = healthyList;
      }
      for (const c of candidates) this.considerSummary(c);
      for (const c of healthy) {
        const name = summaryName(c);
        if (this.budgets.inTrouble(name)) this.recovery.queue(name, 'healthy');
      }
      if (mode === 'full') this.recovery.scheduleMissingProbes();
      this.tracker.updateGauges();
      this.lastFullCheckMs = this.ctx.clock.now();
      this.lastCheckError = null;
      if (mode === 'full') this.fullOwed = false;
      metrics.checks.inc();
      metrics.checkDurationSeconds.set((performance.now() - started) / 1000);
      if (mode === 'full' && !this.firstFullCheckDone) {
        this.firstFullCheckDone = true;
        const watched = this.tracker.all().filter((t) => !t.excluded).length;
        log.info('watching', { containers: this.tracker.size, watched, candidates: candidates.length });
        // Not awaited: the count is for people and must not hold the check up.
        if (this.tracker.size === 0 && this.ctx.settings.namespace) void this.warnEmptyNamespace(signal);
      } else {
        log.debug('re-check done', { mode, candidates: candidates.length, ms: Math.round(performance.now() - started) });
      }
      return true;
    } catch (err) {
      // The other listings of a quick re-check are of no use now: stop them (and their buffers).
      run.ctl.abort();
      if (this.ctx.work.stopped) return false;
      if (run.replaced) {
        log.debug('re-check abandoned for a fresh one', { mode, error: errorMessage(err) });
        return false;
      }
      this.lastCheckError = err;
      if (mode === 'full') this.fullOwed = true;
      // A call a socket proxy refuses was said once already (the client's report), not every interval.
      log[isRepairmanError(err, 'RM_ENGINE_REFUSED') ? 'debug' : 'warn']('re-check failed', { mode, error: errorMessage(err), code: errorCode(err) });
      return false;
    }
  }

  /** Refresh everything known from a full listing; containers not listed are gone. */
  private syncAll(all: ContainerSummary[]): void {
    const seen = new Set<string>();
    for (const c of all) seen.add(this.tracker.fromSummary(c).name);
    for (const t of this.tracker.all()) if (!seen.has(t.name)) this.tracker.forget(t.name, t.id);
    this.tracker.dropKeptStopsExcept(seen);
    // Restarts left in flight by the previous instance, of containers that are gone by now.
    this.interrupted.journalGoneLeftovers((name) => this.tracker.has(name));
  }

  /** A listed container in trouble: evaluate it unless the listing already says nothing can be done. */
  private considerSummary(c: ContainerSummary): void {
    const name = summaryName(c);
    const t = this.tracker.get(name);
    if (!t || t.excluded) return;
    if (c.State === 'paused' || c.State === 'restarting' || c.State === 'removing' || c.State === 'dead') return;
    if (this.budgets.of(name).givenUp) return;
    if (this.timers.hasWake(name) || this.hooks.isQueued(name) || this.ctx.serializer.busy(name)) return;
    if (c.State === 'exited') {
      const code = exitCodeFromStatus(c.Status);
      if (code !== null && code !== 137 && isDeliberateExit(code, false)) return;
      if (code !== null && this.tracker.settledExitCode(c.Id) === code) return;
      if (!t.policy.healExited) return;
      if ((c.Labels?.[COMPOSE_ONEOFF_LABEL] ?? '').trim().toLowerCase() === 'true') return;
      // Stopped before crashes count (the listing's age never overstates): no inspect needed. A CI
      // host keeps thousands of these; each would otherwise cost an inspect per re-check.
      const age = t.sawAlive ? null : exitAgeAtLeastSec(c.Status);
      if (age !== null && this.ctx.clock.now() - age * 1000 < this.ctx.crashesCountFromMs) return;
    }
    this.hooks.consider(name, 'recheck');
  }
}

/** RE2 (the engine's regexp) escaping for a literal prefix. */
export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// Dependents (docs/behaviour.md §10), the effects: keeps the dependency graph current (the listing of every full
// re-check, then create, destroy, rename and start events), and when a provider starts (restarted by
// Repairman, by its restart policy or by a person) waits until it runs (and is healthy, if it has a
// health check; at most stop_timeout + 60 s), then restarts, starts or recreates its dependents in
// dependency order, each under its own budget, one action at a time per container, journaled and
// notified. The graph and the order are pure (graph.ts); so is the recreate request (recreate-spec.ts).
import { decide, recordRestart } from '../../budget/budget.js';
import type { ContainerInspect, ContainerRecreator, ContainerSummary, DockerEvent } from '../../docker/types.js';
import { errorMessage } from '../../errors.js';
import type { BudgetBook } from '../budget-book.js';
import { bareName } from '../classify.js';
import { errorCode, inspectContainer, type HealContext } from '../context.js';
import type { HealOutcome } from '../outcomes.js';
import type { Recovery } from '../recovery.js';
import type { OutcomeReporter } from '../reporter.js';
import type { ContainerTracker, TrackedContainer } from '../tracking.js';
import {
  COMPOSE_DEPENDS_ON_LABEL,
  dependencyView,
  dependentsInOrder,
  DEPENDS_ON_LABEL,
  networkProviderRef,
  type DependencyGraph,
  type DependencyView,
  type OrderedDependent,
} from './graph.js';
import { KnownGraph } from './known-graph.js';
import { keptName, recreateRequest, type InspectForCreate } from './recreate-spec.js';

/** How often a provider is looked at while waiting for it (events wake the wait earlier). */
const READY_POLL_MS = 200;
/** Beyond the provider's stop_timeout, the longest wait for it to run and be healthy. */
const READY_EXTRA_MS = 60_000;
/** A recreated dependent must still run this long after its start to count as running. */
const NEW_RUNS_CHECK_MS = 500;

type Ready = { running: boolean; healthy: boolean | null; info: ContainerInspect | null };

export interface DependentsOptions {
  ctx: HealContext;
  tracker: ContainerTracker;
  budgets: BudgetBook;
  reporter: OutcomeReporter;
  recovery: Pick<Recovery, 'scheduleProbe'>;
  /** Absent: dependents are restarted but never recreated (logged). */
  recreator?: ContainerRecreator;
}

export class Dependents {
  private readonly known = new KnownGraph((graph) => this.reportCycles(graph));
  /** Cycles already reported (sorted names joined). */
  private readonly reportedCycles = new Set<string>();
  /** Providers whose dependents are being handled; `again`: it started once more meanwhile. */
  private readonly cascades = new Map<string, { again: boolean }>();
  /** Containers (names and ids) Repairman is restarting or recreating as dependents right now. */
  private readonly actingNames = new Set<string>();
  private readonly actingIds = new Set<string>();
  /** Waits for a provider, woken by its events. */
  private readonly wakers = new Map<string, Set<() => void>>();

  constructor(private readonly o: DependentsOptions) {}

  private get ctx(): HealContext {
    return this.o.ctx;
  }

  isActingOn(name: string): boolean {
    return this.actingNames.has(name);
  }

  isActingOnId(id: string): boolean {
    return this.actingIds.has(id);
  }

  graph(): DependencyGraph {
    return this.known.graph();
  }

  /** A container's providers and dependents (status page, `status`, the JSON API, `explain`). */
  viewOf(name: string): DependencyView {
    return dependencyView(this.graph(), name);
  }

  // ---- keeping the graph current ----------------------------------------------------------------

  /** Rebuild the graph from the full re-check's listing (no call of its own). */
  replaceAll(list: readonly ContainerSummary[]): void {
    this.known.replaceAll(list);
  }

  /** Every container event (before the healer's namespace filter: a provider may be anyone). Never throws. */
  onEvent(ev: DockerEvent): void {
    if (this.ctx.work.stopped) return;
    const id = ev.Actor?.ID ?? '';
    const attrs = ev.Actor?.Attributes ?? {};
    const name = bareName(attrs.name ?? '');
    const verb = (ev.Action ?? '').split(':')[0]!.trim();
    switch (verb) {
      case 'create':
        this.ctx.work.add(this.learnNode(id, name, attrs));
        return;
      case 'destroy':
        this.known.removed(id, name);
        return;
      case 'rename':
        this.known.renamed(id, name);
        return;
      case 'start':
        this.wake(name);
        this.ctx.work.add(this.onStart(id, name, attrs));
        return;
      case 'health_status':
      case 'die':
        this.wake(name);
        return;
      default:
        return;
    }
  }

  private async inspectNode(id: string): Promise<ContainerInspect | null> {
    if (!id) return null;
    const info = await inspectContainer(this.ctx, id);
    if (info === null || info === 'failed') return null;
    this.known.fromInspect(info);
    return info;
  }

  /**
   * A container created or started: inspected when it is in the namespace (it may be a dependent:
   * its network mode matters). One outside is only ever a provider, known by its id, name and the
   * labels the event carries: a busy CI host's churn outside the namespace costs no inspects.
   */
  private async learnNode(id: string, name: string, attrs: Record<string, string>): Promise<void> {
    if (!name || this.o.tracker.inNamespace(name)) {
      await this.inspectNode(id);
      return;
    }
    this.known.fromEvent(id, name, attrs);
  }

  private async onStart(id: string, name: string, attrs: Record<string, string>): Promise<void> {
    await this.learnNode(id, name, attrs);
    // A start Repairman caused as part of a cascade: that cascade already covers its dependents.
    if (this.actingIds.has(id) || !name || this.ctx.work.stopped) return;
    if (dependentsInOrder(this.graph(), name).length === 0) return;
    this.cascade(name);
  }

  // ---- acting -------------------------------------------------------------------------------

  /** Handle the provider's dependents; a start during a cascade runs it once more afterwards. */
  private cascade(provider: string): void {
    const running = this.cascades.get(provider);
    if (running) {
      running.again = true;
      return;
    }
    const state = { again: false };
    this.cascades.set(provider, state);
    this.ctx.work.add((async () => {
      try {
        do {
          state.again = false;
          await this.runCascade(provider);
        } while (state.again && !this.ctx.work.stopped);
      } finally {
        this.cascades.delete(provider);
      }
    })());
  }

  private async runCascade(provider: string): Promise<void> {
    const providerPolicy = this.o.tracker.get(provider)?.policy ?? this.ctx.settings.defaults;
    const boundMs = providerPolicy.stopTimeoutSec * 1000 + READY_EXTRA_MS;
    const first = await this.waitReady(provider, boundMs);
    if (this.ctx.work.stopped) return;
    if (!first.running) {
      this.ctx.log.warn('provider not running: its dependents are left as they are', { container: provider, waitedMs: boundMs });
      return;
    }
    if (first.healthy === false) this.ctx.log.warn('provider not healthy in time: restarting its dependents anyway (they need its new namespace)', { container: provider, waitedMs: boundMs });
    const order = dependentsInOrder(this.graph(), provider);
    this.ctx.log.info('restarting dependents', { container: provider, dependents: order.map((d) => d.name) });
    const startedAt = new Map<string, ContainerInspect>([[provider, first.info!]]);
    for (const step of order) {
      if (this.ctx.work.stopped) return;
      // Providers inside this chain must run (and be healthy) first; each wait bounded the same way.
      let ok = true;
      for (const e of step.via) {
        if (e.provider === provider || startedAt.has(e.provider)) {
          if (e.provider !== provider) {
            const r = await this.waitReady(e.provider, boundMs);
            if (!r.running) ok = false;
            else if (r.info) startedAt.set(e.provider, r.info);
          }
          continue;
        }
      }
      if (!ok) {
        this.ctx.log.warn('a provider in the chain is not running: dependent left as it is', { container: step.name, provider });
        continue;
      }
      const done = await this.actOn(step, provider, startedAt);
      if (done) startedAt.set(step.name, done);
    }
  }

  /** Wait until the container runs and, with a health check, is healthy (or timeoutMs passes). */
  private async waitReady(name: string, timeoutMs: number): Promise<Ready> {
    const until = this.ctx.clock.now() + timeoutMs;
    let last: Ready = { running: false, healthy: null, info: null };
    while (!this.ctx.work.stopped) {
      const info = await inspectContainer(this.ctx, name);
      if (info && info !== 'failed') {
        const health = info.State?.Health?.Status;
        last = { running: info.State?.Running === true && info.State?.Restarting !== true, healthy: health === undefined || health === 'none' ? null : health === 'healthy', info };
        if (last.running && last.healthy !== false) return last;
      }
      if (this.ctx.clock.now() >= until) return last;
      await this.sleep(name, Math.min(READY_POLL_MS, Math.max(0, until - this.ctx.clock.now())));
    }
    return last;
  }

  private sleep(name: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wakers = this.wakers.get(name) ?? this.wakers.set(name, new Set()).get(name)!;
      const done = (): void => {
        this.ctx.clock.clearTimeout(timer);
        wakers.delete(done);
        if (wakers.size === 0) this.wakers.delete(name);
        this.ctx.work.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = this.ctx.clock.setTimeout(done, ms);
      wakers.add(done);
      this.ctx.work.signal.addEventListener('abort', done, { once: true });
    });
  }

  private wake(name: string): void {
    for (const fn of [...(this.wakers.get(name) ?? [])]) fn();
  }

  /** One dependent, under its own lock and budget; the fresh inspect of it when it runs again. */
  private actOn(step: OrderedDependent, provider: string, providers: Map<string, ContainerInspect>): Promise<ContainerInspect | null> {
    return new Promise((resolve) => {
      this.ctx.work.add(this.ctx.serializer.run(step.name, () => this.ctx.limiter.run(async () => {
        try {
          resolve(await this.actOnLocked(step, provider, providers));
        } catch (err) {
          this.ctx.log.error('could not handle a dependent', { container: step.name, error: errorMessage(err) });
          resolve(null);
        }
      })).finally(() => resolve(null)));
    });
  }

  private async actOnLocked(step: OrderedDependent, provider: string, providers: Map<string, ContainerInspect>): Promise<ContainerInspect | null> {
    const name = step.name;
    const info = await inspectContainer(this.ctx, name);
    if (info === null || info === 'failed' || this.ctx.work.stopped) return null;
    if (!this.o.tracker.inNamespace(name)) return null;
    const t = this.o.tracker.fromInspect(info);
    if (t.excluded) {
      this.ctx.log.info('dependent left alone', { container: name, provider, reason: t.excluded.reason });
      return null;
    }
    const status = info.State?.Status;
    if (status !== 'running' && status !== 'exited') {
      this.ctx.log.debug('dependent neither running nor exited: left alone', { container: name, status });
      return null;
    }
    if (status === 'exited' && t.deliberate) {
      this.ctx.log.info('dependent was stopped on purpose: left alone', { container: name, provider });
      return null;
    }
    const stale = this.staleProvider(info, step);
    const direct = step.via.map((e) => providers.get(e.provider)).filter((p): p is ContainerInspect => p !== undefined);
    if (!stale && status === 'running' && direct.length > 0 && direct.every((p) => startedMs(info) >= startedMs(p))) {
      this.ctx.log.debug('dependent started after its providers: nothing to do', { container: name, provider });
      return info;
    }
    const via = stale ? stale.name : (step.via.find((e) => e.provider === provider)?.provider ?? step.via[0]?.provider ?? provider);
    const reason = `${via} ${stale ? 'recreated' : 'restarted'}`;
    if (stale && !t.policy.recreateDependents) {
      this.ctx.log.warn('dependent names the old provider and recreate_dependents=false: left as it is', { container: name, provider: via });
      this.o.reporter.report(t, {
        kind: 'dependent', action: 'recreate', reason, provider: via, attempt: 0, dryRun: this.ctx.settings.dryRun,
        failure: { message: `recreate_dependents=false: left as it is (its network mode still names the old ${via})` }, gaveUp: false, streak: this.o.budgets.of(name).streak,
      });
      return null;
    }
    const now = this.ctx.clock.now();
    const decision = decide(this.o.budgets.of(name), t.policy, now);
    this.o.budgets.set(name, decision.state);
    if (decision.kind !== 'restart') {
      this.ctx.log.info('dependent not restarted: its restart budget says wait', { container: name, provider: via, decision: decision.kind });
      // The gap between two restarts only delays it (a longer wait or a give-up leaves it alone): try
      // once more when the gap is over, unless it was restarted meanwhile (the check above then says so).
      if (decision.kind === 'wait') this.retryAt(decision.untilMs, step, provider, providers);
      return null;
    }
    const action = stale ? 'recreate' : status === 'running' ? 'restart' : 'start';
    const budgetBefore = this.o.budgets.of(name);
    const dryRun = this.ctx.settings.dryRun;
    this.ctx.log.info(dryRun ? `dry run: would ${action} a dependent` : `${action === 'recreate' ? 'recreating' : `${action}ing`} a dependent`, { container: name, reason });
    let failure: { message: string; code?: string } | null = null;
    let putBack: 'started' | 'not_started' | 'failed' | undefined;
    let after: ContainerInspect | null = null;
    if (!dryRun) {
      this.actingNames.add(name);
      this.actingIds.add(info.Id);
      try {
        if (action === 'recreate') {
          const r = await this.recreate(info, stale!.id);
          failure = r.failure;
          putBack = r.putBack;
        } else if (action === 'restart') {
          await this.ctx.engine.restart(info.Id, { stopTimeoutSec: t.policy.stopTimeoutSec, signal: this.ctx.work.signal });
        } else {
          await this.ctx.engine.start(info.Id, { signal: this.ctx.work.signal });
        }
      } catch (err) {
        failure = { message: errorMessage(err), code: errorCode(err) };
      } finally {
        this.actingNames.delete(name);
        this.actingIds.delete(info.Id);
      }
      if (this.ctx.work.stopped) return null;
      if (failure === null) {
        const fresh = await inspectContainer(this.ctx, name);
        after = fresh && fresh !== 'failed' ? fresh : null;
        if (after) this.known.fromInspect(after);
      }
    }
    const end = this.ctx.clock.now();
    // A call a socket proxy refused (403) did nothing to the container: not counted (docs/behaviour.md §9).
    const recorded = dryRun || failure?.code === 'RM_ENGINE_REFUSED' ? { state: budgetBefore, gaveUp: false } : recordRestart(budgetBefore, t.policy, end, failure === null);
    this.o.budgets.set(name, recorded.state);
    const outcome: HealOutcome = {
      kind: 'dependent', action, reason, provider: via, attempt: decision.attempt, dryRun, failure,
      ...(putBack ? { putBack } : {}), gaveUp: recorded.gaveUp, streak: recorded.state.streak,
    };
    this.o.reporter.report(t, outcome, failure ? info.Id : null);
    if (failure === null) {
      this.ctx.metrics.restarts.inc({ reason: 'dependent' });
      this.ctx.log.info(dryRun ? 'dry run: dependent not touched' : `dependent ${action === 'recreate' ? 'recreated' : `${action}ed`}`, { container: name, reason, attempt: decision.attempt, restartsInFrame: decision.restartsInFrame, ms: end - now });
      if (!dryRun && after && !after.State?.Health) this.o.recovery.scheduleProbe(name, end + t.policy.frameSizeSec * 1000);
    } else {
      this.ctx.metrics.restartFailures.inc();
      this.ctx.log.warn(`dependent ${action} failed`, { container: name, reason, error: failure.message, code: failure.code, putBack });
    }
    return after;
  }

  private retryAt(atMs: number, step: OrderedDependent, provider: string, providers: Map<string, ContainerInspect>): void {
    const signal = this.ctx.work.signal;
    const fire = (): void => {
      signal.removeEventListener('abort', cancel);
      if (!this.ctx.work.stopped) void this.actOn(step, provider, providers);
    };
    const handle = this.ctx.clock.setTimeout(fire, Math.max(0, atMs - this.ctx.clock.now()) + 20);
    const cancel = (): void => this.ctx.clock.clearTimeout(handle);
    signal.addEventListener('abort', cancel, { once: true });
  }

  /** The provider a network mode names by an id that is gone, when that provider was recreated. */
  private staleProvider(info: ContainerInspect, step: OrderedDependent): { name: string; id: string } | null {
    const host = info.HostConfig as { NetworkMode?: unknown };
    const ref = typeof host.NetworkMode === 'string' ? networkProviderRef(host.NetworkMode) : null;
    if (ref === null) return null;
    for (const e of step.via) {
      if (e.kind !== 'network') continue;
      const current = this.known.named(e.provider);
      if (!current || current.id === ref || current.name === ref || current.id.startsWith(ref)) continue;
      if (this.known.departedName(ref) === e.provider) return { name: e.provider, id: current.id };
    }
    return null;
  }

  /**
   * Recreate `info` pointed at the provider's new id: rename the old one out of the way, create the new
   * one (a failure here leaves the old one untouched, back under its name), stop the old one, start
   * the new one; once the new one runs the old one is removed (never its volumes), else the new one is
   * removed and the old one put back under its name and started.
   */
  private async recreate(info: ContainerInspect, providerId: string): Promise<{ failure: { message: string; code?: string } | null; putBack?: 'started' | 'not_started' | 'failed' }> {
    const recreator = this.o.recreator;
    if (!recreator) return { failure: { message: 'this engine connection cannot create containers' } };
    const request = recreateRequest(info as unknown as InspectForCreate, providerId);
    if (!request) return { failure: { message: 'its network mode is not container:<id>' } };
    const signal = this.ctx.work.signal;
    const name = request.name;
    const kept = keptName(name, info.Id);
    await recreator.rename(info.Id, kept, { signal });
    let newId: string;
    try {
      newId = await recreator.create(name, request.body, { signal });
    } catch (err) {
      const back = await this.putBack(info.Id, kept, name, false);
      return { failure: { message: errorMessage(err), code: errorCode(err) }, putBack: back };
    }
    this.actingIds.add(newId);
    try {
      let failure: { message: string; code?: string } | null = null;
      try {
        await this.ctx.engine.stop(info.Id, { stopTimeoutSec: this.o.tracker.get(name)?.policy.stopTimeoutSec, signal });
        await this.ctx.engine.start(newId, { signal });
        await new Promise<void>((r) => this.ctx.clock.setTimeout(r, NEW_RUNS_CHECK_MS));
        const now = await this.ctx.engine.inspect(newId, { signal });
        if (!now.State?.Running) failure = { message: `the new container did not keep running (exit code ${now.State?.ExitCode}${now.State?.Error ? `: ${now.State.Error}` : ''})` };
      } catch (err) {
        failure = { message: errorMessage(err), code: errorCode(err) };
      }
      if (failure === null) {
        try {
          await this.ctx.engine.remove(info.Id, { signal });
        } catch (err) {
          this.ctx.log.warn('the replaced dependent could not be removed; it stays under its kept name', { container: kept, error: errorMessage(err) });
        }
        return { failure: null };
      }
      try {
        await this.ctx.engine.remove(newId, { force: true, signal });
      } catch (err) {
        this.ctx.log.error('the failed replacement could not be removed: the old container stays under its kept name', { container: name, kept, error: errorMessage(err) });
        return { failure, putBack: 'failed' };
      }
      return { failure, putBack: await this.putBack(info.Id, kept, name, true) };
    } finally {
      this.actingIds.delete(newId);
    }
  }

  private async putBack(oldId: string, kept: string, name: string, start: boolean): Promise<'started' | 'not_started' | 'failed'> {
    const signal = this.ctx.work.signal;
    try {
      await this.o.recreator!.rename(oldId, name, { signal });
    } catch (err) {
      this.ctx.log.error('the old container could not be renamed back', { container: kept, name, error: errorMessage(err) });
      return 'failed';
    }
    if (!start) return 'started';
    try {
      await this.ctx.engine.start(oldId, { signal });
      return 'started';
    } catch (err) {
      this.ctx.log.warn('the old container is back under its name but did not start', { container: name, error: errorMessage(err) });
      return 'not_started';
    }
  }

  // ---- cycles -------------------------------------------------------------------------------

  private reportCycles(graph: DependencyGraph): void {
    for (const cycle of graph.cycles) {
      const key = cycle.join('\u0000');
      if (this.reportedCycles.has(key)) continue;
      this.reportedCycles.add(key);
      for (const member of cycle) {
        const node = this.known.named(member);
        const label = node?.labels[DEPENDS_ON_LABEL] !== undefined ? DEPENDS_ON_LABEL : COMPOSE_DEPENDS_ON_LABEL;
        const value = node?.labels[label] ?? '';
        const t: Pick<TrackedContainer, 'name' | 'policy'> = { name: member, policy: this.o.tracker.get(member)?.policy ?? this.ctx.settings.defaults };
        this.ctx.log.warn('dependency cycle: never followed', { container: member, cycle });
        this.o.reporter.report(t, {
          kind: 'label_problem',
          problem: {
            container: member, label, value: value.slice(0, 200), code: 'RM_LABEL_INVALID',
            expected: `no dependency cycle (${[...cycle, cycle[0]].join(' -> ')} depend on each other)`,
            fallback: 'not restarted as a dependent of the others in the cycle',
          },
        });
      }
    }
  }
}

function startedMs(info: ContainerInspect): number {
  const ms = Date.parse(info.State?.StartedAt ?? '');
  return Number.isFinite(ms) ? ms : 0;
}

// Removes docker-compose's hash-prefixed leftovers (docs/behaviour.md §4). The matcher decides what is a
// duplicate and what holds it back; this file acts: re-inspects just before acting, stops with the
// duplicate's stop_timeout, removes, journals and notifies. It runs under the REAL container's key of
// the serializer shared with healing, so a duplicate never disappears while its real container is
// being restarted (compose and healing both look at that pair).
import { hostname } from 'node:os';
import type { ContainerPolicy } from '../config/types.js';
import type { ContainerInspect, ContainerSummary, EngineApi } from '../docker/types.js';
import { errorMessage, isRepairmanError } from '../errors.js';
import type { JournalEntryInput } from '../journal/types.js';
import type { Logger } from '../log.js';
import type { MetricsRegistry } from '../metrics/registry.js';
import type { NotifyEvent } from '../notify/types.js';
import type { KeyedSerializer } from '../util/keyed-queue.js';
import { composeLabelsDiffer, DEFAULT_DUPLICATE_GRACE_SEC, findDuplicates, inNamespace, namespaceNameFilter, prefixedNameFilter, splitPrefixes, type DuplicateMatch } from './matcher.js';

/** Events often come in bursts (compose touches several containers at once): one check per burst. */
export const DEFAULT_TRIGGER_DEBOUNCE_MS = 1000;
/** A little after a young duplicate's grace ends, so the clock has surely passed it. */
const WAKE_MARGIN_MS = 250;

export interface DuplicateCleanerOptions {
  engine: EngineApi;
  /** Shared with healing; removals run under the REAL container's name. */
  serializer: KeyedSerializer;
  /** Effective policy of a container (label over global); must not throw, but a throw is survived. */
  policyFor(name: string, labels: Record<string, string>): ContainerPolicy;
  journal(entry: JournalEntryInput, maxPerContainer: number): void;
  notify(event: NotifyEvent): void;
  log: Logger;
  metrics: MetricsRegistry;
  dryRun: boolean;
  /** Duplicates (and real containers) younger than this are left alone (default 60 s). */
  graceSec?: number;
  now?: () => number;
  /** Host named in notifications (default os.hostname()). */
  host?: string;
  /**
   * The listing trigger() uses (all: true, already filtered to --namespace). Without it trigger()
   * does nothing and held-back young duplicates wait for the next re-check cycle.
   */
  list?: (signal: AbortSignal) => Promise<ContainerSummary[]>;
  debounceMs?: number;
  /** Aborting it stops timers and in-flight engine calls (same as close()). */
  signal?: AbortSignal;
}

/**
 * The cleaner's `list` for --namespace: the prefixed names first (a duplicate always has one, and a
 * host rarely has any), the whole namespace only when there are some. A host with thousands of
 * containers is then not listed whole at every re-check (BENCHMARKS.md "Scale").
 */
export function duplicateListing(engine: Pick<EngineApi, 'listContainers'>, namespace: string): (signal: AbortSignal) => Promise<ContainerSummary[]> {
  // The engine matches any of a container's names (link aliases too): the reply is filtered again.
  const inside = (c: ContainerSummary): boolean => c.Names.some((n) => inNamespace(n, namespace));
  const whole = namespaceNameFilter(namespace);
  return async (signal) => {
    const prefixed = await engine.listContainers({ all: true, filters: { name: [prefixedNameFilter(namespace)] }, signal });
    if (!prefixed.some(inside)) return [];
    return (await engine.listContainers({ all: true, filters: whole ? { name: [whole] } : {}, signal })).filter(inside);
  };
}

type Outcome = { kind: 'removed'; wasRunning: boolean; forced: boolean } | { kind: 'skipped'; why: string };

function trimSlash(name: string): string {
  return name.replace(/^\//, '');
}

/** A duplicate found by the last check, as the status view shows it (state/ re-exports it as DuplicateView). */
export interface FoundDuplicate {
  name: string;
  id: string;
  duplicateOf: string;
  /** Why it is a duplicate. */
  reason: string;
  /** Null when it will be (or was) removed; otherwise why it is held back. */
  heldBack: string | null;
}

export class DuplicateCleaner {
  private readonly o: DuplicateCleanerOptions;
  private readonly graceSec: number;
  private readonly now: () => number;
  private readonly host: string;
  private readonly debounceMs: number;
  private readonly abort = new AbortController();

  private view: FoundDuplicate[] = [];
  /** Duplicates whose removal is queued or running (by id): a second check must not queue it again. */
  private readonly inFlight = new Set<string>();
  /** Kinds of hold last logged per duplicate id, so a held-back duplicate is logged once, not every cycle. */
  private readonly loggedHolds = new Map<string, string>();
  /** Dry run: duplicates already reported as "would remove" (by id). */
  private readonly dryReported = new Set<string>();
  /** Last removal failure per duplicate id, shown in the status view until it succeeds or is gone. */
  private readonly failures = new Map<string, string>();

  private debounceTimer: NodeJS.Timeout | null = null;
  private wakeTimer: NodeJS.Timeout | null = null;
  private wakeAtMs: number | null = null;
  private triggered: Promise<void> | null = null;
  private rerun = false;

  private readonly removedTotal;
  private readonly failedTotal;
  private readonly heldBackGauge;

  constructor(opts: DuplicateCleanerOptions) {
    this.o = opts;
    this.graceSec = opts.graceSec ?? DEFAULT_DUPLICATE_GRACE_SEC;
    this.now = opts.now ?? Date.now;
    this.host = opts.host ?? hostname();
    this.debounceMs = opts.debounceMs ?? DEFAULT_TRIGGER_DEBOUNCE_MS;
    this.removedTotal = opts.metrics.counter('repairman_duplicates_removed_total', 'docker-compose duplicates removed');
    this.failedTotal = opts.metrics.counter('repairman_duplicates_failed_total', 'docker-compose duplicates whose removal failed');
    this.heldBackGauge = opts.metrics.gauge('repairman_duplicates_held_back', 'docker-compose duplicates found but held back (see repairman status)');
    // At 0 from the start, like every counter: a dashboard or an increase() sees them before the first removal.
    this.removedTotal.inc({}, 0);
    this.failedTotal.inc({}, 0);
    this.heldBackGauge.set(0);
    if (opts.signal) {
      if (opts.signal.aborted) this.close();
      else opts.signal.addEventListener('abort', () => this.close(), { once: true });
    }
  }

  /**
   * Look at a full listing (all: true, filtered to --namespace) and remove the duplicates that may go.
   * Resolves when the removals it started have settled; never rejects.
   */
  async check(containers: ContainerSummary[]): Promise<void> {
    if (this.abort.signal.aborted) return;
    let matches: DuplicateMatch[];
    try {
      matches = findDuplicates(containers, {
        nowMs: this.now(),
        graceSec: this.graceSec,
        cleaningEnabled: (name, labels) => this.policy(name, labels)?.enableCleaningDuplicatedServices === true,
      });
    } catch (err) {
      // The matcher is pure and total; this only guards against a listing of the wrong shape.
      this.o.log.error('duplicate check failed', { error: errorMessage(err) });
      this.failedTotal.inc();
      return;
    }

    this.forgetGone(matches);
    this.logHolds(matches);
    this.heldBackGauge.set(matches.filter((m) => m.heldBack !== null).length);
    this.scheduleWake(matches);

    const tasks: Promise<void>[] = [];
    for (const m of matches) {
      if (m.heldBack !== null || this.inFlight.has(m.id)) continue;
      if (this.o.dryRun) {
        if (!this.dryReported.has(m.id)) {
          this.dryReported.add(m.id);
          this.report(m, { kind: 'removed', wasRunning: m.running, forced: false }, true);
        }
        continue;
      }
      tasks.push(this.removeOne(m));
    }
    this.view = matches.map((m) => this.toView(m));
    await Promise.all(tasks);
    // Show the outcome of this pass (failures) without waiting for the next one.
    this.view = matches.map((m) => this.toView(m));
  }

  /** Found duplicates of the last check, with why each is held back (null: removed or about to be). */
  duplicates(): FoundDuplicate[] {
    return this.view.map((v) => ({ ...v }));
  }

  /**
   * Ask for a check soon (on `create`/`rename` events): a burst of calls within debounceMs makes one
   * listing and one check. Needs the `list` option.
   */
  trigger(): void {
    if (!this.o.list || this.abort.signal.aborted || this.debounceTimer) return;
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = null;
      this.runTriggered();
    }, this.debounceMs);
    this.debounceTimer.unref();
  }

  /** Resolves when no triggered check is pending or running (for tests and shutdown). */
  async settled(): Promise<void> {
    while (this.triggered || this.debounceTimer) {
      if (this.triggered) await this.triggered;
      else await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Stop timers and abandon in-flight engine calls. */
  close(): void {
    this.abort.abort();
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.debounceTimer = null;
    this.wakeTimer = null;
    this.wakeAtMs = null;
  }

  // ---- internals ------------------------------------------------------------------------------

  private runTriggered(): void {
    if (this.triggered) {
      this.rerun = true;
      return;
    }
    const list = this.o.list;
    if (!list) return;
    this.triggered = (async () => {
      do {
        this.rerun = false;
        if (this.abort.signal.aborted) return;
        try {
          await this.check(await list(this.abort.signal));
        } catch (err) {
          if (!this.abort.signal.aborted) this.o.log.warn('duplicate check: listing containers failed', { error: errorMessage(err) });
        }
      } while (this.rerun);
    })().finally(() => {
      this.triggered = null;
    });
  }

  /** Wake up when the first young duplicate leaves its grace, instead of waiting for the next cycle. */
  private scheduleWake(matches: DuplicateMatch[]): void {
    if (!this.o.list || this.abort.signal.aborted) return;
    const times = matches.map((m) => m.releaseAtMs).filter((t): t is number => t !== null);
    if (times.length === 0) return;
    const at = Math.min(...times);
    if (this.wakeAtMs !== null && this.wakeAtMs <= at) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeAtMs = at;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = null;
      this.wakeAtMs = null;
      this.runTriggered();
    }, Math.max(0, at - this.now()) + WAKE_MARGIN_MS);
    this.wakeTimer.unref();
  }

  private policy(name: string, labels: Record<string, string>): ContainerPolicy | null {
    try {
      return this.o.policyFor(name, labels);
    } catch (err) {
      this.o.log.warn('duplicate check: no policy for container', { container: name, error: errorMessage(err) });
      return null;
    }
  }

  private forgetGone(matches: DuplicateMatch[]): void {
    const ids = new Set(matches.map((m) => m.id));
    for (const map of [this.loggedHolds, this.failures]) {
      for (const id of map.keys()) if (!ids.has(id)) map.delete(id);
    }
    for (const id of this.dryReported) if (!ids.has(id)) this.dryReported.delete(id);
  }

  private logHolds(matches: DuplicateMatch[]): void {
    for (const m of matches) {
      if (m.heldBack === null) {
        this.loggedHolds.delete(m.id);
        continue;
      }
      // By kind of hold, not by text: an age hold's text changes every second.
      const key = m.holds.map((h) => h.code).join(',');
      if (this.loggedHolds.get(m.id) === key) continue;
      this.loggedHolds.set(m.id, key);
      this.o.log.info('duplicate held back', { container: m.name, duplicateOf: m.duplicateOf.name, reason: m.reason, heldBack: m.heldBack });
    }
  }

  private toView(m: DuplicateMatch): FoundDuplicate {
    let heldBack = m.heldBack;
    const failure = this.failures.get(m.id);
    if (heldBack === null && failure !== undefined) heldBack = `removal failed (retried on the next check): ${failure}`;
    else if (heldBack === null && this.o.dryRun) heldBack = 'dry run (--dry-run): would be removed';
    return { name: m.name, id: m.id, duplicateOf: m.duplicateOf.name, reason: m.reason, heldBack };
  }

  private async removeOne(m: DuplicateMatch): Promise<void> {
    this.inFlight.add(m.id);
    try {
      const outcome = await this.o.serializer.run(m.duplicateOf.name, () => this.act(m));
      if (outcome.kind === 'skipped') {
        this.o.log.info('duplicate not removed', { container: m.name, duplicateOf: m.duplicateOf.name, why: outcome.why });
        return;
      }
      this.failures.delete(m.id);
      this.removedTotal.inc();
      this.report(m, outcome, false);
    } catch (err) {
      if (this.abort.signal.aborted) return;
      const msg = errorMessage(err);
      this.failures.set(m.id, msg);
      this.failedTotal.inc();
      // A socket proxy's refusal is said once by the client's report, not at every check.
      this.o.log[isRepairmanError(err, 'RM_ENGINE_REFUSED') ? 'debug' : 'error']('duplicate removal failed', { container: m.name, duplicateOf: m.duplicateOf.name, error: msg });
    } finally {
      this.inFlight.delete(m.id);
    }
  }

  private async inspectOrNull(idOrName: string): Promise<ContainerInspect | null> {
    try {
      return await this.o.engine.inspect(idOrName, { signal: this.abort.signal });
    } catch (err) {
      if (isRepairmanError(err, 'RM_ENGINE_NOT_FOUND')) return null;
      throw err;
    }
  }

  /** Runs under the real container's key. Throws engine errors; returns why when it decides not to act. */
  private async act(m: DuplicateMatch): Promise<Outcome> {
    const signal = this.abort.signal;
    // The listing may be seconds old and the queue may have waited for a restart: look again.
    const dup = await this.inspectOrNull(m.id);
    if (!dup) return { kind: 'skipped', why: 'it is gone' };
    const dupName = trimSlash(dup.Name);
    if (dupName !== m.name) return { kind: 'skipped', why: `it was renamed to ${dupName}` };
    if (splitPrefixes(dupName).base !== m.duplicateOf.name) return { kind: 'skipped', why: 'its name no longer matches' };
    const real = await this.inspectOrNull(m.duplicateOf.name);
    if (!real) return { kind: 'skipped', why: `the real container ${m.duplicateOf.name} is gone` };
    if (real.Id !== m.duplicateOf.id) return { kind: 'skipped', why: `the real container ${m.duplicateOf.name} was re-created meanwhile` };
    const dupLabels = dup.Config.Labels ?? {};
    const differ = composeLabelsDiffer(dupLabels, real.Config.Labels ?? {});
    if (differ) return { kind: 'skipped', why: differ };

    const stopTimeoutSec = this.policy(m.name, dupLabels)?.stopTimeoutSec;
    const wasRunning = dup.State.Running || dup.State.Paused || dup.State.Restarting;
    try {
      if (wasRunning) {
        if (await this.removedWithoutStop(dup.Id, signal)) return { kind: 'removed', wasRunning, forced: false };
        await this.o.engine.stop(dup.Id, { stopTimeoutSec, signal });
      }
      let forced = false;
      try {
        await this.o.engine.remove(dup.Id, { force: false, signal });
      } catch (err) {
        // Refused after all (the proxy's rules changed since the probe): never leave it stopped for nothing.
        if (wasRunning && isRepairmanError(err, 'RM_ENGINE_REFUSED')) await this.startBack(m.name, dup.Id, signal);
        // 409: it was started again after the stop (a restart policy, a person, compose): force it.
        if (!isRepairmanError(err, 'RM_ENGINE_CONFLICT')) throw err;
        this.o.log.info('duplicate running again after stop; removing with force', { container: m.name });
        await this.o.engine.remove(dup.Id, { force: true, signal });
        forced = true;
      }
      return { kind: 'removed', wasRunning, forced };
    } catch (err) {
      if (isRepairmanError(err, 'RM_ENGINE_NOT_FOUND')) return { kind: 'skipped', why: 'it disappeared while being removed' };
      throw err;
    }
  }

  /**
   * Before stopping a running duplicate, ask for its removal without force: the engine refuses that for
   * a running container and changes nothing (Docker 409, Podman 500 "container state improper"), while
   * a socket proxy that allows the stop but not DELETE (linuxserver/socket-proxy's ALLOW_STOP with
   * POST=0) answers 403 here, before anything was stopped, so the duplicate is never left stopped for
   * nothing, and it keeps its graceful stop (stop_timeout) when the removal is allowed. True when it
   * went at once (it had stopped meanwhile); only a refusal or a vanished container ends it here.
   */
  private async removedWithoutStop(id: string, signal: AbortSignal): Promise<boolean> {
    try {
      await this.o.engine.remove(id, { force: false, signal });
      return true;
    } catch (err) {
      if (isRepairmanError(err, 'RM_ENGINE_REFUSED') || isRepairmanError(err, 'RM_ENGINE_NOT_FOUND') || signal.aborted) throw err;
      return false;
    }
  }

  private async startBack(name: string, id: string, signal: AbortSignal): Promise<void> {
    try {
      await this.o.engine.start(id, { signal });
      this.o.log.warn('duplicate started again: its removal was refused after the stop', { container: name });
    } catch (err) {
      this.o.log.error('duplicate left stopped: its removal was refused and starting it again failed', { container: name, error: errorMessage(err) });
    }
  }

  /** Journal (under the REAL container's name) and notify one removal, done or, in a dry run, not. */
  private report(m: DuplicateMatch, outcome: Extract<Outcome, { kind: 'removed' }>, dry: boolean): void {
    const atMs = this.now();
    const real = m.duplicateOf.name;
    const realPolicy = this.policy(real, m.realLabels);
    const state = outcome.wasRunning ? 'running' : m.state;
    const summary = dry
      ? `Dry run: would remove ${m.name} (${m.id.slice(0, 12)}, ${state}), a docker-compose leftover beside ${real}`
      : `Removed ${m.name} (${m.id.slice(0, 12)}, was ${state}), a docker-compose leftover beside ${real}`;
    const details = {
      duplicate: m.name,
      duplicateId: m.id,
      duplicateOf: real,
      duplicateOfId: m.duplicateOf.id,
      wasRunning: outcome.wasRunning,
      forced: outcome.forced,
      dryRun: dry,
    };
    this.o.log.info(dry ? 'duplicate would be removed (dry run)' : 'duplicate removed', details);
    try {
      this.o.journal({ container: real, kind: 'duplicate_removed', atMs, message: `${summary}: ${m.reason}`, details }, realPolicy?.maxHistoricEntries ?? 50);
    } catch (err) {
      this.o.log.error('journal write failed', { container: real, error: errorMessage(err) });
    }
    if (!realPolicy) return;
    try {
      this.o.notify({
        kind: 'duplicate_removed',
        severity: 'debug',
        container: real,
        host: this.host,
        atMs,
        summary,
        reason: m.reason,
        next: dry ? 'nothing is changed while --dry-run is on' : `${real} is kept as it is; nothing else to do`,
        urls: realPolicy.notifyUrls,
        level: realPolicy.notifyLevel,
      });
    } catch (err) {
      this.o.log.error('notify failed', { container: real, error: errorMessage(err) });
    }
  }
}

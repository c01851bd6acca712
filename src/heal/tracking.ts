// What the healer knows about each container, by name (a name survives restarts and re-creation):
// kept up to date from listings, inspects and events; labels decoded once per container id; bad labels
// reported once; exits already judged not crashed remembered, so re-checks do not inspect them again.
import type { ContainerPolicy, LabelProblem } from '../config/types.js';
import { isKeptLabel } from '../docker/listing.js';
import type { ContainerInspect, ContainerSummary } from '../docker/types.js';
import { errorMessage } from '../errors.js';
import type { DeliberateStopMark } from '../journal/types.js';
import type { BudgetBook } from './budget-book.js';
import {
  bareName, classify, exitCodeFromStatus, healthFromStatus, isDeliberateExit, staticExclusion, stopMarkHolds, summaryName,
  type Classification, type DeliberateMark, type SkipReason,
} from './classify.js';
import type { DecodeLabels, HealContext } from './context.js';
import { goneWait } from './outcomes.js';
import type { OutcomeReporter } from './reporter.js';
import { isSelfContainer } from './self-id.js';
import type { HealTimers } from './timers.js';

/** What the healer knows about one container. */
export interface TrackedContainer {
  id: string;
  name: string;
  state: string;
  health: string | null;
  /**
   * Since when Repairman has seen it unhealthy without a recovery in between (unhealthy_for counts from
   * here); null when not unhealthy. Repairman's own observation: after a restart of Repairman it counts
   * from the first look, so it never acts earlier than asked.
   */
  unhealthySinceMs: number | null;
  labels: Record<string, string>;
  policy: ContainerPolicy;
  problems: LabelProblem[];
  excluded: { reason: SkipReason; detail: string } | null;
  /** A kill/stop seen since the last start (this run, or a previous one with a file journal): the next die is not a crash. */
  deliberate: DeliberateMark | null;
  /** How it last exited (null while alive); OOMKilled is only known from an inspect. */
  exit?: { code: number; oomKilled: boolean | null } | null;
  /** Repairman saw this container (this id) alive or dying: its crash is one it watched (docs/behaviour.md §2.2). */
  sawAlive: boolean;
}

const ALIVE_STATES = new Set(['running', 'paused', 'restarting']);

// Event attributes that are not labels (the engine mixes both in Actor.Attributes).
const NON_LABEL_ATTRIBUTES = new Set(['name', 'image', 'exitCode', 'signal', 'oldName', 'execDuration', 'container']);

export class ContainerTracker {
  private readonly tracked = new Map<string, TrackedContainer>();
  /** Exited containers already judged not crashed, by id -> exit code. */
  private readonly settledExits = new Map<string, number>();
  /** Label problems already reported: container|label|value. */
  private readonly reportedProblems = new Set<string>();
  /** The stops and kills the journal file keeps, by name (what a previous run saw, and this one since). */
  private readonly keptStops = new Map<string, DeliberateStopMark>();

  constructor(
    private readonly ctx: HealContext,
    private readonly decodeLabels: DecodeLabels,
    private readonly budgets: BudgetBook,
    private readonly timers: HealTimers,
    private readonly reporter: OutcomeReporter,
    /** Called with every new or refreshed record (restarts left in flight wait for their container's labels). */
    private readonly onRecord: (t: TrackedContainer) => void,
    /** Read from the journal file at start (docs/behaviour.md §2.2: a stop seen survives a restart of Repairman). */
    keptStops: readonly DeliberateStopMark[] = [],
  ) {
    for (const m of keptStops) this.keptStops.set(m.container, m);
  }

  get(name: string): TrackedContainer | undefined {
    return this.tracked.get(name);
  }

  has(name: string): boolean {
    return this.tracked.has(name);
  }

  get size(): number {
    return this.tracked.size;
  }

  all(): TrackedContainer[] {
    return [...this.tracked.values()];
  }

  inNamespace(name: string): boolean {
    return !this.ctx.settings.namespace || name.startsWith(this.ctx.settings.namespace);
  }

  /** The exit code this container was judged not crashed with (undefined when not judged). */
  settledExitCode(id: string): number | undefined {
    return this.settledExits.get(id);
  }

  settle(id: string, exitCode: number): void {
    this.settledExits.set(id, exitCode);
  }

  unsettle(id: string): void {
    this.settledExits.delete(id);
  }

  fromSummary(c: ContainerSummary): TrackedContainer {
    const name = summaryName(c);
    const t = this.track(name, c.Id, c.Labels ?? {});
    t.state = c.State;
    // A listing that cannot tell the health (Podman's) neither starts nor ends an unhealthy spell.
    if (!c.HealthUnknown) this.noteHealth(t, healthFromStatus(c.Status));
    if (ALIVE_STATES.has(c.State)) t.sawAlive = true;
    if (c.State === 'exited') {
      const code = exitCodeFromStatus(c.Status);
      // The same exit seen again keeps what an inspect said about OOM.
      if (code !== null && t.exit?.code !== code) t.exit = { code, oomKilled: null };
    } else t.exit = null;
    return t;
  }

  fromInspect(info: ContainerInspect): TrackedContainer {
    const t = this.track(bareName(info.Name), info.Id, info.Config?.Labels ?? {});
    t.state = info.State?.Status ?? t.state;
    this.noteHealth(t, info.State?.Health?.Status ?? null);
    if (ALIVE_STATES.has(t.state)) t.sawAlive = true;
    t.exit = t.state === 'exited' && info.State ? { code: info.State.ExitCode, oomKilled: Boolean(info.State.OOMKilled) } : null;
    return t;
  }

  /** A health status seen (listing, inspect or event): keeps unhealthySinceMs, which any other status ends. */
  noteHealth(t: TrackedContainer, health: string | null): void {
    if (health === 'unhealthy') t.unhealthySinceMs ??= this.ctx.clock.now();
    else t.unhealthySinceMs = null;
    t.health = health;
  }

  fromEvent(name: string, id: string, attrs: Record<string, string>): TrackedContainer {
    const known = this.tracked.get(name);
    if (known && (known.id === id || !id)) return known;
    const labels: Record<string, string> = {};
    // Events carry every label as an attribute: only those Repairman reads are kept, as from listings.
    for (const [k, v] of Object.entries(attrs)) if (!NON_LABEL_ATTRIBUTES.has(k) && isKeptLabel(k)) labels[k] = v;
    return this.track(name, id, labels);
  }

  /** Create or refresh a container's record; labels are decoded once per container id. */
  private track(name: string, id: string, labels: Record<string, string>): TrackedContainer {
    const known = this.tracked.get(name);
    if (known && known.id === id && sameLabels(known.labels, labels)) return known;
    const defaults = this.ctx.settings.defaults;
    const decoded = this.decodeLabels(name, labels, defaults);
    const excluded = staticExclusion(name, labels, decoded.policy, {
      namespace: this.ctx.settings.namespace,
      isSelf: isSelfContainer(this.ctx.self, id),
    });
    const t: TrackedContainer = {
      id,
      name,
      state: known?.state ?? 'unknown',
      health: known?.health ?? null,
      unhealthySinceMs: known?.unhealthySinceMs ?? null,
      labels,
      // Most containers carry none of Repairman's labels: they share the defaults, not a copy each.
      policy: samePolicy(decoded.policy, defaults) ? defaults : decoded.policy,
      problems: decoded.problems,
      excluded,
      deliberate: known && known.id === id ? known.deliberate : this.keptStopOf(name, id),
      exit: known && known.id === id ? known.exit ?? null : null,
      sawAlive: known && known.id === id ? known.sawAlive : false,
    };
    this.tracked.set(name, t);
    if (known && known.id !== id) this.settledExits.delete(known.id);
    this.reportProblems(t);
    this.onRecord(t);
    return t;
  }

  /** The container is gone (destroyed, not listed, or not found). */
  forget(name: string, id: string): void {
    const t = this.tracked.get(name);
    const wakeUntilMs = this.timers.wakeUntilMs(name);
    const waiting = this.timers.isWaiting(name);
    this.tracked.delete(name);
    this.settledExits.delete(id);
    this.timers.cancel(name);
    this.dropKeptStop(name);
    this.updateGauges();
    if (t && waiting) this.journalGone(t, wakeUntilMs);
  }

  /** Seen stopped or killed on purpose: kept in the journal file too, so the next run leaves its exit alone. */
  markDeliberate(t: TrackedContainer, mark: DeliberateMark): void {
    t.deliberate = mark;
    const kept: DeliberateStopMark = { container: t.name, id: t.id, ...mark };
    this.keptStops.set(t.name, kept);
    this.keepStop(t.name, () => this.ctx.journal.setDeliberateStop?.(kept));
  }

  /** Started again: its next exit is judged on its own. */
  clearDeliberate(t: TrackedContainer): void {
    t.deliberate = null;
    this.dropKeptStop(t.name);
  }

  /** After a full listing: marks of containers removed while no Repairman watched go. */
  dropKeptStopsExcept(present: ReadonlySet<string>): void {
    for (const name of [...this.keptStops.keys()]) if (!present.has(name)) this.dropKeptStop(name);
  }

  /** The mark the journal file keeps for this container (this id); one left by another container of that name goes. */
  private keptStopOf(name: string, id: string): DeliberateMark | null {
    const m = this.keptStops.get(name);
    if (!m || !id) return null;
    if (m.id !== id) {
      this.dropKeptStop(name);
      return null;
    }
    return { atMs: m.atMs, action: m.action, signal: m.signal, ...(m.own ? { own: true } : {}) };
  }

  private dropKeptStop(name: string): void {
    if (!this.keptStops.delete(name)) return;
    this.keepStop(name, () => this.ctx.journal.clearDeliberateStop?.(name));
  }

  // A journal that cannot be written costs only what a :memory: one would (the next run's memory of it).
  private keepStop(name: string, write: () => void): void {
    try {
      write();
    } catch (err) {
      this.ctx.log.warn('could not keep a stop seen in the journal', { container: name, error: errorMessage(err) });
    }
  }

  /** Renamed: the old name's record, wait and timers go (the budget stays with the old name); null when not tracked. */
  forgetRenamed(oldName: string, id: string, newName: string): TrackedContainer | null {
    const before = oldName ? this.tracked.get(oldName) : undefined;
    if (!before || (before.id !== id && id)) return before ?? null;
    const wakeUntilMs = this.timers.wakeUntilMs(oldName);
    const waiting = this.timers.isWaiting(oldName);
    this.tracked.delete(oldName);
    this.timers.cancel(oldName);
    // The wait belongs to the old name (budgets are keyed by name, docs/behaviour.md §3): say where it went.
    if (waiting) this.journalGone(before, wakeUntilMs, newName || '?');
    return before;
  }

  /**
   * Removed while a wait before its next restart was in progress: the wait is dropped (nothing is
   * left to restart), and said so. Journaled, not notified (like the wait itself). The budget stays
   * with the name (docs/behaviour.md §3): a container re-created under it goes on from there.
   */
  private journalGone(t: TrackedContainer, wakeUntilMs: number | null, renamedTo?: string): void {
    const { wait, untilMs } = goneWait(this.budgets.stored(t.name), t.policy, wakeUntilMs);
    if (renamedTo !== undefined) this.ctx.log.info('renamed while waiting', { container: t.name, newName: renamedTo, wait, untilMs });
    else this.ctx.log.info('removed while waiting', { container: t.name, wait, untilMs });
    this.reporter.report(t, { kind: 'gone', wait, untilMs, ...(renamedTo !== undefined ? { renamedTo } : {}) });
  }

  updateGauges(): void {
    let watched = 0;
    let problems = 0;
    for (const t of this.tracked.values()) {
      if (!t.excluded) watched++;
      problems += t.problems.length;
    }
    this.ctx.metrics.watchedContainers.set(watched);
    this.ctx.metrics.labelProblems.set(problems);
  }

  /** Bad labels: logged, journaled and notified once per container and value (docs/behaviour.md §1). */
  private reportProblems(t: TrackedContainer): void {
    for (const p of t.problems) {
      const key = `${t.name}|${p.label}|${p.value}`;
      if (this.reportedProblems.has(key)) continue;
      this.reportedProblems.add(key);
      this.ctx.log.warn('label problem', { container: t.name, label: p.label, value: p.value, expected: p.expected, fallback: p.fallback, code: p.code });
      this.reporter.report(t, { kind: 'label_problem', problem: p });
    }
    this.updateGauges();
  }

  /** The candidate rules (classify.ts) on a fresh inspect, with what the events said about a stop. */
  classify(t: TrackedContainer, info: ContainerInspect): Classification {
    return classify(info, t.policy, {
      namespace: this.ctx.settings.namespace,
      isSelf: isSelfContainer(this.ctx.self, info.Id),
      deliberateStop: this.isDeliberate(t),
      crashWindow: { sinceMs: this.ctx.crashesCountFromMs, sawItAlive: t.sawAlive },
    });
  }

  /**
   * Exited because a person (or a tool) stopped it: a stop/kill Repairman saw, or a deliberate exit
   * code (docs/behaviour.md §2.2), and not Repairman's own on_unhealthy stop/kill. Left alone, so the
   * page and `status` show it as such, not as trouble. A 137 counts once an inspect says no OOM kill.
   */
  stoppedByHand(t: TrackedContainer): boolean {
    if (t.state !== 'exited' || t.deliberate?.own) return false;
    if (this.isDeliberate(t)) return true;
    const e = t.exit;
    return e !== null && e !== undefined && isDeliberateExit(e.code, e.oomKilled ?? e.code === 137);
  }

  /** A kill or stop seen since its last start makes its next exit deliberate (a HUP only for a while). */
  isDeliberate(t: TrackedContainer): boolean {
    return t.deliberate !== null && stopMarkHolds(t.deliberate, this.ctx.clock.now());
  }
}

function samePolicy(a: ContainerPolicy, b: ContainerPolicy): boolean {
  for (const k of Object.keys(a) as (keyof ContainerPolicy)[]) if (a[k] !== b[k]) return false;
  return Object.keys(a).length === Object.keys(b).length;
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (a[k] !== b[k]) return false;
  return true;
}

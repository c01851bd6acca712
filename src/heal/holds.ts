// What keeps the healer from acting on a container that needs it (docs/behaviour.md §12): a maintenance
// pause (`repairman pause [NAME] [--for 30m]`, kept in the journal file, read here as data), and
// unhealthy_for (act only once unhealthy that long without recovering). Each hold is journaled once per
// pause or unhealthy spell, and its end wakes the container. pauseOf() and holdOf() are the data
// `status`, the page, the API and `explain` read. An engine that acts on the container itself (Podman's
// --health-on-failure) is told once per unhealthy spell too (leftToEngine).
import type { HealContext } from './context.js';
import type { OutcomeReporter } from './reporter.js';
import type { HealTimers } from './timers.js';
import type { TrackedContainer } from './tracking.js';

/** One maintenance pause: a container's, or every container's (container '*'). untilMs null: until resumed. */
export interface MaintenancePause {
  container: string;
  untilMs: number | null;
  atMs: number;
}

/** The name a pause of every container is kept under. */
export const ALL_CONTAINERS = '*';

/** A pause in force for one container: its own or the one of every container (whichever ends later). */
export interface PauseInForce {
  untilMs: number | null;
  all: boolean;
}

export type Hold = { why: 'paused'; untilMs: number | null; all: boolean } | { why: 'unhealthy_for'; untilMs: number };

export class ActionHolds {
  /** The pauses in force, by container ('*' for all), as last read from the journal. */
  private pauses = new Map<string, MaintenancePause>();
  /** Holds already journaled: name|why|key. */
  private readonly journaled = new Set<string>();

  constructor(
    private readonly ctx: HealContext,
    private readonly timers: HealTimers,
    private readonly reporter: OutcomeReporter,
  ) {}

  /** Every pause in force now (for status, the page, the API), the pause of all first. */
  pausesInForce(nowMs = this.ctx.clock.now()): MaintenancePause[] {
    return [...this.pauses.values()].filter((p) => isInForce(p, nowMs)).sort((a, b) => (a.container === ALL_CONTAINERS ? -1 : b.container === ALL_CONTAINERS ? 1 : a.container.localeCompare(b.container)));
  }

  pauseOf(name: string, nowMs = this.ctx.clock.now()): PauseInForce | null {
    const own = this.pauses.get(name);
    const all = this.pauses.get(ALL_CONTAINERS);
    const found = [own, all].filter((p): p is MaintenancePause => p !== undefined && isInForce(p, nowMs));
    if (found.length === 0) return null;
    // The one that ends last decides (null: never).
    const last = found.reduce((a, b) => (a.untilMs === null ? a : b.untilMs === null ? b : a.untilMs >= b.untilMs ? a : b));
    return { untilMs: last.untilMs, all: last.container === ALL_CONTAINERS };
  }

  /**
   * The pauses read from the journal now. Returns what changed since the last read (pauses started or
   * changed, pauses ended by a resume or by their time) and updates the gauges.
   */
  updatePauses(rows: readonly MaintenancePause[], nowMs = this.ctx.clock.now()): { started: MaintenancePause[]; ended: MaintenancePause[] } {
    const next = new Map<string, MaintenancePause>();
    for (const p of rows) if (isInForce(p, nowMs)) next.set(p.container, p);
    const started = [...next.values()].filter((p) => {
      const before = this.pauses.get(p.container);
      return !before || before.untilMs !== p.untilMs || before.atMs !== p.atMs;
    });
    const ended = [...this.pauses.values()].filter((p) => !next.has(p.container));
    this.pauses = next;
    for (const p of ended) this.forgetJournaled(p.container);
    this.ctx.metrics.paused.set({ scope: 'all' }, next.has(ALL_CONTAINERS) ? 1 : 0);
    this.ctx.metrics.paused.set({ scope: 'container' }, [...next.keys()].filter((k) => k !== ALL_CONTAINERS).length);
    return { started, ended };
  }

  /**
   * The hold on a container that needs an action now (null: act). A hold is journaled once and wakes
   * the container at its end (a pause until resumed wakes nothing: the resume does).
   */
  holdOf(t: TrackedContainer, candidateKind: 'unhealthy' | 'crashed', reason: string, onWake: () => void): Hold | null {
    const now = this.ctx.clock.now();
    const pause = this.pauseOf(t.name, now);
    if (pause) {
      if (pause.untilMs !== null) this.timers.scheduleWake(t.name, pause.untilMs, onWake);
      this.journalOnce(t, `paused|${pause.all ? ALL_CONTAINERS : t.name}|${pause.untilMs}`, () =>
        this.reporter.report(t, { kind: 'held', why: 'paused', reason, untilMs: pause.untilMs, allPaused: pause.all }));
      return { why: 'paused', ...pause };
    }
    const forMs = t.policy.unhealthyForSec * 1000;
    if (candidateKind === 'unhealthy' && forMs > 0) {
      const since = t.unhealthySinceMs ?? now;
      const untilMs = since + forMs;
      if (now < untilMs) {
        this.timers.scheduleWake(t.name, untilMs, onWake);
        this.journalOnce(t, `unhealthy_for|${since}`, () => this.reporter.report(t, { kind: 'held', why: 'unhealthy_for', reason, untilMs }));
        return { why: 'unhealthy_for', untilMs };
      }
    }
    return null;
  }

  /**
   * Unhealthy, and the engine acts on it itself (Podman's --health-on-failure): journaled once per
   * unhealthy spell; true the first time, so the caller logs it once too.
   */
  leftToEngine(t: TrackedContainer, action: string, reason: string): boolean {
    let first = false;
    this.journalOnce(t, `engine|${t.id}|${t.unhealthySinceMs}`, () => {
      first = true;
      this.reporter.report(t, { kind: 'left_to_engine', action, reason });
    });
    return first;
  }

  /** The container is gone: its holds go with it. */
  forget(name: string): void {
    this.forgetJournaled(name);
  }

  private journalOnce(t: TrackedContainer, key: string, journal: () => void): void {
    const k = `${t.name}|${key}`;
    if (this.journaled.has(k)) return;
    // One spell's key replaces the previous ones of this container and kind.
    const prefix = `${t.name}|${key.split('|')[0]}|`;
    for (const old of this.journaled) if (old.startsWith(prefix)) this.journaled.delete(old);
    this.journaled.add(k);
    journal();
  }

  private forgetJournaled(container: string): void {
    if (container === ALL_CONTAINERS) {
      for (const k of this.journaled) if (k.includes(`|paused|${ALL_CONTAINERS}|`)) this.journaled.delete(k);
      return;
    }
    for (const k of this.journaled) if (k.startsWith(`${container}|`)) this.journaled.delete(k);
  }
}

function isInForce(p: MaintenancePause, nowMs: number): boolean {
  return p.untilMs === null || p.untilMs > nowMs;
}

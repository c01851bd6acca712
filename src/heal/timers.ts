// The healer's timers, one of each kind per container: the "decide again" wake at the end of a wait
// (gap or longer wait, or a look after a dry run or a failed restart), and the recovery probe of a
// container without a healthcheck ("has it run a whole frame?"). Waits are timers, never a blocked
// worker.
import type { Clock } from '../util/clock.js';

/** Timers fire this much after a wait ends, so the budget sees the wait as over. */
const TIMER_SLACK_MS = 20;
const MAX_TIMER_MS = 2 ** 31 - 1;

export class HealTimers {
  /** Pending "decide again" timers, one per container. */
  private readonly wakes = new Map<string, { handle: unknown; untilMs: number }>();
  /** Wakes that fired and whose evaluation has not yet found the container (a removal is still "during the wait"). */
  private readonly woken = new Set<string>();
  /** Pending recovery probes of containers without a healthcheck. */
  private readonly probes = new Map<string, { handle: unknown; atMs: number }>();

  constructor(private readonly clock: Clock) {}

  /** Call onWake once untilMs has passed (a wake already set for that moment is kept). */
  scheduleWake(name: string, untilMs: number, onWake: () => void): void {
    const w = this.wakes.get(name);
    if (w && w.untilMs === untilMs) return;
    if (w) this.clock.clearTimeout(w.handle);
    const handle = this.clock.setTimeout(() => {
      this.wakes.delete(name);
      this.woken.add(name);
      onWake();
    }, this.delayUntil(untilMs));
    this.wakes.set(name, { handle, untilMs });
  }

  /** When the pending wake fires (null without one). */
  wakeUntilMs(name: string): number | null {
    return this.wakes.get(name)?.untilMs ?? null;
  }

  hasWake(name: string): boolean {
    return this.wakes.has(name);
  }

  /** A wait is in progress: a wake pending, or fired and its evaluation not done. */
  isWaiting(name: string): boolean {
    return this.wakes.has(name) || this.woken.has(name);
  }

  /** The evaluation a wake started has found the container (or found it gone). */
  wakeHandled(name: string): void {
    this.woken.delete(name);
  }

  scheduleProbe(name: string, atMs: number, onProbe: () => void): void {
    const p = this.probes.get(name);
    if (p) this.clock.clearTimeout(p.handle);
    const handle = this.clock.setTimeout(() => {
      this.probes.delete(name);
      onProbe();
    }, this.delayUntil(atMs));
    this.probes.set(name, { handle, atMs });
  }

  hasProbe(name: string): boolean {
    return this.probes.has(name);
  }

  /** Both timers of a container, and its fired wake. */
  cancel(name: string): void {
    const w = this.wakes.get(name);
    if (w) this.clock.clearTimeout(w.handle);
    this.wakes.delete(name);
    this.woken.delete(name);
    const p = this.probes.get(name);
    if (p) this.clock.clearTimeout(p.handle);
    this.probes.delete(name);
  }

  cancelAll(): void {
    for (const name of [...this.wakes.keys(), ...this.probes.keys()]) this.cancel(name);
  }

  private delayUntil(atMs: number): number {
    return Math.min(MAX_TIMER_MS, Math.max(0, Math.ceil(atMs - this.clock.now() + TIMER_SLACK_MS)));
  }
}

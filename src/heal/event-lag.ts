// How far the event stream has delivered, so a re-check does not act on an exit before the events
// that explain it. A `kill` or `stop` event is what tells "stopped on purpose" from a crash (docs/behaviour.md §2.2);
// on a loaded Podman host the stream runs seconds behind the listings, so a re-check found a
// container exited 3 by `podman kill --signal TERM` before the kill event came, and started it.
import type { DockerEvent } from '../docker/types.js';
import type { Clock } from '../util/clock.js';

/**
 * An exit newer than the stream is left to its events for at most this long; after it the re-check
 * acts anyway (a die event lost, an engine clock ahead of ours). Several times Podman's lag under load
 * (BENCHMARKS.md, reaction on Docker and Podman).
 */
export const EVENT_LAG_GRACE_MS = 10_000;

export class EventStreamMark {
  /** Engine time (UTC ms) up to which the stream has delivered; null while no stream is followed. */
  private throughMs: number | null = null;

  /**
   * The engine answered a stream request at `nowMs` (local time). Exits before it (a gap while
   * reconnecting, the time before Repairman started) are not held: the full re-check after every
   * (re)connect heals what broke meanwhile at once, whether or not the engine still replays its events.
   */
  opened(nowMs: number): void {
    this.throughMs = nowMs;
  }

  closed(): void {
    this.throughMs = null;
  }

  saw(ev: DockerEvent): void {
    if (this.throughMs === null) return;
    const ms = Number.isFinite(ev.timeNano) && ev.timeNano > 0 ? ev.timeNano / 1e6 : Number.isFinite(ev.time) ? ev.time * 1000 : NaN;
    if (ms > this.throughMs) this.throughMs = ms;
  }

  /**
   * Whether an exit at `finishedAt` (the engine's State.FinishedAt) may still have events on their way
   * at `nowMs`: a stream is followed, it has not reached that moment, and the grace is not over.
   */
  eventsPending(finishedAt: string | undefined, nowMs: number): boolean {
    if (this.throughMs === null) return false;
    const finishedMs = Date.parse(finishedAt ?? '');
    if (!Number.isFinite(finishedMs)) return false;
    return finishedMs > this.throughMs && nowMs - finishedMs < EVENT_LAG_GRACE_MS;
  }
}

/**
 * The healer's use of the mark: a re-check that finds a fresh exit the stream has not reached leaves
 * it to its events and looks again itself when the grace ends, whatever the --interval.
 */
export class ExitEventWait {
  private readonly mark = new EventStreamMark();
  /** Looks again planned, one per container. */
  private readonly relooks = new Map<string, unknown>();

  constructor(
    private readonly clock: Clock,
    private readonly lookAgain: (name: string) => void,
  ) {}

  opened(): void {
    this.mark.opened(this.clock.now());
  }

  closed(): void {
    this.mark.closed();
  }

  saw(ev: DockerEvent): void {
    this.mark.saw(ev);
  }

  /** True: leave this exit to its events for now (a look again is planned for the grace's end). */
  holds(name: string, finishedAt: string | undefined, nowMs: number): boolean {
    if (!this.mark.eventsPending(finishedAt, nowMs)) return false;
    if (!this.relooks.has(name)) {
      const dueMs = Date.parse(finishedAt ?? '') + EVENT_LAG_GRACE_MS;
      const handle = this.clock.setTimeout(() => {
        this.relooks.delete(name);
        this.lookAgain(name);
      }, Math.max(0, dueMs - this.clock.now()));
      this.relooks.set(name, handle);
    }
    return true;
  }

  cancelAll(): void {
    for (const handle of this.relooks.values()) this.clock.clearTimeout(handle);
    this.relooks.clear();
  }
}

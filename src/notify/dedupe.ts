// Repeated identical problems are sent once per change, not on every re-check (docs/behaviour.md §1, §5):
// a bad label is seen again every --interval, and people want one message about it, then one more
// only when it changes (another bad value) or comes back after being fixed (see forget()).
import type { NotifyEvent } from './types.js';

/** Kinds that describe a standing problem re-detected on every check rather than a one-off event. */
export const REPEATED_KINDS: ReadonlySet<NotifyEvent['kind']> = new Set<NotifyEvent['kind']>(['config_error']);

const SEP = '\u0000';

/**
 * A bounded keyed memory: key -> last value sent. Least recently seen keys are forgotten first when
 * full, so a flood of distinct problems costs at most `limit` entries (and at worst a repeat message).
 */
export class ChangeMemory {
  private readonly seen = new Map<string, string>();
  constructor(private readonly limit = 1000) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  }

  /** True when value is new for key (first time, or different from the last one); remembers it. */
  changed(key: string, value: string): boolean {
    const last = this.seen.get(key);
    // Re-insert so that Map order is least recently seen first.
    this.seen.delete(key);
    this.seen.set(key, value);
    if (this.seen.size > this.limit) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    return last !== value;
  }

  /** Forget every key that starts with prefix. */
  forgetPrefix(prefix: string): void {
    for (const k of [...this.seen.keys()]) if (k.startsWith(prefix)) this.seen.delete(k);
  }

  get size(): number {
    return this.seen.size;
  }
}

/** Decides which events are repeats; everything that is not a repeated kind always passes. */
export class RepeatFilter {
  private readonly memory: ChangeMemory;
  constructor(limit = 1000) {
    this.memory = new ChangeMemory(limit);
  }

  /**
   * True when the event should be sent (to that destination: each destination hears of a problem once,
   * so a notify_url changed to a new one gets the standing problems too).
   */
  admit(event: NotifyEvent, destination = ''): boolean {
    if (!REPEATED_KINDS.has(event.kind)) return true;
    // Without a dedupeKey only an identical problem is a repeat: keying on the reason alone would make
    // two different problems sharing a reason (an error code) look like one that keeps changing.
    const topic = event.dedupeKey ?? `${event.reason ?? ''}${SEP}${event.summary}`;
    const key = [event.container, event.kind, topic, destination].join(SEP);
    return this.memory.changed(key, `${event.reason ?? ''}${SEP}${event.summary}`);
  }

  /** The container's standing problems are gone: the same problem later is news again. */
  forget(container: string): void {
    this.memory.forgetPrefix(container + SEP);
  }

  get size(): number {
    return this.memory.size;
  }
}

// A manual clock for the pure-logic unit tests of src/heal: time moves only in advance(), which
// fires due timers in order and lets the promises they start settle in between.
import type { Clock } from '../../src/util/clock.js';

export class ManualClock implements Clock {
  t: number;
  private seq = 0;
  readonly timers = new Map<number, { at: number; fn: () => void }>();
  constructor(startMs = Date.UTC(2024, 0, 1, 12, 0, 0)) {
    this.t = startMs;
  }
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.timers.delete(h as number);
  }
  /** Move time forward, firing due timers in order and letting the work they start settle. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await flush();
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
    }
    this.t = end;
    await flush();
  }
}

/** Let pending promise chains and I/O callbacks run (20 turns of the event loop). */
async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

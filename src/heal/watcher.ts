// Keeps the healer fed (docs/behaviour.md §2): waits for the engine (retrying with backoff, so /healthz says 503
// meanwhile), follows the event stream and reconnects it with backoff `since` the last event seen,
// runs a full re-check after every (re)connect and a quick one every --interval. Every re-check's
// outcome is reported as it ends: one that times out or cannot connect marks the engine down
// (/healthz 503, repairman_engine_up 0) even while the event stream stays connected, and the next one
// that succeeds marks it up again. Stops on its signal.
import type { DockerEvent, EngineApi, Filters } from '../docker/types.js';
import { errorMessage, isRepairmanError } from '../errors.js';
import type { Logger } from '../log.js';
import { systemClock, type Clock } from '../util/clock.js';
import type { Healer } from './healer.js';
import { formatDuration } from './messages.js';
import type { HealMetrics } from './metrics.js';

/** The container events healing reacts to (docs/behaviour.md §2), plus `create` for the duplicate cleaner (docs/behaviour.md §4). */
export const EVENT_FILTERS: Filters = {
  type: ['container'],
  event: ['health_status', 'die', 'start', 'stop', 'kill', 'destroy', 'rename', 'pause', 'unpause', 'create'],
};

const BACKOFF_FIRST_MS = 200;
/** Events of one second remembered to skip their replay; beyond it a replay may be handled twice. */
const MAX_EVENTS_REMEMBERED = 10_000;
const BACKOFF_MAX_MS = 3_000;
/** A stream that stayed up this long was healthy: the next failure starts the backoff afresh. */
const STABLE_STREAM_MS = 5_000;
/** The probe of a re-check that seems stuck gets half an interval, at most this. */
const PROBE_MAX_MS = 5_000;
/**
 * The probe's listing: an id that matches nothing. The engine looks ids up in its index, so the
 * answer is immediate and empty whatever the number of containers.
 */
export const PROBE_FILTERS: Filters = { id: ['repairman-probe'] };

export interface WatcherOptions {
  engine: EngineApi;
  healer: Pick<Healer, 'handleEvent' | 'recheck' | 'lastCheckError' | 'checkInFlight' | 'eventStreamOpened' | 'eventStreamClosed'>;
  log: Logger;
  metrics: Pick<HealMetrics, 'engineUp' | 'eventStreamReconnects'>;
  intervalSec: number;
  signal: AbortSignal;
  /** Timers and time (tests pass a manual clock); default the system's. */
  clock?: Clock;
}

/**
 * When the n-th reminder (0-based) that the engine is still unreachable is due, counted from the
 * moment it went down: 1, 5, 15 and 60 minutes, then every hour. One warning and then silence made a
 * long outage look like a fixed one.
 */
export function reminderDueMs(n: number): number {
  const firstMin = [1, 5, 15, 60];
  const min = n < firstMin.length ? (firstMin[n] as number) : 60 * (n - firstMin.length + 2);
  return min * 60_000;
}

export function backoffMs(attempt: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.max(0, attempt));
}

export class Watcher {
  engineUp = false;
  /** Why the engine is considered down (null while up). */
  engineError: string | null = 'not contacted yet';
  /** Engine time (unix seconds) of the last event seen; reconnections resume from it. */
  lastEventTimeSec: number | null = null;
  /**
   * The events seen in that second: a reconnection replays from its start, and an event handled twice
   * is not harmless (a replayed `health_status: healthy` from before a turn would end an unhealthy
   * spell, and Repairman would tell a second time what it told once).
   */
  private readonly lastSecondEvents = new Set<string>();
  private readonly o: WatcherOptions;
  private readonly clock: Clock;
  private readonly intervalMs: number;
  private tick: unknown;
  /** A probe listing is in flight (see periodic()). */
  private probing = false;
  private connects = 0;
  /** True while an event stream connection is being followed (the engine answered the ping). */
  private following = false;
  /** Since when the engine has been unreachable (null while up or before the first attempt). */
  private downSinceMs: number | null = null;
  private reminderTimer: unknown = null;
  private everUp = false;
  private remindersSent = 0;
  private readonly eventListeners: ((ev: DockerEvent) => void)[] = [];
  private readonly checkListeners: ((mode: 'full' | 'quick') => void)[] = [];

  /** Also give every container event to fn (e.g. the duplicate cleaner's trigger). fn must not throw. */
  onEvent(fn: (ev: DockerEvent) => void): void {
    this.eventListeners.push(fn);
  }

  /** Call fn whenever a re-check starts: 'full' after each (re)connect, 'quick' every --interval. */
  onRecheck(fn: (mode: 'full' | 'quick') => void): void {
    this.checkListeners.push(fn);
  }

  private emitCheck(mode: 'full' | 'quick'): void {
    for (const fn of this.checkListeners) {
      try {
        fn(mode);
      } catch (err) {
        this.o.log.error('a re-check listener failed', { error: errorMessage(err) });
      }
    }
  }

  constructor(opts: WatcherOptions) {
    this.o = opts;
    this.clock = opts.clock ?? systemClock;
    this.intervalMs = Math.max(1, opts.intervalSec) * 1000;
  }

  /** Runs until the signal aborts; never rejects. */
  async run(): Promise<void> {
    const every = (): void => {
      this.tick = this.clock.setTimeout(every, this.intervalMs);
      void this.periodic();
    };
    this.tick = this.clock.setTimeout(every, this.intervalMs);
    try {
      await this.loop();
    } finally {
      this.clock.clearTimeout(this.tick);
      this.clock.clearTimeout(this.reminderTimer);
    }
  }

  private async periodic(): Promise<void> {
    // Not while the engine is gone (the loop pings it with backoff; a re-check would only fail again).
    // But one failed re-check (a listing that timed out or was cut) while the event stream is still
    // connected must not stop the next ones: they are what finds the engine fine again.
    const { healer, signal } = this.o;
    if (signal.aborted || (!this.engineUp && !this.following)) return;
    // A re-check already running serves this one (the healer never queues quick ones). But when the
    // engine is marked down and that re-check has waited a whole interval, its calls may be stuck for
    // good (a dead connection, a proxy holding them) while the engine answers again: a cheap listing
    // tells, and if it answers, a fresh re-check replaces the stuck one instead of waiting for the
    // stuck calls' deadline. If it does not, nothing more is sent: the engine has enough waiting.
    const running = healer.checkInFlight;
    let fresh = false;
    if (!this.engineUp && running?.abandonable && this.clock.now() - running.sinceMs >= this.intervalMs) {
      if (this.probing || !(await this.probe()) || signal.aborted) return;
      fresh = true;
    }
    this.emitCheck('quick');
    const ok = await healer.recheck('quick', { fresh });
    if (signal.aborted) return;
    if (!ok) this.noteCheckFailure(healer.lastCheckError);
    else if (!this.engineUp) this.markUp();
  }

  /** True when a trivial listing is answered within half an interval (at most PROBE_MAX_MS). */
  private async probe(): Promise<boolean> {
    this.probing = true;
    const ctl = new AbortController();
    const stop = (): void => ctl.abort();
    this.o.signal.addEventListener('abort', stop, { once: true });
    const timer = this.clock.setTimeout(stop, Math.min(PROBE_MAX_MS, this.intervalMs / 2));
    try {
      await this.o.engine.listContainers({ filters: PROBE_FILTERS, signal: ctl.signal });
      return true;
    } catch {
      return false;
    } finally {
      this.probing = false;
      this.clock.clearTimeout(timer);
      this.o.signal.removeEventListener('abort', stop);
    }
  }

  private noteCheckFailure(err: unknown): void {
    if (isRepairmanError(err, 'RM_ENGINE_UNREACHABLE') || isRepairmanError(err, 'RM_ENGINE_TIMEOUT')) this.markDown(err);
  }

  private markUp(): void {
    if (this.downSinceMs !== null) {
      // "again" only after it had been reached: an engine that was not there at start simply appears.
      const after = formatDuration(this.clock.now() - this.downSinceMs);
      this.o.log.info(this.everUp ? 'engine reachable again' : 'engine reachable', { after, connects: this.connects + 1 });
    } else if (!this.engineUp) {
      this.o.log.info('engine reachable', { connects: this.connects + 1 });
    }
    this.everUp = true;
    this.downSinceMs = null;
    this.clock.clearTimeout(this.reminderTimer);
    this.reminderTimer = null;
    this.engineUp = true;
    this.engineError = null;
    this.o.metrics.engineUp.set(1);
  }

  private markDown(err: unknown): void {
    const msg = errorMessage(err);
    if (this.engineUp || this.engineError !== msg) {
      this.o.log.warn('engine not reachable, retrying', { error: msg, code: isRepairmanError(err) ? err.code : undefined });
    }
    this.engineUp = false;
    this.engineError = msg;
    this.o.metrics.engineUp.set(0);
    if (this.downSinceMs === null) {
      this.downSinceMs = this.clock.now();
      this.remindersSent = 0;
      this.scheduleReminder();
    }
  }

  /** The next "still not reachable" warning, with how long and the last error (its address masked by the log). */
  private scheduleReminder(): void {
    const since = this.downSinceMs;
    if (since === null || this.o.signal.aborted) return;
    const dueAt = since + reminderDueMs(this.remindersSent);
    this.reminderTimer = this.clock.setTimeout(() => {
      if (this.downSinceMs !== since || this.o.signal.aborted) return;
      this.remindersSent++;
      this.o.log.warn('engine still not reachable', { for: formatDuration(this.clock.now() - since), error: this.engineError ?? 'unknown' });
      this.scheduleReminder();
    }, Math.max(0, dueAt - this.clock.now()));
  }

  private async loop(): Promise<void> {
    const { engine, signal, log } = this.o;
    let attempt = 0;
    while (!signal.aborted) {
      try {
        await engine.ping({ signal });
      } catch (err) {
        if (signal.aborted) return;
        this.markDown(err);
        await this.sleep(backoffMs(attempt++));
        continue;
      }
      this.markUp();
      if (this.connects > 0) this.o.metrics.eventStreamReconnects.inc();
      this.connects++;
      const openedAt = this.clock.now();
      try {
        await this.follow(engine);
        if (signal.aborted) return;
        log.warn('event stream ended, reconnecting');
      } catch (err) {
        if (signal.aborted) return;
        if (isRepairmanError(err, 'RM_ENGINE_REFUSED')) {
          // A socket proxy without EVENTS=1: said once (the client's report); the re-checks heal
          // meanwhile, so the stream is asked for again at their pace, not in a backoff loop.
          log.debug('event stream refused by the engine, asking again at the next interval', { error: errorMessage(err) });
          await this.sleep(this.intervalMs);
          continue;
        }
        log.warn('event stream broke, reconnecting', { error: errorMessage(err), code: isRepairmanError(err) ? err.code : undefined });
      }
      if (this.clock.now() - openedAt >= STABLE_STREAM_MS) attempt = 0;
      await this.sleep(backoffMs(attempt++));
    }
  }

  /** One connection of the event stream, with the full re-check that goes with every (re)connect. */
  private async follow(engine: EngineApi): Promise<void> {
    this.following = true;
    try {
      await this.followStream(engine);
    } finally {
      this.following = false;
      this.o.healer.eventStreamClosed();
    }
  }

  private async followStream(engine: EngineApi): Promise<void> {
    const { signal, healer } = this.o;
    const since = this.lastEventTimeSec ?? undefined;
    // Once the engine answers, re-checks leave exits newer than the stream's reach to their events.
    const onOpen = (): void => healer.eventStreamOpened();
    const it = engine.events({ filters: EVENT_FILTERS, since, signal, onOpen })[Symbol.asyncIterator]();
    // Ask for the stream first, then list: what happens in between is in both (handled twice,
    // harmlessly: every decision takes a fresh look); after a reconnect `since` replays the gap, from
    // the start of the last second seen (its events already handled are skipped: firstTimeSeen).
    const first = it.next();
    this.emitCheck('full');
    void healer.recheck('full').then((ok) => {
      if (!ok && !signal.aborted) this.noteCheckFailure(healer.lastCheckError);
      else if (ok && !this.engineUp) this.markUp();
    });
    let r: IteratorResult<DockerEvent> = await first;
    while (!r.done) {
      const ev = r.value;
      if (!this.firstTimeSeen(ev)) {
        r = await it.next();
        continue;
      }
      for (const fn of [(e: DockerEvent) => healer.handleEvent(e), ...this.eventListeners]) {
        try {
          fn(ev);
        } catch (err) {
          this.o.log.error('could not handle an engine event', { action: ev.Action, error: errorMessage(err) });
        }
      }
      r = await it.next();
    }
  }

  /** Whether this event is news: not one of the last second's, replayed after a reconnection. */
  private firstTimeSeen(ev: DockerEvent): boolean {
    if (typeof ev.time !== 'number' || !Number.isFinite(ev.time)) return true;
    const key = `${ev.timeNano}|${ev.Type}|${ev.Action}|${ev.Actor?.ID ?? ''}`;
    if (ev.time === this.lastEventTimeSec && this.lastSecondEvents.has(key)) return false;
    // Any other second (an out-of-order or absurd time too) is where a reconnection would resume.
    if (ev.time !== this.lastEventTimeSec) this.lastSecondEvents.clear();
    if (this.lastSecondEvents.size < MAX_EVENTS_REMEMBERED) this.lastSecondEvents.add(key);
    this.lastEventTimeSec = ev.time;
    return true;
  }

  private sleep(ms: number): Promise<void> {
    const { signal } = this.o;
    const clock = this.clock;
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const t = clock.setTimeout(done, ms);
      function done(): void {
        clock.clearTimeout(t);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

// Delivery off the healing path (docs/behaviour.md §5). send() filters (level, repeats), renders, queues and
// returns at once; one worker per destination URL posts its messages one at a time, in order, with a
// timeout per attempt and retries with backoff. A destination that hangs or rate-limits only delays
// its own messages. Every log line names destinations masked (scheme and host).
//
// Queue bound, per source (docs/behaviour.md §5): messages to the global URLs (the admin's) may have queueLimit
// messages not yet delivered (waiting or in flight); messages of one container to URLs from its
// notify_url label at most labelShare, and all such label sources together at most queueLimit. So a
// container's label can never fill the queue the global URLs use. When a new message finds its
// source's share full, the OLDEST WAITING message OF THAT SOURCE is dropped and counted
// (result="dropped"): the newest news matters most ("gave up" beats a fifth "restarted"). Only when
// every message of that source is in flight is the new one dropped instead. Replies of label URLs are
// never read into a log line (a label may point at an internal service).
//
// Metrics: repairman_notifications_total{result="sent|failed|dropped|retried"} counts messages per
// destination (sent: delivered; failed: refused or out of attempts; dropped: queue overflow, or still
// undelivered at shutdown; retried: each retry scheduled), repairman_notification_queue_length the
// messages not yet delivered.
import type { Logger } from '../log.js';
import type { MetricsRegistry } from '../metrics/registry.js';
import { errorMessage } from '../errors.js';
import { maskUrl } from '../util/mask.js';
import { RepeatFilter } from './dedupe.js';
import { attemptDelivery, backoffDelayMs, type AttemptResult, type NotifyTransport } from './delivery.js';
import { buildRequest, type PreparedRequest } from './format.js';
import { shouldSend } from './levels.js';
import { parseNotifyTarget, type NotifyTarget, type TargetResult } from './targets.js';
import type { Notifier, NotifyEvent } from './types.js';

export interface NotifierOptions {
  log: Logger;
  metrics: MetricsRegistry;
  /** Per attempt. */
  timeoutMs?: number;
  /** Attempts per message and destination, the first included. */
  maxAttempts?: number;
  queueLimit?: number;
  /** Aborting it is close(). */
  signal?: AbortSignal;
  /** How each POST is sent (tests); node:http / node:https by default. */
  transport?: NotifyTransport;
  /** First retry delay; doubles each retry up to backoffMaxMs. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** A longer Retry-After is cut to this (a receiver asking for an hour gets our retry sooner). */
  retryAfterMaxMs?: number;
  /** How long close() lets in-flight deliveries finish before abandoning them. */
  closeGraceMs?: number;
  /** Bound of the repeated-problem memory. */
  repeatMemory?: number;
  /** Zone for times in messages; default the process's TZ. */
  timeZone?: string;
  /** The global notify URLs (the admin's); any other URL came from a label. Undefined: every URL is
   * treated as global (a notifier for one purpose, e.g. tests). */
  globalUrls?: readonly string[];
  /** Messages not yet delivered allowed per container to the URLs of its label. */
  labelShare?: number;
}

export const NOTIFIER_DEFAULTS = {
  timeoutMs: 5000,
  maxAttempts: 4,
  queueLimit: 1000,
  backoffBaseMs: 1000,
  backoffMaxMs: 30_000,
  retryAfterMaxMs: 60_000,
  closeGraceMs: 500,
  repeatMemory: 1000,
  labelShare: 50,
} as const;

const GLOBAL_SOURCE = 'global';

export interface NotifierStats {
  /** Messages not yet delivered (waiting or in flight). */
  queueLength: number;
  destinations: number;
}

export interface NotifierHandle extends Notifier {
  forget(container: string): void;
  stats(): NotifierStats;
  /** Resolves when nothing is queued or in flight (tests, notify-test). */
  idle(): Promise<void>;
}

interface Job {
  seq: number;
  target: NotifyTarget;
  /** Rendered by the destination's worker, not by send(): the healing path only queues. */
  event: NotifyEvent;
  kind: NotifyEvent['kind'];
  container: string;
  /** GLOBAL_SOURCE, or `label:<container>` for a URL from a label. */
  source: string;
}

interface Destination {
  waiting: Job[];
  inFlight: Job | undefined;
  worker: Promise<void> | undefined;
}

export const METRIC_NOTIFICATIONS = 'repairman_notifications_total';
export const METRIC_QUEUE_LENGTH = 'repairman_notification_queue_length';

function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function createNotifier(opts: NotifierOptions): NotifierHandle {
  const cfg = { ...NOTIFIER_DEFAULTS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) } as typeof NOTIFIER_DEFAULTS & NotifierOptions;
  const log = opts.log.child({ component: 'notify' });
  const counter = opts.metrics.counter(METRIC_NOTIFICATIONS, 'Notifications per destination by result (sent, failed, dropped, retried).');
  const queueGauge = opts.metrics.gauge(METRIC_QUEUE_LENGTH, 'Notifications waiting or in flight.');
  for (const result of ['sent', 'failed', 'dropped', 'retried']) counter.inc({ result }, 0);
  queueGauge.set(0);

  const repeats = new RepeatFilter(cfg.repeatMemory);
  const destinations = new Map<string, Destination>();
  const targets = new Map<string, TargetResult>();
  const badUrlsLogged = new Set<string>();
  /** Cuts backoff sleeps at close(): no retries once stopping. */
  const stopping = new AbortController();
  /** Cuts in-flight attempts when the grace is over. */
  const abandon = new AbortController();
  let seq = 0;
  let pending = 0;
  const pendingBySource = new Map<string, number>();
  let labelPending = 0;
  const globalUrls = opts.globalUrls ? new Set(opts.globalUrls.map((u) => String(u).trim())) : null;
  let closePromise: Promise<void> | undefined;
  let idleWaiters: (() => void)[] = [];

  const setPending = (delta: number, source: string): void => {
    pending += delta;
    if (source !== GLOBAL_SOURCE) labelPending += delta;
    const n = (pendingBySource.get(source) ?? 0) + delta;
    if (n > 0) pendingBySource.set(source, n);
    else pendingBySource.delete(source);
    queueGauge.set(pending);
    if (pending === 0) {
      const w = idleWaiters;
      idleWaiters = [];
      for (const r of w) r();
    }
  };

  const targetOf = (raw: string): TargetResult => {
    let t = targets.get(raw);
    if (!t) {
      t = parseNotifyTarget(raw);
      // Bounded: URLs come from settings and labels, but labels can change forever.
      if (targets.size >= 1000) targets.clear();
      targets.set(raw, t);
    }
    return t;
  };

  /** Drops the oldest waiting message of one source; false when it has none waiting. */
  const dropOldestWaiting = (source: string): boolean => {
    let from: Destination | undefined;
    let at = -1;
    let oldestSeq = Infinity;
    for (const d of destinations.values()) {
      const i = d.waiting.findIndex((j) => j.source === source);
      const j = i === -1 ? undefined : d.waiting[i];
      if (j && j.seq < oldestSeq) {
        oldestSeq = j.seq;
        from = d;
        at = i;
      }
    }
    if (!from || at === -1) return false;
    const [job] = from.waiting.splice(at, 1);
    if (!job) return false;
    counter.inc({ result: 'dropped' });
    setPending(-1, job.source);
    log.warn('notification queue full: oldest message dropped', { destination: job.target.masked, kind: job.kind, container: job.container, queueLimit: cfg.queueLimit });
    return true;
  };

  const deliver = async (job: Job): Promise<void> => {
    const request: PreparedRequest = buildRequest(job.target, job.event, { timeZone: cfg.timeZone });
    const readBody = job.source === GLOBAL_SOURCE;
    for (let attempt = 1; ; attempt++) {
      const r: AttemptResult = await attemptDelivery(job.target, request, { timeoutMs: cfg.timeoutMs, transport: opts.transport, signal: abandon.signal, readBody });
      const fields = { destination: job.target.masked, format: job.target.format, kind: job.kind, container: job.container, attempt };
      if (r.ok) {
        counter.inc({ result: 'sent' });
        log.debug('notification sent', { ...fields, status: r.status, durationMs: r.durationMs });
        return;
      }
      if (r.aborted) {
        counter.inc({ result: 'dropped' });
        log.warn('notification abandoned at shutdown', fields);
        return;
      }
      const last = !r.retryable || attempt >= cfg.maxAttempts || stopping.signal.aborted;
      if (last) {
        counter.inc({ result: 'failed' });
        const why = !r.retryable ? 'not retried' : stopping.signal.aborted ? 'shutting down' : `after ${attempt} attempts`;
        log.warn(`notification failed (${why})`, { ...fields, status: r.status, error: r.error });
        return;
      }
      const delayMs = r.retryAfterMs !== undefined
        ? Math.min(r.retryAfterMs, cfg.retryAfterMaxMs)
        : backoffDelayMs(attempt, cfg.backoffBaseMs, cfg.backoffMaxMs);
      counter.inc({ result: 'retried' });
      log.info('notification attempt failed, will retry', { ...fields, status: r.status, error: r.error, retryInMs: delayMs });
      if (!(await sleep(delayMs, stopping.signal))) {
        counter.inc({ result: 'failed' });
        log.warn('notification failed (shutting down before its retry)', { ...fields, status: r.status, error: r.error });
        return;
      }
    }
  };

  const work = async (key: string, d: Destination): Promise<void> => {
    for (;;) {
      const job = d.waiting.shift();
      if (!job) break;
      if (abandon.signal.aborted) {
        counter.inc({ result: 'dropped' });
        setPending(-1, job.source);
        continue;
      }
      d.inFlight = job;
      try {
        await deliver(job);
      } catch (err) {
        // deliver() does not throw; this is the belt for the braces of "send never fails the caller".
        counter.inc({ result: 'failed' });
        log.error('notification delivery crashed', { destination: job.target.masked, error: errorMessage(err) });
      } finally {
        d.inFlight = undefined;
        setPending(-1, job.source);
      }
    }
    d.worker = undefined;
    if (destinations.get(key) === d && d.waiting.length === 0) destinations.delete(key);
  };

  const enqueue = (target: NotifyTarget, event: NotifyEvent, source: string): void => {
    const share = source === GLOBAL_SOURCE ? cfg.queueLimit : cfg.labelShare;
    const full = (pendingBySource.get(source) ?? 0) >= share && !dropOldestWaiting(source);
    // All label sources together stay within their own pool too (many containers at once).
    const poolFull = !full && source !== GLOBAL_SOURCE && labelPending >= cfg.queueLimit;
    if (full || poolFull) {
      counter.inc({ result: 'dropped' });
      log.warn('notification queue full: new message dropped', {
        destination: target.masked, kind: event.kind, container: event.container, source: source === GLOBAL_SOURCE ? 'global' : 'label', limit: full ? share : cfg.queueLimit,
      });
      return;
    }
    let d = destinations.get(target.raw);
    if (!d) {
      d = { waiting: [], inFlight: undefined, worker: undefined };
      destinations.set(target.raw, d);
    }
    d.waiting.push({ seq: seq++, target, event, kind: event.kind, container: event.container, source });
    setPending(+1, source);
    if (!d.worker) {
      const dest = d;
      dest.worker = work(target.raw, dest);
    }
  };

  const send = (event: NotifyEvent): void => {
    try {
      if (event.kind !== 'test' && !shouldSend(event.severity, event.level)) return;
      const all = [...new Set((event.urls ?? []).map((u) => String(u).trim()).filter((u) => u !== ''))];
      if (all.length === 0) return;
      if (closePromise) {
        counter.inc({ result: 'dropped' }, all.length);
        log.debug('notification after close: dropped', { kind: event.kind, container: event.container });
        return;
      }
      const urls = all.filter((u) => repeats.admit(event, u));
      if (urls.length < all.length) log.debug('repeated problem not notified again', { kind: event.kind, container: event.container });
      // A copy: the caller may reuse its object; the worker renders it later.
      const frozen: NotifyEvent = { ...event, urls: [], ...(event.logLines ? { logLines: [...event.logLines] } : {}) };
      for (const raw of urls) {
        const t = targetOf(raw);
        if (!t.ok) {
          counter.inc({ result: 'failed' });
          if (!badUrlsLogged.has(raw) && badUrlsLogged.size < 1000) {
            badUrlsLogged.add(raw);
            log.warn('notification URL unusable', { destination: maskUrl(raw), error: t.error });
          }
          continue;
        }
        enqueue(t.target, frozen, !globalUrls || globalUrls.has(raw) || event.kind === 'test' ? GLOBAL_SOURCE : `label:${event.container}`);
      }
    } catch (err) {
      log.error('notification could not be queued', { kind: event?.kind, container: event?.container, error: errorMessage(err) });
    }
  };

  const close = (): Promise<void> => {
    if (closePromise) return closePromise;
    stopping.abort();
    closePromise = (async () => {
      const workers = (): Promise<void>[] => [...destinations.values()].flatMap((d) => (d.worker ? [d.worker] : []));
      let graceTimer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<void>((r) => {
        graceTimer = setTimeout(r, cfg.closeGraceMs);
      });
      // Within the grace, what is in flight may finish and what waits may get its one attempt.
      await Promise.race([Promise.all(workers()), graceOver]);
      clearTimeout(graceTimer);
      abandon.abort();
      // Aborted attempts settle at once; a transport deaf to its signal is given up on after 100 ms.
      let hardTimer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(workers()), new Promise<void>((r) => { hardTimer = setTimeout(r, 100); })]);
      clearTimeout(hardTimer);
      if (pending > 0) log.warn('notifications left undelivered at shutdown', { count: pending });
    })();
    return closePromise;
  };

  if (opts.signal) {
    if (opts.signal.aborted) void close();
    else opts.signal.addEventListener('abort', () => void close(), { once: true });
  }

  return {
    send,
    close,
    forget: (container: string) => repeats.forget(container),
    stats: () => ({ queueLength: pending, destinations: destinations.size }),
    idle: () => (pending === 0 ? Promise.resolve() : new Promise<void>((r) => idleWaiters.push(r))),
  };
}

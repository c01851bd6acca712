// The healer's unit tests' setup (src/heal/healer*.test.ts): a Healer on a fake engine, a manual clock,
// an in-memory journal and a notifier that keeps what it is sent.
import { decodeLabels } from '../../src/config/labels.js';
import { defaultSettings } from '../../src/config/settings-table.js';
import type { ContainerPolicy, GlobalSettings } from '../../src/config/types.js';
import type { ContainerSummary, DockerEvent, Filters } from '../../src/docker/types.js';
import { RepairmanError } from '../../src/errors.js';
import { Healer } from '../../src/heal/healer.js';
import { createHealMetrics } from '../../src/heal/metrics.js';
import { openJournal } from '../../src/journal/journal.js';
import type { DeliberateStopMark, Journal } from '../../src/journal/types.js';
import { silentLogger, type Logger } from '../../src/log.js';
import { MetricsRegistry } from '../../src/metrics/registry.js';
import type { Notifier, NotifyEvent } from '../../src/notify/types.js';
import { KeyedSerializer, Limiter } from '../../src/util/keyed-queue.js';
import { FakeEngine, type FakeContainer } from './fake-engine.js';
import { ManualClock } from './manual-clock.js';

// ---- the fake engine's events and slow listings -------------------------------------------------

export function ev(action: string, c: FakeContainer, attrs: Record<string, string> = {}): DockerEvent {
  return { Type: 'container', Action: action, Actor: { ID: c.id, Attributes: { name: c.name, ...(c.labels ?? {}), ...attrs } }, time: 0, timeNano: 0 };
}

/**
 * Listings that take `delayMs()` on the manual clock, decided when asked (as a proxy holding them
 * would); one of 10 s or more fails at the client's deadline (10 s). Aborted ones reject at once.
 */
export function slowListings(s: { engine: FakeEngine; clock: ManualClock }, delayMs: () => number): { started: Filters[]; inFlight: () => number } {
  const started: Filters[] = [];
  let inFlight = 0;
  s.engine.listContainers = (opts: { all?: boolean; filters?: Filters; signal?: AbortSignal } = {}) =>
    new Promise<ContainerSummary[]>((resolve, reject) => {
      const signal = opts.signal;
      if (signal?.aborted) return reject(signal.reason);
      started.push(opts.filters ?? {});
      inFlight++;
      const ms = delayMs();
      const end = (): void => {
        inFlight--;
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        s.clock.clearTimeout(timer);
        end();
        reject(signal?.reason);
      };
      const timer = s.clock.setTimeout(() => {
        end();
        if (ms >= 10_000) reject(new RepairmanError('RM_ENGINE_TIMEOUT', 'GET /containers/json: the engine at unix:///fake did not answer within 10000 ms'));
        else resolve(FakeEngine.prototype.listContainers.call(s.engine, opts));
      }, Math.min(ms, 10_000));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  return { started, inFlight: () => inFlight };
}

// ---- the setup ----------------------------------------------------------------------------------

export interface Setup {
  healer: Healer;
  engine: FakeEngine;
  clock: ManualClock;
  journal: Journal;
  sent: NotifyEvent[];
  metrics: MetricsRegistry;
}

/** Every restart leaves the container unhealthy again at once, with its health_status event. */
export function neverRecovers(s: Setup): void {
  s.engine.onRestart = (x) => {
    x.health = 'unhealthy';
    queueMicrotask(() => s.healer.handleEvent(ev('health_status: unhealthy', x)));
  };
}

export function setup(opts: { policy?: Partial<ContainerPolicy>; settings?: Partial<GlobalSettings>; engine?: FakeEngine; journal?: Journal; clock?: ManualClock; log?: Logger; keepStops?: boolean } = {}): Setup {
  const base = defaultSettings();
  const settings: GlobalSettings = {
    ...base,
    namespace: 'ns-',
    ...opts.settings,
    defaults: {
      ...base.defaults,
      secondsBetweenRestarts: 10,
      frameSizeSec: 100,
      maxRestartsInFrame: 2,
      secondsBetweenNextFrame: 300,
      maxChecksToGiveUp: 5,
      ...opts.policy,
    },
  };
  const engine = opts.engine ?? new FakeEngine();
  const clock = opts.clock ?? new ManualClock();
  const journal = opts.journal ?? openJournal({ dbPath: ':memory:' });
  const sent: NotifyEvent[] = [];
  const notifier: Notifier = { send: (e) => void sent.push(e), close: async () => undefined };
  const metrics = new MetricsRegistry();
  const healer = new Healer({
    engine,
    settings,
    log: opts.log ?? silentLogger,
    notifier,
    journal: {
      append: (e, max) => journal.append(e, max),
      saveBudget: (n, s) => journal.saveBudget(n, s, clock.now()),
      deleteBudget: (n) => journal.deleteBudget(n),
      batch: (fn) => journal.batch(fn),
      // As app.ts wires a file journal: stops seen are kept, and read back by the next instance.
      ...(opts.keepStops ? { setDeliberateStop: (m: DeliberateStopMark) => journal.setDeliberateStop(m), clearDeliberateStop: (n: string) => journal.clearDeliberateStop(n) } : {}),
    },
    ...(opts.keepStops ? { deliberateStops: journal.deliberateStops() } : {}),
    metrics: createHealMetrics(metrics),
    serializer: new KeyedSerializer(),
    limiter: new Limiter(settings.parallelism),
    decodeLabels,
    self: { ids: [], shortId: null },
    budgets: journal.loadBudgets(),
    host: 'testhost',
    timeZone: 'UTC',
    clock,
  });
  return { healer, engine, clock, journal, sent, metrics };
}

export function kinds(journal: Journal, container?: string): string[] {
  return journal.list({ limit: 1000, ...(container ? { container } : {}) }).reverse().map((e) => e.kind);
}

// ---- tests --------------------------------------------------------------------------------------

// The running Repairman: wires the engine client, the journal, the healer and its watcher, the
// notifier, the HTTP server and the metrics together, and takes them apart again on stop (docs/behaviour.md §7: a
// SIGTERM ends everything within a second; in-flight work is finished or abandoned cleanly).
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { decodeLabels, engineHostOf, type LabelContext } from './config/labels.js';
import type { GlobalSettings } from './config/types.js';
import { DuplicateCleaner, duplicateListing } from './dedupe/cleaner.js';
import { createDockerClient } from './docker/client.js';
import { engineAddress } from './docker/endpoint.js';
import { RefusedCalls, type RefusedCall } from './docker/refusals.js';
import type { ContainerRecreator, EngineApi } from './docker/types.js';
import { errorMessage } from './errors.js';
import { Healer } from './heal/healer.js';
import { createHealMetrics, type HealMetrics } from './heal/metrics.js';
import { detectSelfIdentity } from './heal/self-id.js';
import { Watcher } from './heal/watcher.js';
import { startHttpServer } from './http/server.js';
import { readTokenFile } from './http/token-file.js';
import { DegradableJournal } from './journal/degradable.js';
import { isMemory, openJournal } from './journal/journal.js';
import type { DeliberateStopMark, Journal } from './journal/types.js';
import type { Logger } from './log.js';
import { MetricsRegistry } from './metrics/registry.js';
import { severityOf } from './notify/levels.js';
import { createNotifier } from './notify/notifier.js';
import type { Notifier } from './notify/types.js';
import { AppState } from './state/app-state.js';
import { liveExplainer } from './state/explain/live.js';
import type { SourceInfo } from './config/load.js';
import { registerBudgetMetrics } from './state/budget-metrics.js';
import type { StateView } from './state/types.js';
import { KeyedSerializer, Limiter } from './util/keyed-queue.js';

export interface AppOptions {
  settings: GlobalSettings;
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** Aborting it stops the app (same as stop()). */
  signal: AbortSignal;
  /** Default: a DockerClient for env's DOCKER_HOST. */
  engine?: EngineApi;
  /** Default: the webhook notifier of src/notify. */
  notifier?: Notifier;
  /** Where each setting came from (loadSettings), for `explain`; absent: every one shows as a default. */
  sources?: Record<string, SourceInfo>;
}

export interface App {
  state: StateView & AppState;
  /** One action at a time per container name; the duplicate cleaner must share it. */
  serializer: KeyedSerializer;
  metrics: MetricsRegistry;
  healMetrics: HealMetrics;
  journal: Journal;
  healer: Healer;
  cleaner: DuplicateCleaner;
  watcher: Watcher;
  engine: EngineApi;
  notifier: Notifier;
  /** Engine calls refused now (403: a socket proxy), by call kind. */
  refusals: RefusedCalls;
  /** The HTTP port actually listening (null when --http-port 0). */
  httpPort: number | null;
  /** Stops everything; resolves when done (idempotent). */
  stop(): Promise<void>;
  /** Resolves once the app has stopped (by stop() or the signal). */
  done: Promise<void>;
}

/** How often a running instance looks for `repairman reset NAME` done on its database file. */
const RESET_POLL_MS = 1_000;
/** How often a file journal records that this instance is alive (well within the 300 s look-back). */
const HEARTBEAT_MS = 10_000;
/** SIGTERM must end the process within a second: each part gets a slice of it. */
const HEALER_GRACE_MS = 400;
const NOTIFIER_GRACE_MS = 250;

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function waitOrAbort(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p.then(
      () => undefined,
      () => undefined,
    ),
    new Promise<void>((r) => {
      t = setTimeout(r, ms);
    }),
  ]).finally(() => clearTimeout(t));
}

/**
 * Start Repairman. Throws (RepairmanError) only for what makes running impossible: an unusable
 * DOCKER_HOST / TLS setting, a token file that cannot be read. An engine that does not answer is NOT
 * such a case (the app starts, says so, retries, and /healthz answers 503 meanwhile), and neither is a
 * journal file that cannot be used (healing goes on, /healthz answers 200 "degraded").
 */
export async function startApp(opts: AppOptions): Promise<App> {
  const { settings, log } = opts;
  // Before anything starts: a token file that cannot be read is a configuration error (exit 2).
  const httpToken = settings.httpPort === 0 ? undefined : readTokenFile(settings.httpTokenFile);
  const startedAtMs = Date.now();
  const stopCtl = new AbortController();
  const metrics = new MetricsRegistry();
  const healMetrics = createHealMetrics(metrics);

  // Calls a socket proxy refuses (docs/behaviour.md §9): said once per call kind (log, notification),
  // listed by /healthz, the page and `status` until the same call goes through again.
  let notifyRefusal: (r: RefusedCall) => void = () => undefined;
  const refusals = new RefusedCalls({
    metrics,
    onRefused: (r) => {
      log.warn(`the engine refused a call: ${r.plugin ? `its authorization plugin ${r.plugin}` : 'a socket proxy'} does not allow it`, { call: r.call, allow: r.allow, error: r.message });
      notifyRefusal(r);
    },
    onAllowed: (r) => log.info('the engine allows a call it refused before', { call: r.call, refused: r.count }),
  });
  const engine = opts.engine ?? createDockerClient(opts.env, { logger: log.child({ component: 'docker' }), callTimeoutMs: settings.apiTimeoutSec * 1000, refusals });
  // Engine API calls are counted in the client; exposing them shows that a re-check costs the same
  // few calls whatever the number of containers (docs/behaviour.md §2; bench/growth measures it).
  const apiCalls = metrics.counter('repairman_engine_api_calls_total', 'HTTP requests made to the Docker engine API (an event stream connection counts once).');
  let apiCallsSeen = 0;
  metrics.onCollect(() => {
    const n = engine.callCount;
    apiCalls.inc({}, Math.max(0, n - apiCallsSeen));
    apiCallsSeen = Math.max(apiCallsSeen, n);
  });
  // A journal file that cannot be used never stops healing (docs/behaviour.md §9): the journal turns
  // degraded and retries the file by itself.
  const onWarning = (m: string): void => log.warn(m);
  const fileJournal = isMemory(settings.dbPath)
    ? null
    : new DegradableJournal({
      dbPath: settings.dbPath,
      open: () => openJournal({ dbPath: settings.dbPath, onWarning }),
      log: log.child({ component: 'journal' }),
      signal: stopCtl.signal,
    });
  const journal: Journal = fileJournal ?? openJournal({ dbPath: settings.dbPath, onWarning });
  const journalDegraded = metrics.gauge('repairman_journal_degraded', '1 while the journal file cannot be opened or written (restart budgets kept in memory only), else 0.');
  const journalPending = metrics.gauge('repairman_journal_pending_entries', 'Journal entries kept in memory until the journal file can be written again.');
  metrics.onCollect(() => {
    journalDegraded.set(fileJournal?.degraded ? 1 : 0);
    journalPending.set(fileJournal?.pendingEntries ?? 0);
  });
  let budgets;
  try {
    budgets = journal.loadBudgets();
  } catch (err) {
    log.error('could not load restart budgets; starting them afresh', { error: errorMessage(err) });
    budgets = new Map();
  }
  // The crash look-back of a file database counts from when the previous run was last alive (so
  // Repairman's own downtime loses no crash); this run's heartbeat is what the next run reads.
  let previousRunLastAliveMs: number | null = null;
  const heartbeat = (): void => {
    try {
      journal.markAlive(Date.now());
    } catch (err) {
      log.debug('cannot record the heartbeat', { error: errorMessage(err) });
    }
  };
  if (journal.persistent) {
    try {
      previousRunLastAliveMs = journal.lastAliveMs();
    } catch (err) {
      log.warn('cannot read when the previous run was last alive; crashes count from now', { error: errorMessage(err) });
    }
    heartbeat();
  }
  // Stops and kills the previous run saw (docs/behaviour.md §2.2): its exits stay left alone.
  let deliberateStops: DeliberateStopMark[] = [];
  if (journal.persistent) {
    try {
      deliberateStops = journal.deliberateStops();
    } catch (err) {
      log.warn('cannot read the stops the previous run saw; crashes are judged without them', { error: errorMessage(err) });
    }
  }
  const notifier = opts.notifier ?? createNotifier({
    log, metrics, signal: stopCtl.signal, closeGraceMs: NOTIFIER_GRACE_MS - 50, timeZone: opts.env.TZ, globalUrls: settings.defaults.notifyUrls,
  });
  notifyRefusal = (r) => notifier.send({
    kind: 'refused',
    severity: severityOf('refused'),
    container: '',
    host: hostname(),
    atMs: r.firstAtMs,
    summary: r.message,
    reason: r.plugin ? `the engine's authorization plugin ${r.plugin} does not allow ${r.call}` : `a socket proxy in front of the engine does not allow ${r.call}`,
    next: `allow it with ${r.allow}; until then it is tried again at every re-check, and a refused restart counts against no container's budget`,
    urls: settings.defaults.notifyUrls,
    level: settings.defaults.notifyLevel,
  });
  // Labels may not send notifications anywhere they like (docs/behaviour.md §5): the admin's origins only.
  const labelContext: LabelContext = { notifyOrigins: settings.labelNotifyOrigins, engineHost: engineHostOf(engineAddress(opts.env)), autohealLabel: settings.autohealLabel };
  const decodeWithContext: typeof decodeLabels = (name, labels, defaults) => decodeLabels(name, labels, defaults, labelContext);
  const serializer = new KeyedSerializer();
  const limiter = new Limiter(Math.max(1, settings.parallelism || 8));
  const self = detectSelfIdentity(opts.env);
  if (self.ids.length || self.shortId) log.debug('own container identity', { ids: self.ids.map((i) => i.slice(0, 12)), hostname: self.shortId });

  const healer = new Healer({
    engine,
    settings,
    log: log.child({ component: 'heal' }),
    notifier,
    journal: {
      append: (e, max) => journal.append(e, max),
      saveBudget: (name, state) => journal.saveBudget(name, state, Date.now()),
      deleteBudget: (name) => journal.deleteBudget(name),
      batch: (fn) => journal.batch(fn),
      ...(journal.persistent
        ? { setDeliberateStop: (m: DeliberateStopMark) => journal.setDeliberateStop(m), clearDeliberateStop: (name: string) => journal.clearDeliberateStop(name) }
        : {}),
    },
    metrics: healMetrics,
    serializer,
    limiter,
    decodeLabels: decodeWithContext,
    self,
    budgets,
    timeZone: opts.env.TZ,
    previousRunLastAliveMs,
    deliberateStops,
    recreator: isRecreator(engine) ? engine : undefined,
  });
  const watcher = new Watcher({
    engine,
    healer,
    log: log.child({ component: 'watch' }),
    metrics: healMetrics,
    intervalSec: settings.intervalSec,
    signal: stopCtl.signal,
  });
  registerBudgetMetrics(metrics, healer);
  const state = new AppState({
    healer,
    watcher,
    journal,
    metrics,
    intervalSec: settings.intervalSec,
    version: packageVersion(),
    startedAtMs,
    explain: liveExplainer(healer, { engine, settings, sources: opts.sources ?? {}, labelContext, self }),
  });
  if (fileJournal) state.addDegradationSource(() => fileJournal.degradations());

  log.info('starting', {
    version: state.version,
    namespace: settings.namespace || null,
    intervalSec: settings.intervalSec,
    dryRun: settings.dryRun,
    dbPath: settings.dbPath,
    parallelism: settings.parallelism,
    budgetsLoaded: budgets.size,
  });
  if (settings.dryRun) log.warn('dry run: decisions are logged, journaled and notified, but no container is changed');

  // `repairman pause` / `resume` write to the database file too: the pauses in force are read before
  // the first decision (a pause survives a restart of Repairman), then with the resets.
  const readPauses = (initial: boolean): void => {
    try {
      healer.applyPauses(journal.pauses(), { initial });
    } catch (err) {
      log.debug('cannot read the maintenance pauses', { error: errorMessage(err) });
    }
  };
  if (journal.persistent) readPauses(true);

  // `repairman reset NAME` writes to the database file; a running instance picks it up here.
  let resetTimer: NodeJS.Timeout | undefined;
  const heartbeatTimer = journal.persistent ? setInterval(heartbeat, HEARTBEAT_MS) : undefined;
  heartbeatTimer?.unref();
  if (journal.persistent) {
    let lastSeq = 0;
    try {
      lastSeq = journal.lastResetSeq();
    } catch (err) {
      log.warn('cannot read the reset log', { error: errorMessage(err) });
    }
    resetTimer = setInterval(() => {
      try {
        for (const r of journal.resetsAfter(lastSeq)) {
          lastSeq = r.seq;
          log.info('reset requested', { container: r.container });
          healer.applyReset(r.container);
        }
      } catch (err) {
        log.debug('cannot poll the reset log', { error: errorMessage(err) });
      }
      readPauses(false);
    }, RESET_POLL_MS);
  }

  // ---- HTTP server hook (docs/behaviour.md §6) -----------------------------------------------------
  let http: { port: number; close(): Promise<void> } | null = null;
  // --http-port 0 disables the server (docs/behaviour.md §1); the port is logged so tools can find it.
  if (settings.httpPort !== 0) {
    try {
      http = await startHttpServer({
        address: settings.httpAddress,
        port: settings.httpPort,
        prefix: settings.httpPrefix,
        state,
        log: log.child({ component: 'http' }),
        signal: stopCtl.signal,
        timeZone: opts.env.TZ,
        hosts: settings.httpHosts,
        ...(httpToken === undefined ? {} : { token: httpToken }),
      });
      log.info('http listening', { port: http.port, address: settings.httpAddress, prefix: settings.httpPrefix || '/' });
    } catch (err) {
      // A port in use must not stop healing: say so loudly, keep repairing.
      log.error('http server could not start; healing goes on without it', { error: errorMessage(err), port: settings.httpPort });
    }
  } else {
    log.info('http disabled', { port: 0 });
  }

  // ---- duplicate cleaner (docs/behaviour.md §4) ----------------------------------------------------
  // It shares the healer's serializer (never acts on a container the healer is acting on) and needs
  // its own listing: a duplicate's name starts with hex, not with --namespace, and the healer's quick
  // re-check lists only unhealthy and exited ones. One small call per cycle while there are no
  // duplicates, whatever the number of containers.
  const cleaner = new DuplicateCleaner({
    engine,
    serializer,
    policyFor: (name, labels) => decodeWithContext(name, labels, settings.defaults).policy,
    journal: (e, max) => {
      journal.append(e, max);
    },
    notify: (e) => notifier.send(e),
    log: log.child({ component: 'dedupe' }),
    metrics,
    dryRun: settings.dryRun,
    graceSec: settings.duplicateGraceSec,
    list: duplicateListing(engine, settings.namespace),
    signal: stopCtl.signal,
  });
  state.setDuplicatesSource(() => cleaner.duplicates());
  state.addDegradationSource(() => refusals.sentences());
  watcher.onRecheck(() => cleaner.trigger());
  watcher.onEvent((ev) => {
    if (ev.Action === 'create' || ev.Action === 'rename') cleaner.trigger();
  });

  // --start-period (willfarrell's AUTOHEAL_START_PERIOD): no check before it is over.
  const watching = settings.startPeriodSec > 0
    ? (log.info('first check after the start period', { startPeriodSec: settings.startPeriodSec }),
      waitOrAbort(settings.startPeriodSec * 1000, stopCtl.signal).then(() => (stopCtl.signal.aborted ? undefined : watcher.run())))
    : watcher.run();

  let stopping: Promise<void> | null = null;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      log.info('stopping');
      if (resetTimer) clearInterval(resetTimer);
      if (heartbeatTimer) clearInterval(heartbeatTimer);
      stopCtl.abort();
      cleaner.close();
      await healer.stop(HEALER_GRACE_MS);
      await withTimeout(watching, 100);
      await Promise.all([http ? withTimeout(http.close(), 300) : Promise.resolve(), withTimeout(notifier.close(), NOTIFIER_GRACE_MS)]);
      if (journal.persistent) heartbeat();
      try {
        journal.close();
      } catch (err) {
        log.warn('closing the journal failed', { error: errorMessage(err) });
      }
      const closable = engine as Partial<{ close(): void }>;
      if (!opts.engine && typeof closable.close === 'function') closable.close();
      log.info('stopped');
      resolveDone();
    })();
    return stopping;
  };
  if (opts.signal.aborted) void stop();
  else opts.signal.addEventListener('abort', () => void stop(), { once: true });

  return {
    state,
    serializer,
    metrics,
    healMetrics,
    journal,
    healer,
    cleaner,
    watcher,
    engine,
    notifier,
    refusals,
    httpPort: http?.port ?? null,
    stop,
    done,
  };
}

function isRecreator(engine: object): engine is ContainerRecreator {
  const e = engine as Partial<ContainerRecreator>;
  return typeof e.create === 'function' && typeof e.rename === 'function';
}

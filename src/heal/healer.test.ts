// The healer against a fake engine and a manual clock: decisions, budgets, timers, call counts.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { decodeLabels } from '../config/labels.js';
import { defaultSettings } from '../config/settings-table.js';
import type { ContainerPolicy, GlobalSettings } from '../config/types.js';
import type { ContainerSummary, DockerEvent, Filters, LogsResult } from '../docker/types.js';
import { RepairmanError } from '../errors.js';
import { openJournal } from '../journal/journal.js';
import type { Journal } from '../journal/types.js';
import { createLogger, silentLogger, type Logger, type LoggerOptions } from '../log.js';
import { Writable } from 'node:stream';
import { MetricsRegistry } from '../metrics/registry.js';
import type { Notifier, NotifyEvent } from '../notify/types.js';
import { KeyedSerializer, Limiter } from '../util/keyed-queue.js';
import { Healer } from './healer.js';
import { FakeEngine, type FakeContainer } from '../../test/helpers/fake-engine.js';
import { ManualClock } from '../../test/helpers/manual-clock.js';
import { createHealMetrics } from './metrics.js';
import { Watcher } from './watcher.js';

// ---- the fake engine's events and slow listings -------------------------------------------------

function ev(action: string, c: FakeContainer, attrs: Record<string, string> = {}): DockerEvent {
  return { Type: 'container', Action: action, Actor: { ID: c.id, Attributes: { name: c.name, ...(c.labels ?? {}), ...attrs } }, time: 0, timeNano: 0 };
}

/**
 * Listings that take `delayMs()` on the manual clock, decided when asked (as a proxy holding them
 * would); one of 10 s or more fails at the client's deadline (10 s). Aborted ones reject at once.
 */
function slowListings(s: { engine: FakeEngine; clock: ManualClock }, delayMs: () => number): { started: Filters[]; inFlight: () => number } {
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

interface Setup {
  healer: Healer;
  engine: FakeEngine;
  clock: ManualClock;
  journal: Journal;
  sent: NotifyEvent[];
  metrics: MetricsRegistry;
}

/** Every restart leaves the container unhealthy again at once, with its health_status event. */
function neverRecovers(s: Setup): void {
  s.engine.onRestart = (x) => {
    x.health = 'unhealthy';
    queueMicrotask(() => s.healer.handleEvent(ev('health_status: unhealthy', x)));
  };
}

function setup(opts: { policy?: Partial<ContainerPolicy>; settings?: Partial<GlobalSettings>; engine?: FakeEngine; journal?: Journal; clock?: ManualClock; log?: Logger } = {}): Setup {
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
    },
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

function kinds(journal: Journal, container?: string): string[] {
  return journal.list({ limit: 1000, ...(container ? { container } : {}) }).reverse().map((e) => e.kind);
}

// ---- tests --------------------------------------------------------------------------------------

describe('healer: detection', () => {
  it('restarts an unhealthy container on its health event, with its stop_timeout', async () => {
    const s = setup();
    const c = s.engine.add({ name: 'ns-web', health: 'unhealthy', labels: { 'org.riotkit.repairman.stop_timeout': '7' } });
    s.healer.handleEvent(ev('health_status: unhealthy', c));
    await s.clock.advance(0);
    assert.equal(s.engine.count('restart ns-web t=7'), 1);
    assert.deepEqual(kinds(s.journal), ['restart']);
    assert.equal(s.metrics.get('repairman_restarts_total', { reason: 'unhealthy' }), 1);
    await s.healer.stop();
  });

  it('starts a crashed container (exit 3, restart policy no)', async () => {
    const s = setup();
    const c = s.engine.add({ name: 'ns-job', status: 'exited', exitCode: 3 });
    s.healer.handleEvent(ev('die', c, { exitCode: '3' }));
    await s.clock.advance(0);
    assert.equal(s.engine.count('start ns-job'), 1);
    assert.match(s.journal.list({ limit: 1 })[0]?.message ?? '', /crashed with exit code 3/);
    await s.healer.stop();
  });

  it('leaves alone a die after a kill or stop, and forgets the mark on start', async () => {
    const s = setup();
    const c = s.engine.add({ name: 'ns-a', status: 'exited', exitCode: 3 });
    s.healer.handleEvent(ev('kill', c, { signal: '15' }));
    s.healer.handleEvent(ev('die', c, { exitCode: '3' }));
    await s.clock.advance(0);
    assert.equal(s.engine.count('start'), 0);
    assert.equal(s.metrics.get('repairman_skips_total', { reason: 'stopped_by_someone' }), 1);
    s.healer.handleEvent(ev('start', c));
    s.healer.handleEvent(ev('die', c, { exitCode: '3' }));
    await s.clock.advance(0);
    assert.equal(s.engine.count('start ns-a'), 1, 'a crash after a new start is a crash');
    await s.healer.stop();
  });

  it('a reload signal (HUP) marks a deliberate stop only for a minute', async () => {
    const s = setup();
    const c = s.engine.add({ name: 'ns-a', status: 'exited', exitCode: 3 });
    s.healer.handleEvent(ev('kill', c, { signal: '1' }));
    await s.clock.advance(61_000);
    s.healer.handleEvent(ev('die', c, { exitCode: '3' }));
    await s.clock.advance(0);
    assert.equal(s.engine.count('start ns-a'), 1);
    await s.healer.stop();
  });

  it('needs no inspect for deliberate exit codes', async () => {
    const s = setup();
    for (const code of [0, 130, 143]) {
      const c = s.engine.add({ name: `ns-c${code}`, status: 'exited', exitCode: code });
      s.healer.handleEvent(ev('die', c, { exitCode: String(code) }));
    }
    await s.clock.advance(0);
    assert.equal(s.engine.count('inspect'), 0);
    assert.equal(s.metrics.get('repairman_skips_total', { reason: 'deliberate_exit' }), 3);
    await s.healer.stop();
  });

  it('a namespace that matches no container warns once, with how many the engine has (issue 22)', async () => {
    const lines: string[] = [];
    const out = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } }) as LoggerOptions['out'];
    const s = setup({ settings: { namespace: 'aarchive' }, log: createLogger({ out, format: 'text' }) });
    s.engine.add({ name: 'examples-web-1' });
    s.engine.add({ name: 'examples-db-1', status: 'exited', exitCode: 0 });
    await s.healer.recheck('full');
    await s.healer.recheck('full');
    await new Promise((r) => setImmediate(r));
    const warned = lines.filter((l) => l.includes('matches no container'));
    assert.equal(warned.length, 1, lines.join(''));
    assert.match(warned[0]!, /namespace "aarchive" matches no container: the engine has 2 containers, none whose name starts with "aarchive"/);
    const quiet: string[] = [];
    const out2 = new Writable({ write(chunk, _enc, cb) { quiet.push(String(chunk)); cb(); } }) as LoggerOptions['out'];
    const t = setup({ settings: { namespace: 'examples' }, log: createLogger({ out: out2, format: 'text' }) });
    t.engine.add({ name: 'examples-web-1' });
    await t.healer.recheck('full');
    await new Promise((r) => setImmediate(r));
    assert.ok(!quiet.some((l) => l.includes('matches no container')), quiet.join(''));
  });

  it('ignores events outside the namespace and of excluded containers', async () => {
    const s = setup();
    const out = s.engine.add({ name: 'other', health: 'unhealthy' });
    const off = s.engine.add({ name: 'ns-off', health: 'unhealthy', labels: { 'org.riotkit.repairman.enable_autoheal': 'false' } });
    const swarm = s.engine.add({ name: 'ns-swarm', health: 'unhealthy', labels: { 'com.docker.swarm.task.id': 'abc' } });
    for (const c of [out, off, swarm]) s.healer.handleEvent(ev('health_status: unhealthy', c));
    await s.clock.advance(0);
    assert.equal(s.engine.count('inspect'), 0);
    assert.equal(s.engine.count('restart'), 0);
    assert.equal(s.healer.containers().length, 2, 'the excluded ones are shown, the outsider is not');
    await s.healer.stop();
  });

  it('does nothing when the fresh look finds it recovered or gone', async () => {
    const s = setup();
    const c = s.engine.add({ name: 'ns-web', health: 'healthy' });
    s.healer.handleEvent(ev('health_status: unhealthy', c));
    const g = s.engine.add({ name: 'ns-gone', health: 'unhealthy' });
    s.engine.containers.delete('ns-gone');
    s.healer.handleEvent(ev('health_status: unhealthy', g));
    await s.clock.advance(0);
    assert.equal(s.engine.count('restart'), 0);
    assert.ok(!s.healer.containers().some((t) => t.name === 'ns-gone'));
    await s.healer.stop();
  });

  it('coalesces a burst of triggers into one evaluation', async () => {
    const s = setup();
    const c = s.engine.add({ name: 'ns-web', health: 'unhealthy' });
    for (let i = 0; i < 10; i++) s.healer.handleEvent(ev('health_status: unhealthy', c));
    await s.clock.advance(0);
    assert.equal(s.engine.count('inspect'), 1);
    assert.equal(s.engine.count('restart'), 1);
    await s.healer.stop();
  });
});

describe('healer: re-checks', () => {
  it('a quick re-check costs a constant number of listings and inspects only real candidates', async () => {
    const s = setup();
    for (let i = 0; i < 50; i++) s.engine.add({ name: `ns-ok${i}`, health: 'healthy' });
    for (let i = 0; i < 50; i++) s.engine.add({ name: `ns-done${i}`, status: 'exited', exitCode: 0 });
    for (let i = 0; i < 20; i++) s.engine.add({ name: `ns-always${i}`, status: 'exited', exitCode: 1, restartPolicy: 'always' });
    s.engine.add({ name: 'ns-sick', health: 'unhealthy' });
    await s.healer.recheck('full');
    await s.clock.advance(0);
    const afterFull = s.engine.calls.length;
    assert.equal(s.engine.count('list'), 1);
    assert.equal(s.engine.count('restart'), 1);
    // The 20 'always' containers were inspected once and are remembered as not crashed.
    assert.equal(s.engine.count('inspect'), 21);
    s.engine.calls.length = 0;
    assert.ok(afterFull > 0);
    await s.clock.advance(5_000);
    s.engine.containers.get('ns-sick')!.health = 'unhealthy';
    await s.healer.recheck('quick');
    await s.clock.advance(0);
    // unhealthy + exited, + healthy while a container with a healthcheck is in trouble (recoveries
    // missed by the event stream).
    assert.deepEqual(s.engine.calls.filter((x) => x.startsWith('list')).map((x) => Object.keys(JSON.parse(x.slice(5)) as object).sort().join()), [
      'health,name',
      'name,status',
      'health,name',
    ]);
    assert.equal(s.engine.count('inspect'), 1, 'the sick one needs a decision (a gap wait)');
    assert.equal(s.engine.count('restart'), 0);
    s.engine.calls.length = 0;
    await s.healer.recheck('quick');
    await s.clock.advance(0);
    assert.equal(s.engine.count('inspect'), 0, 'waiting on a timer: no inspect');
    s.engine.calls.length = 0;
    // Many more containers: the same number of calls.
    for (let i = 0; i < 200; i++) s.engine.add({ name: `ns-more${i}`, status: 'exited', exitCode: 143 });
    await s.healer.recheck('quick');
    await s.clock.advance(0);
    assert.equal(s.engine.calls.length, 3);
    await s.healer.stop();
  });

  it('a re-check finds what events missed', async () => {
    const s = setup();
    s.engine.add({ name: 'ns-crash', status: 'exited', exitCode: 2 });
    s.engine.add({ name: 'ns-sick', health: 'unhealthy' });
    s.engine.add({ name: 'other-sick', health: 'unhealthy' });
    assert.equal(await s.healer.recheck('quick'), true);
    await s.clock.advance(0);
    assert.equal(s.engine.count('start ns-crash'), 1);
    assert.equal(s.engine.count('restart ns-sick'), 1);
    assert.equal(s.engine.count('restart other-sick'), 0);
    assert.ok(s.engine.calls.filter((c) => c.startsWith('list')).every((c) => c.includes('^/ns-')), 'namespace filtered by the engine');
    await s.healer.stop();
  });

  it('reports a failed listing', async () => {
    const s = setup();
    s.engine.listContainers = async () => {
      throw new RepairmanError('RM_ENGINE_UNREACHABLE', 'down');
    };
    assert.equal(await s.healer.recheck('full'), false);
    assert.equal(s.healer.lastFullCheckMs, null);
    await s.healer.stop();
  });

  it('a re-check asked for while one runs is served by it: nothing piles up, every caller learns the outcome when it ends', async () => {
    const s = setup();
    s.engine.add({ name: 'ns-web', health: 'healthy' });
    let delay = 12_000;
    const l = slowListings(s, () => delay);
    const outcomes: boolean[] = [];
    void s.healer.recheck('quick').then((ok) => outcomes.push(ok));
    for (let i = 0; i < 4; i++) {
      await s.clock.advance(2_000);
      void s.healer.recheck('quick').then((ok) => outcomes.push(ok));
    }
    assert.equal(l.started.length, 2, 'one re-check: unhealthy and exited listings');
    assert.deepEqual(outcomes, []);
    await s.clock.advance(2_000);
    assert.deepEqual(outcomes, [false, false, false, false, false], 'all told at the deadline');
    assert.match(String((s.healer.lastCheckError as Error).message), /did not answer within 10000 ms/);
    assert.equal(l.started.length, 2, 'no re-check queued behind the failed one');
    assert.equal(s.healer.checkInFlight, null);
    delay = 0;
    const again = s.healer.recheck('quick');
    await s.clock.advance(0);
    assert.equal(await again, true);
    assert.equal(s.healer.lastCheckError, null);
    await s.healer.stop();
  });

  it('a full re-check asked for while another runs starts when it ends, one for many requests; after a failed full one the next is full', async () => {
    const s = setup();
    let delay = 5_000;
    const l = slowListings(s, () => delay);
    const keys = (): string[] => l.started.map((f) => Object.keys(f).sort().join());
    const quick = s.healer.recheck('quick');
    const full = s.healer.recheck('full');
    assert.equal(s.healer.recheck('full'), full, 'one full re-check for both');
    assert.equal(s.healer.recheck('quick'), full, 'a quick one asked meanwhile is served by it');
    await s.clock.advance(5_000);
    assert.equal(await quick, true);
    assert.deepEqual(keys(), ['health,name', 'name,status', 'name'], 'the full listing once the quick one ended');
    await s.clock.advance(5_000);
    assert.equal(await full, true);
    delay = 12_000;
    const failed = s.healer.recheck('full');
    await s.clock.advance(10_000);
    assert.equal(await failed, false);
    delay = 0;
    l.started.length = 0;
    const next = s.healer.recheck('quick');
    await s.clock.advance(0);
    assert.equal(await next, true);
    const after = s.healer.recheck('quick');
    await s.clock.advance(0);
    assert.equal(await after, true);
    assert.deepEqual(keys(), ['name', 'health,name', 'name,status'], 'the full one owed first, then quick ones again');
    await s.healer.stop();
  });

  it('fresh abandons a stuck re-check (its listings aborted, nothing decided on it, its callers get the fresh result), never a fresh one', async () => {
    const s = setup();
    s.engine.add({ name: 'ns-crash', status: 'exited', exitCode: 3 });
    let delay = 60_000;
    const l = slowListings(s, () => delay);
    const t0 = s.clock.now();
    const stuck = s.healer.recheck('quick');
    await s.clock.advance(3_000);
    assert.deepEqual(s.healer.checkInFlight, { sinceMs: t0, mode: 'quick', abandonable: true });
    delay = 0;
    const fresh = s.healer.recheck('quick', { fresh: true });
    assert.equal(l.inFlight(), 2, 'the stuck listings were aborted, the fresh ones asked');
    assert.equal(s.healer.checkInFlight?.abandonable, false);
    await s.clock.advance(0);
    assert.equal(await fresh, true);
    assert.equal(await stuck, true, "the stuck one's callers get the fresh one's result");
    assert.equal(s.engine.count('start ns-crash'), 1, 'healed once');
    assert.equal(s.healer.lastCheckError, null, 'the abandoned one is not a failure');

    // A fresh re-check that is slow in turn gets its whole deadline.
    delay = 60_000;
    const stuck2 = s.healer.recheck('quick');
    await s.clock.advance(3_000);
    const fresh2 = s.healer.recheck('quick', { fresh: true });
    await s.clock.advance(3_000);
    const started = l.started.length;
    assert.equal(s.healer.recheck('quick', { fresh: true }), fresh2, 'not abandoned: it serves the request');
    assert.equal(l.started.length, started);
    await s.clock.advance(7_000);
    assert.equal(await fresh2, false);
    assert.equal(await stuck2, false);
    assert.match(String(s.healer.lastCheckError), /did not answer within 10000 ms/);
    assert.equal(l.inFlight(), 0);
    await s.healer.stop();
  });
});

describe('healer + watcher: an engine that answers slowly', () => {
  it('a re-check that times out marks the engine down at once; nothing piles up or is acted on; answered again, it is up within an interval', async () => {
    const s = setup({ settings: { intervalSec: 2 } });
    const sick = s.engine.add({ name: 'ns-sick', health: 'healthy' });
    s.engine.add({ name: 'ns-calm', health: 'healthy' });
    let delay = 0;
    const l = slowListings(s, () => delay);
    // The event stream stays connected all along, and silent.
    s.engine.events = (opts: { signal?: AbortSignal } = {}) =>
      // eslint-disable-next-line require-yield
      (async function* (): AsyncGenerator<DockerEvent> {
        await new Promise((r) => opts.signal?.addEventListener('abort', r, { once: true }));
      })();
    const ctl = new AbortController();
    const reg = new MetricsRegistry();
    const w = new Watcher({ engine: s.engine, healer: s.healer, log: silentLogger, metrics: createHealMetrics(reg), intervalSec: 2, signal: ctl.signal, clock: s.clock });
    const run = w.run();
    await s.clock.advance(0);
    assert.equal(w.engineUp, true);

    // Every listing now takes 12 s: the client gives up at 10 s. A container turns unhealthy meanwhile.
    delay = 12_000;
    sick.health = 'unhealthy';
    const slowAt = s.clock.now();
    let downAt: number | null = null;
    let most = 0;
    for (let i = 0; i < 120; i++) {
      await s.clock.advance(250);
      most = Math.max(most, l.inFlight());
      if (!w.engineUp) downAt ??= s.clock.now();
    }
    assert.ok(downAt !== null && downAt - slowAt <= 12_000, `marked down ${String(downAt && downAt - slowAt)} ms after the engine turned slow`);
    assert.equal(w.engineUp, false);
    assert.match(w.engineError ?? '', /^GET \/containers\/json: the engine at unix:\/\/\/fake did not answer within 10000 ms$/);
    assert.equal(reg.get('repairman_engine_up'), 0);
    assert.ok(most <= 3, `${most} listings in flight at once (one re-check's two and a probe)`);
    assert.ok(l.started.length <= 30, `${l.started.length} listings in 30 s`);
    assert.equal(s.engine.count('inspect'), 0, 'nothing decided without a listing');
    assert.equal(s.engine.count('restart'), 0);

    // It answers in time again: the stuck re-check is replaced at the next tick.
    delay = 0;
    const backAt = s.clock.now();
    let upAt: number | null = null;
    for (let i = 0; i < 40 && upAt === null; i++) {
      await s.clock.advance(250);
      if (w.engineUp) upAt = s.clock.now();
    }
    assert.ok(upAt !== null && upAt - backAt <= 2_250, `up ${String(upAt && upAt - backAt)} ms after the engine answered again`);
    assert.equal(reg.get('repairman_engine_up'), 1);
    assert.equal(w.engineError, null);
    assert.equal(s.engine.count('restart ns-sick'), 1, 'healed by that re-check');
    assert.equal(s.engine.count('restart ns-calm'), 0);
    ctl.abort();
    await run;
    await s.healer.stop();
  });
});

describe('healer: budget', () => {
  it('gap wait, then the longer wait after max restarts, then a new frame', async () => {
    const s = setup();
    const c = s.engine.add({ name: 'ns-web', health: 'unhealthy' });
    // Never recovers: every restart leaves it unhealthy again at once.
    neverRecovers(s);
    s.healer.handleEvent(ev('health_status: unhealthy', c));
    await s.clock.advance(0);
    assert.equal(s.engine.count('restart'), 1, 'restart at t=0');
    await s.clock.advance(9_000);
    assert.equal(s.engine.count('restart'), 1, 'gap of 10 s');
    await s.clock.advance(1_100);
    assert.equal(s.engine.count('restart'), 2, 'restart at t=10');
    await s.clock.advance(20_000);
    assert.equal(s.engine.count('restart'), 2, 'max 2 in the frame: longer wait');
    assert.equal(s.healer.budgetViewOf('ns-web', s.clock.now()).state, 'longer_wait');
    await s.clock.advance(300_000 - 20_000);
    assert.equal(s.engine.count('restart'), 3, 'restart after the longer wait, in a new frame');
    assert.deepEqual(kinds(s.journal), ['restart', 'wait', 'multiple_failures', 'restart', 'longer_wait', 'multiple_failures', 'restart', 'wait']);
    const warn = s.sent.filter((e) => e.kind === 'longer_wait');
    assert.equal(warn.length, 0, 'no URL: nothing sent');
    assert.equal(s.metrics.get('repairman_waits_total', { kind: 'longer' }), 1);
    assert.equal(s.metrics.get('repairman_waits_total', { kind: 'gap' }), 2);
    await s.healer.stop();
  });

  it('gives up, notifies, and lifts the give-up when healthy again', async () => {
    const s = setup({ policy: { maxRestartsInFrame: 0, maxChecksToGiveUp: 3, secondsBetweenRestarts: 1, notifyUrls: ['https://hooks.example/x'], notifyLevel: 'INFO' } });
    const c = s.engine.add({ name: 'ns-web', health: 'unhealthy' });
    neverRecovers(s);
    s.healer.handleEvent(ev('health_status: unhealthy', c));
    await s.clock.advance(10_000);
    assert.equal(s.engine.count('restart'), 3);
    assert.equal(s.healer.budgetViewOf('ns-web', s.clock.now()).state, 'given_up');
    await s.clock.advance(10_000);
    s.healer.handleEvent(ev('health_status: unhealthy', c));
    await s.clock.advance(0);
    assert.equal(s.engine.count('restart'), 3, 'given up: not touched');
    const giveUp = s.sent.find((e) => e.kind === 'give_up');
    assert.ok(giveUp, 'give-up is notified at INFO');
    assert.equal(giveUp.host, 'testhost');
    assert.equal(giveUp.healthOutput, 'exit code 1: boom');
    assert.deepEqual(giveUp.logLines, ['a', 'b']);
    assert.ok(!s.sent.some((e) => e.kind === 'restart'), 'restarts are DEBUG: not sent at INFO');
    assert.ok(s.sent.some((e) => e.kind === 'multiple_failures'));
    c.health = 'healthy';
    s.healer.handleEvent(ev('health_status: healthy', c));
    await s.clock.advance(0);
    assert.equal(s.healer.budgetViewOf('ns-web', s.clock.now()).state, 'ok');
    const back = s.sent.find((e) => e.kind === 'recovered');
    assert.ok(back, 'healthy again is notified');
    assert.equal(s.metrics.get('repairman_give_ups_total'), 1);
    await s.healer.stop();
  });

  it('resumes a persisted longer wait instead of restarting early', async () => {
    const journal = openJournal({ dbPath: ':memory:' });
    const clock = new ManualClock();
    const first = setup({ journal, clock });
    const c = first.engine.add({ name: 'ns-web', health: 'unhealthy' });
    first.engine.onRestart = (x) => {
      x.health = 'unhealthy';
    };
    for (let i = 0; i < 3; i++) {
      first.healer.handleEvent(ev('health_status: unhealthy', c));
      await clock.advance(11_000);
    }
    assert.equal(first.engine.count('restart'), 2);
    assert.equal(first.healer.budgetViewOf('ns-web', clock.now()).state, 'longer_wait');
    await first.healer.stop();
    // A new instance on the same database, a minute later.
    await clock.advance(60_000);
    const second = setup({ journal, clock, engine: first.engine });
    first.engine.calls.length = 0;
    await second.healer.recheck('full');
    await clock.advance(100_000);
    assert.equal(first.engine.count('restart'), 0, 'still in the longer wait');
    await clock.advance(150_000);
    assert.equal(first.engine.count('restart'), 1, 'restarted when the wait ended');
    await second.healer.stop();
  });

  it('reset lifts a give-up at once', async () => {
    const s = setup({ policy: { maxRestartsInFrame: 0, maxChecksToGiveUp: 1 } });
    const c = s.engine.add({ name: 'ns-web', health: 'unhealthy' });
    s.engine.onRestart = (x) => {
      x.health = 'unhealthy';
    };
    s.healer.handleEvent(ev('health_status: unhealthy', c));
    await s.clock.advance(20_000);
    assert.equal(s.healer.budgetViewOf('ns-web', s.clock.now()).state, 'given_up');
    s.healer.applyReset('ns-web');
    await s.clock.advance(0);
    assert.equal(s.engine.count('restart'), 2);
    await s.healer.stop();
  });

  it('a failed restart is journaled, counted, notified and retried after the gap', async () => {
    const s = setup({ policy: { notifyUrls: ['https://hooks.example/x'], notifyLevel: 'WARNING' } });
    const c = s.engine.add({ name: 'ns-web', health: 'unhealthy' });
    s.engine.failRestart = new RepairmanError('RM_ENGINE_CONFLICT', 'cannot restart');
    s.healer.handleEvent(ev('health_status: unhealthy', c));
    await s.clock.advance(0);
    assert.deepEqual(kinds(s.journal), ['restart_failed']);
    assert.equal(s.metrics.get('repairman_restart_failures_total'), 1);
    assert.equal(s.sent.filter((e) => e.kind === 'restart_failed').length, 1);
    s.engine.failRestart = null;
    await s.clock.advance(10_100);
    assert.equal(s.engine.count('restart'), 2, 'tried again when the gap ended, without an event');
    await s.healer.stop();
  });
});

describe('healer: recovery without a healthcheck', () => {
  it('recovers after running a whole frame', async () => {
    const s = setup({ policy: { frameSizeSec: 100 } });
    const c = s.engine.add({ name: 'ns-job', status: 'exited', exitCode: 3 });
    s.engine.onRestart = (x) => {
      x.startedAt = new Date(s.clock.now()).toISOString();
    };
    s.healer.handleEvent(ev('die', c, { exitCode: '3' }));
    await s.clock.advance(0);
    assert.equal(s.healer.budgetViewOf('ns-job', s.clock.now()).streak, 1);
    await s.clock.advance(99_000);
    assert.equal(s.healer.budgetViewOf('ns-job', s.clock.now()).streak, 1);
    await s.clock.advance(2_000);
    assert.equal(s.healer.budgetViewOf('ns-job', s.clock.now()).streak, 0);
    assert.ok(kinds(s.journal).includes('recovered'));
    await s.healer.stop();
  });
});

describe('healer: acting', () => {
  it('a slow restart of one container delays none of the others', async () => {
    const s = setup({ settings: { parallelism: 2 } });
    let release!: () => void;
    const slow = new Promise<void>((r) => {
      release = r;
    });
    s.engine.restartHook = async (c) => {
      if (c.name === 'ns-slow') await slow;
    };
    const all = [s.engine.add({ name: 'ns-slow', health: 'unhealthy' })];
    for (let i = 0; i < 6; i++) all.push(s.engine.add({ name: `ns-fast${i}`, health: 'unhealthy' }));
    for (const c of all) s.healer.handleEvent(ev('health_status: unhealthy', c));
    await s.clock.advance(0);
    assert.equal(s.engine.count('restart ns-fast'), 6);
    release();
    await s.clock.advance(0);
    assert.equal(s.engine.count('restart ns-slow'), 1);
    await s.healer.stop();
  });

  it('dry run decides and journals but changes nothing', async () => {
    const s = setup({ settings: { dryRun: true } });
    const c = s.engine.add({ name: 'ns-web', health: 'unhealthy' });
    const j = s.engine.add({ name: 'ns-job', status: 'exited', exitCode: 9 });
    s.healer.handleEvent(ev('health_status: unhealthy', c));
    s.healer.handleEvent(ev('die', j, { exitCode: '9' }));
    await s.clock.advance(0);
    assert.equal(s.engine.count('restart'), 0);
    assert.equal(s.engine.count('start'), 0);
    assert.deepEqual(kinds(s.journal, 'ns-web'), ['restart']);
    assert.match(s.journal.list({ limit: 1, container: 'ns-web' })[0]?.message ?? '', /Dry run/);
    await s.clock.advance(10_500);
    assert.deepEqual(kinds(s.journal, 'ns-web'), ['restart', 'multiple_failures', 'restart'], 'the budget goes on as if restarted');
    await s.healer.stop();
  });

  it('fetches logs only when a notification will be sent', async () => {
    const quiet = setup();
    const c = quiet.engine.add({ name: 'ns-web', health: 'unhealthy' });
    quiet.healer.handleEvent(ev('health_status: unhealthy', c));
    await quiet.clock.advance(0);
    assert.equal(quiet.engine.count('logs'), 0);
    await quiet.healer.stop();

    const loud = setup({ policy: { notifyUrls: ['https://hooks.example/x'], notifyLevel: 'DEBUG' } });
    const d = loud.engine.add({ name: 'ns-web', health: 'unhealthy' });
    loud.healer.handleEvent(ev('health_status: unhealthy', d));
    await loud.clock.advance(0);
    assert.equal(loud.engine.count('logs'), 1);
    const restartAt = loud.engine.calls.findIndex((x) => x.startsWith('restart'));
    const logsAt = loud.engine.calls.findIndex((x) => x.startsWith('logs'));
    assert.ok(restartAt >= 0 && restartAt < logsAt, 'logs are asked for after the restart call');
    const n = loud.sent.find((e) => e.kind === 'restart');
    assert.ok(n);
    assert.equal(n.reason, 'unhealthy');
    assert.deepEqual(n.urls, ['https://hooks.example/x']);
    assert.match(n.next ?? '', /not before 2024-01-01 12:00:10 UTC/);
    await loud.healer.stop();
  });

  it('leaves nothing attached to its long-lived stop signal after fetching logs (no AbortSignal.any leak)', async () => {
    const s = setup({ policy: { notifyUrls: ['https://hooks.example/x'], notifyLevel: 'DEBUG' } });
    const stopSignal = (s.healer as unknown as { abort: AbortController }).abort.signal;
    // Node 20 keeps every AbortSignal.any() composite of a signal in this set for as long as it lives.
    const dependants = (): number => {
      const sym = Object.getOwnPropertySymbols(stopSignal).find((x) => x.description === 'kDependantSignals');
      return sym ? ((stopSignal as unknown as Record<symbol, Set<unknown> | undefined>)[sym]?.size ?? 0) : 0;
    };
    const signals: AbortSignal[] = [];
    const logs = s.engine.logs.bind(s.engine);
    s.engine.logs = async (id: string, opts?: { signal?: AbortSignal }): Promise<LogsResult> => {
      if (opts?.signal) signals.push(opts.signal);
      return logs(id);
    };
    const listenersBefore = getEventListeners(stopSignal, 'abort').length;
    const N = 30;
    for (let i = 0; i < N; i++) {
      const c = s.engine.add({ name: `ns-web${i}`, health: 'unhealthy' });
      s.healer.handleEvent(ev('health_status: unhealthy', c));
    }
    await s.clock.advance(0);
    assert.equal(s.engine.count('logs'), N);
    assert.equal(signals.length, N, 'every log fetch has a signal');
    assert.equal(getEventListeners(stopSignal, 'abort').length, listenersBefore, 'no abort listener left on the stop signal');
    assert.equal(dependants(), 0, 'no composite signal registered on the stop signal');
    assert.ok(signals.every((x) => !x.aborted));
    await s.healer.stop();
  });

  it('aborts a log fetch still running when it stops', async () => {
    const s = setup({ policy: { notifyUrls: ['https://hooks.example/x'], notifyLevel: 'DEBUG' } });
    let seen: AbortSignal | undefined;
    s.engine.logs = (_id: string, opts?: { signal?: AbortSignal }): Promise<LogsResult> => {
      seen = opts?.signal;
      return new Promise((_resolve, reject) => opts?.signal?.addEventListener('abort', () => reject(opts.signal!.reason), { once: true }));
    };
    const c = s.engine.add({ name: 'ns-web', health: 'unhealthy' });
    s.healer.handleEvent(ev('health_status: unhealthy', c));
    await s.clock.advance(0);
    assert.ok(seen && !seen.aborted, 'the log fetch is under way');
    await s.healer.stop();
    assert.equal(seen.aborted, true, 'stopping aborts it');
  });

  it('reports a bad label once, and keeps the global value', async () => {
    const s = setup();
    const c = s.engine.add({ name: 'ns-web', health: 'unhealthy', labels: { 'org.riotkit.repairman.stop_timeout': 'soon' } });
    s.healer.handleEvent(ev('health_status: unhealthy', c));
    s.healer.handleEvent(ev('health_status: unhealthy', c));
    await s.clock.advance(0);
    assert.equal(s.engine.count(`restart ns-web t=${defaultSettings().defaults.stopTimeoutSec}`), 1);
    assert.equal(kinds(s.journal).filter((k) => k === 'config_error').length, 1);
    assert.equal(s.metrics.get('repairman_label_problems'), 1);
    await s.healer.stop();
  });

  it('stop clears every timer', async () => {
    const s = setup();
    const c = s.engine.add({ name: 'ns-web', health: 'unhealthy' });
    neverRecovers(s);
    s.healer.handleEvent(ev('health_status: unhealthy', c));
    await s.clock.advance(1_000);
    assert.ok(s.clock.timers.size > 0);
    await s.healer.stop();
    assert.equal(s.clock.timers.size, 0);
  });
});

// ---- restarts Repairman does not live to see end ------------------------------------------------

/** A restart that lasts until the caller gives up on it (the client rejects with the abort reason). */
function untilAborted(_c: FakeContainer, signal?: AbortSignal): Promise<void> {
  return new Promise((_resolve, reject) => {
    signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

describe('healer: restarts in flight when Repairman stops', () => {
  const LOUD = { notifyUrls: ['https://hooks.example/x'], notifyLevel: 'DEBUG' } as const;

  it('SIGTERM: an abandoned restart is journaled as handed to the engine, once, quickly, not notified', async () => {
    const s = setup({ policy: { ...LOUD, notifyUrls: [...LOUD.notifyUrls] } });
    const c = s.engine.add({ name: 'ns-web', health: 'unhealthy' });
    s.engine.restartHook = untilAborted;
    s.healer.handleEvent(ev('health_status: unhealthy', c));
    await s.clock.advance(0);
    assert.equal(s.engine.count('restart'), 1);
    assert.ok(s.journal.loadBudget('ns-web')?.inFlight, 'the marker is saved before the engine call');
    assert.deepEqual(kinds(s.journal), []);
    const started = performance.now();
    await s.healer.stop();
    const stopMs = performance.now() - started;
    assert.ok(stopMs < 100, `stop took ${stopMs} ms`);
    const [e] = s.journal.list({ limit: 10 });
    assert.deepEqual(kinds(s.journal), ['restart']);
    assert.match(e!.message, /^Restart requested \(unhealthy\) and handed to the engine when Repairman stopped/);
    assert.equal(e!.atMs, s.clock.now(), 'dated when it was asked of the engine');
    assert.equal(e!.details?.interrupted, 'stopped');
    const b = s.journal.loadBudget('ns-web');
    assert.equal(b?.inFlight, undefined, 'the marker went with the entry');
    assert.deepEqual(b?.restartsMs, [s.clock.now()], 'the restart still counts');
    assert.deepEqual(s.sent, [], 'the notifier is closing: nothing sent');
    // The next instance on this database finds nothing left to journal.
    const next = setup({ journal: s.journal, clock: s.clock, engine: s.engine });
    await next.healer.recheck('full');
    await s.clock.advance(0);
    assert.equal(kinds(s.journal).filter((k) => k === 'restart').length, 1, 'journaled once');
    await next.healer.stop();
  });

  it('SIGTERM: the give-up decided with an abandoned restart is journaled with it', async () => {
    const s = setup({ policy: { maxRestartsInFrame: 0, maxChecksToGiveUp: 1 } });
    const c = s.engine.add({ name: 'ns-web', health: 'unhealthy' });
    s.engine.restartHook = untilAborted;
    s.healer.handleEvent(ev('health_status: unhealthy', c));
    await s.clock.advance(0);
    await s.healer.stop();
    assert.deepEqual(kinds(s.journal), ['restart', 'give_up']);
    assert.equal(s.journal.loadBudget('ns-web')?.givenUp, true);
  });

  it('SIGTERM: a restart call that returns while stopping is journaled as done', async () => {
    const s = setup();
    const c = s.engine.add({ name: 'ns-web', health: 'unhealthy' });
    // An engine call that ends just as Repairman stops (not aborted).
    s.engine.restartHook = (_x, signal) => new Promise((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }));
    s.healer.handleEvent(ev('health_status: unhealthy', c));
    await s.clock.advance(0);
    await s.healer.stop();
    const [e] = s.journal.list({ limit: 10 });
    assert.deepEqual(kinds(s.journal), ['restart']);
    assert.match(e!.message, /^Restarted \(unhealthy\), as Repairman stopped/);
    assert.equal(e!.details?.interrupted, undefined);
    assert.equal(s.journal.loadBudget('ns-web')?.inFlight, undefined);
  });

  it('SIGKILL: the next instance journals the restart left in flight once, notifies it, and keeps it in the budget', async () => {
    const journal = openJournal({ dbPath: ':memory:' });
    const clock = new ManualClock();
    const first = setup({ journal, clock, policy: { maxRestartsInFrame: 0, maxChecksToGiveUp: 2 } });
    const c = first.engine.add({ name: 'ns-web', health: 'unhealthy', labels: { 'org.riotkit.repairman.max_historic_entries': '20' } });
    // The first restart completes; the second never does: the instance is "killed" during it (it is
    // simply never stopped, so it writes nothing more).
    first.healer.handleEvent(ev('health_status: unhealthy', c));
    await clock.advance(0);
    first.engine.restartHook = () => new Promise<void>(() => undefined);
    await clock.advance(11_000);
    c.health = 'unhealthy';
    first.healer.handleEvent(ev('health_status: unhealthy', c));
    await clock.advance(0);
    const requestedAt = clock.now();
    assert.equal(first.engine.count('restart'), 2);
    assert.deepEqual(kinds(journal), ['restart']);
    const marker = journal.loadBudget('ns-web')?.inFlight;
    assert.deepEqual(marker, { atMs: requestedAt, verb: 'restart', reason: 'unhealthy', attempt: 2, multipleFailures: true, gaveUp: true, maxHistoricEntries: 20 });

    // The engine finished the restart alone; a new instance starts on the same database.
    first.engine.restartHook = null;
    await clock.advance(5_000);
    const second = setup({ journal, clock, engine: first.engine, policy: { ...LOUD, notifyUrls: [...LOUD.notifyUrls], maxRestartsInFrame: 0, maxChecksToGiveUp: 2 } });
    assert.deepEqual(kinds(journal), ['restart'], 'nothing journaled before the container is seen (its labels decide)');
    await second.healer.recheck('full');
    await clock.advance(0);
    assert.deepEqual(kinds(journal), ['restart', 'multiple_failures', 'restart', 'give_up']);
    const [giveUp, left] = journal.list({ limit: 2 });
    assert.match(left!.message, /^Restart requested \(unhealthy\) before Repairman was stopped or killed; left to the engine to finish/);
    assert.equal(left!.details?.interrupted, 'killed');
    assert.equal(left!.atMs, requestedAt, 'dated when it was asked of the engine');
    assert.equal(giveUp!.atMs, requestedAt);
    const b = journal.loadBudget('ns-web');
    assert.equal(b?.inFlight, undefined, 'the marker is gone');
    assert.equal(b?.givenUp, true);
    assert.equal(b?.restartsMs.length, 2, 'both restarts count');
    assert.deepEqual(second.sent.map((e) => [e.kind, e.atMs]), [['multiple_failures', requestedAt], ['restart', requestedAt], ['give_up', requestedAt]]);
    assert.equal(second.engine.count('restart'), 2, 'given up: nothing more');
    await second.healer.stop();

    // A third instance finds nothing left over: never journaled twice.
    const third = setup({ journal, clock, engine: first.engine });
    await third.healer.recheck('full');
    await clock.advance(0);
    assert.deepEqual(kinds(journal), ['restart', 'multiple_failures', 'restart', 'give_up']);
    await third.healer.stop();
  });

  it('SIGKILL: a leftover of a container gone by the next start is journaled after the first listing, trimmed as it was', async () => {
    const journal = openJournal({ dbPath: ':memory:' });
    const clock = new ManualClock();
    const first = setup({ journal, clock, policy: { maxHistoricEntries: 1 } });
    const c = first.engine.add({ name: 'ns-web', status: 'exited', exitCode: 3 });
    first.engine.start = () => new Promise<void>(() => undefined);
    first.healer.handleEvent(ev('die', c, { exitCode: '3' }));
    await clock.advance(0);
    assert.ok(journal.loadBudget('ns-web')?.inFlight);
    journal.append({ container: 'ns-web', kind: 'config_error', atMs: clock.now(), message: 'older' }, 50);
    first.engine.containers.delete('ns-web');
    const second = setup({ journal, clock, engine: first.engine });
    await second.healer.recheck('full');
    await clock.advance(0);
    const entries = journal.list({ limit: 10 });
    assert.deepEqual(entries.map((e) => e.kind), ['restart'], 'max_historic_entries 1, as when it was restarted');
    assert.match(entries[0]!.message, /^Start requested \(crashed with exit code 3\) before Repairman was stopped or killed/);
    assert.equal(entries[0]!.details?.exitCode, 3);
    assert.equal(journal.loadBudget('ns-web')?.inFlight, undefined);
    await second.healer.stop();
  });
});

describe('healer: a container removed during its wait', () => {
  /** Restarted once at t=0, unhealthy again at once: in the gap wait until t=10 s. */
  async function inGapWait(policy: Partial<ContainerPolicy> = {}): Promise<Setup & { c: FakeContainer }> {
    const s = setup({ policy: { notifyUrls: ['https://hooks.example/x'], notifyLevel: 'DEBUG', ...policy } });
    const c = s.engine.add({ name: 'ns-web', health: 'unhealthy' });
    neverRecovers(s);
    s.healer.handleEvent(ev('health_status: unhealthy', c));
    await s.clock.advance(1_000);
    assert.equal(s.healer.budgetViewOf('ns-web', s.clock.now()).state, policy.maxRestartsInFrame === 1 ? 'longer_wait' : 'waiting');
    return { ...s, c };
  }

  it('destroyed in the gap wait: journaled (not notified), the wait dropped, nothing restarted', async () => {
    const s = await inGapWait();
    s.engine.containers.delete('ns-web');
    s.healer.handleEvent(ev('destroy', s.c));
    assert.deepEqual(kinds(s.journal), ['restart', 'wait', 'gone']);
    const [e] = s.journal.list({ limit: 1 });
    assert.equal(e!.message, 'Removed during the wait before its next restart (until 2024-01-01 12:00:10 UTC): nothing left to restart');
    assert.deepEqual(e!.details, { wait: 'gap', untilMs: Date.UTC(2024, 0, 1, 12, 0, 10) });
    assert.equal(s.healer.pendingWakeMs('ns-web'), null);
    s.engine.calls.length = 0;
    await s.clock.advance(60_000);
    assert.deepEqual(s.engine.calls, [], 'no timer left: not even an inspect');
    assert.deepEqual(s.sent.filter((x) => x.kind === 'gone'), []);
    await s.healer.stop();
  });

  it('renamed in the gap wait: journaled under the old name, whose wait is dropped', async () => {
    const s = await inGapWait();
    s.engine.containers.delete('ns-web');
    s.c.name = 'ns-web2';
    s.c.health = 'healthy';
    s.engine.containers.set('ns-web2', s.c);
    s.healer.handleEvent(ev('rename', s.c, { oldName: '/ns-web' }));
    assert.deepEqual(kinds(s.journal, 'ns-web'), ['restart', 'wait', 'gone']);
    const [e] = s.journal.list({ limit: 1, container: 'ns-web' });
    assert.equal(
      e!.message,
      'Renamed to ns-web2 during the wait before its next restart (until 2024-01-01 12:00:10 UTC): nothing left to restart under this name; the new name has a budget of its own',
    );
    assert.equal(e!.details?.renamedTo, 'ns-web2');
    assert.equal(s.healer.pendingWakeMs('ns-web'), null);
    await s.clock.advance(60_000);
    assert.equal(s.engine.count('restart'), 1, 'healthy under its new name: not restarted again');
    assert.deepEqual(s.sent.filter((x) => x.kind === 'gone'), []);
    await s.healer.stop();
  });

  it('renamed while not waiting: nothing journaled', async () => {
    const s = setup();
    const c = s.engine.add({ name: 'ns-calm', health: 'healthy' });
    s.healer.handleEvent(ev('start', c));
    s.engine.containers.delete('ns-calm');
    c.name = 'ns-calm2';
    s.engine.containers.set('ns-calm2', c);
    s.healer.handleEvent(ev('rename', c, { oldName: '/ns-calm' }));
    await s.clock.advance(0);
    assert.deepEqual(kinds(s.journal, 'ns-calm'), []);
    await s.healer.stop();
  });

  it('removed in the longer wait, seen by a full re-check (no event): journaled once', async () => {
    const s = await inGapWait({ maxRestartsInFrame: 1 });
    s.engine.containers.delete('ns-web');
    await s.healer.recheck('full');
    await s.healer.recheck('full');
    await s.clock.advance(0);
    assert.deepEqual(kinds(s.journal), ['restart', 'longer_wait', 'gone']);
    assert.match(s.journal.list({ limit: 1 })[0]!.message, /^Removed during its longer wait \(until 2024-01-01 12:05:00 UTC\)/);
    await s.healer.stop();
  });

  it('removed in the gap wait without any event: found when the wait ends, journaled', async () => {
    const s = await inGapWait();
    s.engine.containers.delete('ns-web');
    await s.clock.advance(10_000);
    assert.deepEqual(kinds(s.journal), ['restart', 'wait', 'gone']);
    assert.equal(s.engine.count('restart'), 1);
    await s.healer.stop();
  });

  it('keeps max_historic_entries, and says nothing about a container removed while not waiting', async () => {
    const s = await inGapWait({ maxHistoricEntries: 2 });
    s.engine.containers.delete('ns-web');
    s.healer.handleEvent(ev('destroy', s.c));
    assert.deepEqual(kinds(s.journal), ['wait', 'gone']);
    const other = s.engine.add({ name: 'ns-calm', health: 'healthy' });
    s.healer.handleEvent(ev('start', other));
    s.engine.containers.delete('ns-calm');
    s.healer.handleEvent(ev('destroy', other));
    await s.clock.advance(0);
    assert.deepEqual(kinds(s.journal, 'ns-calm'), []);
    await s.healer.stop();
  });
});

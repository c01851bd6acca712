import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DockerEvent, EngineApi, Filters } from '../docker/types.js';
import { refusedCallError } from '../docker/refusals.js';
import { RepairmanError } from '../errors.js';
import { silentLogger } from '../log.js';
import { MetricsRegistry } from '../metrics/registry.js';
import { ManualClock } from '../../test/helpers/manual-clock.js';
import { createHealMetrics } from './metrics.js';
import { backoffMs, EVENT_FILTERS, PROBE_FILTERS, reminderDueMs, Watcher } from './watcher.js';
import type { Logger, LogFields } from '../log.js';

function event(time: number, action = 'start'): DockerEvent {
  return { Type: 'container', Action: action, Actor: { ID: 'x', Attributes: { name: 'ns-a' } }, time, timeNano: time * 1e9 };
}

describe('watcher', () => {
  it('backs off exponentially, capped at a few seconds', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 10].map(backoffMs), [200, 400, 800, 1600, 3000, 3000, 3000]);
  });

  it('waits for the engine, re-checks on every (re)connect, resumes the stream since the last event', async () => {
    let pings = 0;
    const streams: { since: unknown; filters: Filters | undefined }[] = [];
    const ctl = new AbortController();
    const engine = {
      async ping() {
        pings++;
        if (pings <= 2) throw new RepairmanError('RM_ENGINE_UNREACHABLE', 'no socket');
      },
      events(opts: { since?: number; filters?: Filters; signal?: AbortSignal; onOpen?: () => void }) {
        streams.push({ since: opts.since, filters: opts.filters });
        const n = streams.length;
        return (async function* () {
          opts.onOpen?.();
          if (n === 1) {
            yield event(100);
            yield event(105, 'die');
            throw new RepairmanError('RM_ENGINE_UNREACHABLE', 'stream cut');
          }
          if (n === 2) {
            yield event(107);
            ctl.abort();
            return;
          }
        })();
      },
    } as unknown as EngineApi;
    const handled: string[] = [];
    const checks: string[] = [];
    const reg = new MetricsRegistry();
    const metrics = createHealMetrics(reg);
    const w = new Watcher({
      engine,
      healer: {
        handleEvent: (e: DockerEvent) => void handled.push(`${e.Action}@${e.time}`),
        recheck: async (mode: 'full' | 'quick') => {
          checks.push(mode);
          return true;
        },
        lastCheckError: null,
        checkInFlight: null,
        eventStreamOpened: () => void handled.push('opened'),
        eventStreamClosed: () => void handled.push('closed'),
      },
      log: silentLogger,
      metrics,
      intervalSec: 3600,
      signal: ctl.signal,
    });
    const heard: string[] = [];
    w.onEvent((e) => void heard.push(e.Action));
    w.onRecheck((mode) => void heard.push(`check:${mode}`));
    assert.equal(w.engineUp, false);
    await w.run();
    assert.deepEqual(heard, ['check:full', 'start', 'die', 'check:full', 'start'], 'listeners hear what the healer hears');
    assert.equal(pings, 4, 'two failures, then a ping before each stream');
    // The healer knows when a stream is followed, and when none is.
    assert.deepEqual(handled, ['opened', 'start@100', 'die@105', 'closed', 'opened', 'start@107', 'closed']);
    assert.deepEqual(streams.map((s) => s.since), [undefined, 105]);
    assert.deepEqual(streams[0]?.filters, EVENT_FILTERS);
    assert.deepEqual(checks, ['full', 'full']);
    assert.equal(reg.get('repairman_event_stream_reconnects_total'), 1);
    assert.equal(reg.get('repairman_engine_up'), 1);
  });

  it('a reconnection replays from the last second seen: its events already handled are skipped, the rest handled once', async () => {
    const at = (time: number, nano: number, action: string): DockerEvent => ({ Type: 'container', Action: action, Actor: { ID: 'x', Attributes: { name: 'ns-a' } }, time, timeNano: time * 1e9 + nano });
    const ctl = new AbortController();
    const streams: unknown[] = [];
    const engine = {
      async ping() {},
      events(opts: { since?: number; onOpen?: () => void }) {
        streams.push(opts.since);
        const n = streams.length;
        return (async function* () {
          opts.onOpen?.();
          if (n === 1) {
            yield at(100, 1, 'health_status: healthy');
            yield at(100, 2, 'health_status: unhealthy');
            throw new RepairmanError('RM_ENGINE_UNREACHABLE', 'stream cut');
          }
          // The engine replays the whole second 100, then what came during the gap.
          yield at(100, 1, 'health_status: healthy');
          yield at(100, 2, 'health_status: unhealthy');
          yield at(100, 3, 'die');
          yield at(99, 5, 'kill'); // out of order: never seen, handled
          yield at(101, 0, 'start');
          ctl.abort();
        })();
      },
    } as unknown as EngineApi;
    const handled: string[] = [];
    const w = new Watcher({
      engine,
      healer: { handleEvent: (e: DockerEvent) => void handled.push(`${e.Action}@${e.timeNano - e.time * 1e9}`), recheck: async () => true, lastCheckError: null, checkInFlight: null, eventStreamOpened: () => undefined, eventStreamClosed: () => undefined },
      log: silentLogger,
      metrics: createHealMetrics(new MetricsRegistry()),
      intervalSec: 3600,
      signal: ctl.signal,
    });
    await w.run();
    assert.deepEqual(streams, [undefined, 100]);
    assert.deepEqual(handled, ['health_status: healthy@1', 'health_status: unhealthy@2', 'die@3', 'kill@5', 'start@0']);
  });

  it('stops at once when aborted while the engine is down', async () => {
    const ctl = new AbortController();
    const engine = {
      async ping() {
        throw new RepairmanError('RM_ENGINE_UNREACHABLE', 'no socket');
      },
    } as unknown as EngineApi;
    const reg = new MetricsRegistry();
    const w = new Watcher({
      engine,
      healer: { handleEvent: () => undefined, recheck: async () => true, lastCheckError: null, checkInFlight: null, eventStreamOpened: () => undefined, eventStreamClosed: () => undefined },
      log: silentLogger,
      metrics: createHealMetrics(reg),
      intervalSec: 1,
      signal: ctl.signal,
    });
    const run = w.run();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(w.engineUp, false);
    assert.match(w.engineError ?? '', /no socket/);
    const t0 = Date.now();
    ctl.abort();
    await run;
    assert.ok(Date.now() - t0 < 100);
    assert.equal(reg.get('repairman_engine_up'), 0);
  });

  it('a re-check that times out marks the engine down while the stream stays connected; a stuck one is replaced only if a probe answers', async () => {
    const clock = new ManualClock(1_000_000);
    const ctl = new AbortController();
    const timeout = new RepairmanError('RM_ENGINE_TIMEOUT', 'GET /containers/json: the engine at unix:///x did not answer within 10000 ms');
    const probes: { filters: Filters | undefined; signal: AbortSignal | undefined }[] = [];
    let probeAnswers = false;
    const engine = {
      async ping() {},
      events(opts: { signal?: AbortSignal }) {
        // eslint-disable-next-line require-yield
        return (async function* () {
          await new Promise((r) => opts.signal?.addEventListener('abort', r, { once: true }));
        })();
      },
      listContainers(opts: { filters?: Filters; signal?: AbortSignal }) {
        probes.push({ filters: opts.filters, signal: opts.signal });
        if (probeAnswers) return Promise.resolve([]);
        return new Promise((_resolve, reject) => opts.signal?.addEventListener('abort', () => reject(opts.signal?.reason), { once: true }));
      },
    } as unknown as EngineApi;
    const asked: string[] = [];
    let inFlight: { sinceMs: number; mode: 'full' | 'quick'; abandonable: boolean } | null = null;
    let answer: (ok: boolean) => void = () => undefined;
    const healer = {
      handleEvent: () => undefined,
      recheck: (mode: 'full' | 'quick', opts: { fresh?: boolean } = {}) => {
        asked.push(`${mode}${opts.fresh ? ' fresh' : ''}`);
        return new Promise<boolean>((r) => {
          answer = r;
        });
      },
      lastCheckError: timeout as unknown,
      get checkInFlight() {
        return inFlight;
      },
      eventStreamOpened: () => undefined,
      eventStreamClosed: () => undefined,
    };
    const reg = new MetricsRegistry();
    const w = new Watcher({ engine, healer, log: silentLogger, metrics: createHealMetrics(reg), intervalSec: 2, signal: ctl.signal, clock });
    const run = w.run();
    await clock.advance(0);
    assert.deepEqual(asked, ['full']);
    assert.equal(w.engineUp, true);
    answer(false);
    await clock.advance(0);
    assert.equal(w.engineUp, false, 'down at once, though the stream is connected');
    assert.equal(w.engineError, timeout.message);
    assert.equal(reg.get('repairman_engine_up'), 0);

    // The next tick asks again (the stream is connected); that re-check hangs.
    await clock.advance(2_000);
    assert.deepEqual(asked, ['full', 'quick']);
    inFlight = { sinceMs: clock.now(), mode: 'quick', abandonable: true };
    // An interval later it is still there: a probe, which does not answer within half an interval.
    await clock.advance(2_000);
    assert.equal(probes.length, 1);
    assert.deepEqual(probes[0]!.filters, PROBE_FILTERS);
    assert.deepEqual(asked, ['full', 'quick'], 'nothing more asked of a silent engine');
    await clock.advance(999);
    assert.equal(probes[0]!.signal?.aborted, false);
    await clock.advance(1);
    assert.equal(probes[0]!.signal?.aborted, true, 'the probe is given half an interval');
    // The engine answers again: the probe does, and a fresh re-check replaces the stuck one.
    probeAnswers = true;
    await clock.advance(1_000);
    assert.equal(probes.length, 2);
    assert.deepEqual(asked, ['full', 'quick', 'quick fresh']);
    inFlight = null;
    answer(true);
    await clock.advance(0);
    assert.equal(w.engineUp, true);
    assert.equal(w.engineError, null);
    assert.equal(reg.get('repairman_engine_up'), 1);

    // While the engine is up, a re-check in flight is waited for, never probed.
    inFlight = { sinceMs: clock.now() - 60_000, mode: 'quick', abandonable: true };
    await clock.advance(2_000);
    assert.equal(probes.length, 2);
    assert.deepEqual(asked.slice(-1), ['quick']);
    ctl.abort();
    await run;
  });
  it('an event stream a socket proxy refuses is asked for again once per interval, quietly', async () => {
    const clock = new ManualClock(1_000_000);
    const ctl = new AbortController();
    let streams = 0;
    const warned: string[] = [];
    const engine = {
      async ping() {},
      events() {
        streams++;
        return { [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(refusedCallError('GET /events', 'tcp://proxy:2375', '403 Forbidden')) }) };
      },
    } as unknown as EngineApi;
    const healer = { handleEvent: () => undefined, recheck: async () => true, lastCheckError: null, checkInFlight: null, eventStreamOpened: () => undefined, eventStreamClosed: () => undefined };
    const log = { ...silentLogger, warn: (msg: string) => void warned.push(msg), child: () => log };
    const w = new Watcher({ engine, healer, log, metrics: createHealMetrics(new MetricsRegistry()), intervalSec: 10, signal: ctl.signal, clock });
    const running = w.run();
    await clock.advance(0);
    for (let i = 0; i < 6; i++) await clock.advance(5_000);
    assert.ok(streams >= 3 && streams <= 4, `asked ${streams} times in 30 s with a 10 s interval (a backoff would ask 12)`);
    assert.deepEqual(warned, [], 'said once by the client\'s report, not at every attempt');
    assert.equal(w.engineUp, true, 'the engine answers: re-checks heal meanwhile');
    ctl.abort();
    await clock.advance(0);
    await running;
  });

  it('reminds that the engine is still unreachable at 1, 5, 15, 60 min then hourly, and says once how long it was down', async () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map((n) => reminderDueMs(n) / 60_000), [1, 5, 15, 60, 120, 180, 240]);
    const clock = new ManualClock(1_000_000);
    const ctl = new AbortController();
    let reachable = true;
    let cut: () => void = () => undefined;
    const engine = {
      async ping() {
        if (!reachable) throw new RepairmanError('RM_ENGINE_UNREACHABLE', 'cannot reach the Docker engine at tcp://10.0.0.9:2375: connection refused');
      },
      events(opts: { signal?: AbortSignal }) {
        // eslint-disable-next-line require-yield
        return (async function* () {
          await new Promise<void>((r) => {
            cut = r;
            opts.signal?.addEventListener('abort', () => r(), { once: true });
          });
          if (!reachable) throw new RepairmanError('RM_ENGINE_UNREACHABLE', 'stream cut');
        })();
      },
    } as unknown as EngineApi;
    const lines: { level: string; msg: string; fields: LogFields }[] = [];
    const rec = (level: string) => (msg: string, fields: LogFields = {}): void => void lines.push({ level, msg, fields });
    const log: Logger = { debug: () => undefined, info: rec('info'), warn: rec('warn'), error: rec('error'), child: () => log };
    const w = new Watcher({
      engine,
      healer: { handleEvent: () => undefined, recheck: async () => true, lastCheckError: null, checkInFlight: null, eventStreamOpened: () => undefined, eventStreamClosed: () => undefined },
      log,
      metrics: createHealMetrics(new MetricsRegistry()),
      intervalSec: 3600,
      signal: ctl.signal,
      clock,
    });
    const run = w.run();
    await clock.advance(0);
    assert.equal(w.engineUp, true);
    reachable = false;
    cut();
    const startedAt = clock.now();
    const said = (): string[] => lines.map((l) => `${l.msg}${l.fields.for ? ` for ${String(l.fields.for)}` : ''}${l.fields.after ? ` after ${String(l.fields.after)}` : ''}`);
    await clock.advance(59_000);
    assert.deepEqual(said(), ['engine reachable', 'event stream broke, reconnecting', 'engine not reachable, retrying'], 'one warning, then the retries are quiet');
    lines.splice(0, 2);
    // Down since the first failed ping, 200 ms after the stream broke.
    await clock.advance(1_500);
    assert.deepEqual(said().slice(1), ['engine still not reachable for 60 s']);
    assert.equal(lines[1]?.level, 'warn');
    assert.equal(lines[1]?.fields.error, 'cannot reach the Docker engine at tcp://10.0.0.9:2375: connection refused', 'the address is in it (the log masks URLs)');
    // Up to 3 h 30 min: reminders at 5, 15, 60, 120 and 180 min, nothing in between.
    await clock.advance(3.5 * 3600_000 - 60_000);
    assert.deepEqual(said().slice(2), [
      'engine still not reachable for 5 min',
      'engine still not reachable for 15 min',
      'engine still not reachable for 60 min',
      'engine still not reachable for 2 h',
      'engine still not reachable for 3 h',
    ]);
    reachable = true;
    await clock.advance(3_000);
    assert.equal(w.engineUp, true);
    const back = lines.filter((l) => l.msg.startsWith('engine reachable'));
    assert.equal(back.length, 1);
    assert.equal(back[0]?.msg, 'engine reachable again');
    assert.match(String(back[0]?.fields.after), /^3 h 30 min( \d+ s)?$/, String(back[0]?.fields.after));
    assert.ok(clock.now() - startedAt >= 3.5 * 3600_000);
    // Up again: no more reminders, however long it stays up.
    const count = lines.length;
    await clock.advance(5 * 3600_000);
    assert.equal(lines.length, count);
    ctl.abort();
    await run;
  });
});

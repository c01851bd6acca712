// The healer against a fake engine and a manual clock: budgets, recovery without a healthcheck, acting.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { defaultSettings } from '../config/settings-table.js';
import type { LogsResult } from '../docker/types.js';
import { RepairmanError } from '../errors.js';
import { openJournal } from '../journal/journal.js';
import { ev, kinds, neverRecovers, setup } from '../../test/helpers/healer-setup.js';
import { ManualClock } from '../../test/helpers/manual-clock.js';

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

// The healer against a fake engine and a manual clock: detection and re-checks (budgets, acting:
// healer-acting.test.ts; stopping and removed containers: healer-stop.test.ts).
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { DockerEvent } from '../docker/types.js';
import { RepairmanError } from '../errors.js';
import { openJournal } from '../journal/journal.js';
import { createLogger, silentLogger, type LoggerOptions } from '../log.js';
import { MetricsRegistry } from '../metrics/registry.js';
import { ev, kinds, setup, slowListings } from '../../test/helpers/healer-setup.js';
import { createHealMetrics } from './metrics.js';
import { Watcher } from './watcher.js';

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

  for (const file of [true, false]) {
    it(`a stop seen ${file ? 'is kept in a journal file: the next instance leaves the exit alone' : 'in memory only: the next instance takes the exit for a crash'} (docs/behaviour.md §2.2)`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'repairman-healer-'));
      after(() => rmSync(dir, { recursive: true, force: true }));
      const journal = openJournal({ dbPath: file ? join(dir, 'j.db') : ':memory:' });
      const s = setup({ journal, keepStops: file });
      const c = s.engine.add({ name: 'ns-a', status: 'exited', exitCode: 3, finishedAt: new Date(s.clock.now()).toISOString() });
      s.healer.handleEvent(ev('kill', c, { signal: '15' }));
      s.healer.handleEvent(ev('die', c, { exitCode: '3' }));
      await s.clock.advance(0);
      assert.equal(s.engine.count('start'), 0);
      assert.deepEqual(journal.deliberateStops().map((m) => [m.container, m.id, m.action, m.signal]), file ? [['ns-a', c.id, 'kill', '15']] : []);
      await s.healer.stop();
      await s.clock.advance(5000);
      const next = setup({ journal, clock: s.clock, engine: s.engine, keepStops: file });
      await next.healer.recheck('full');
      await next.healer.recheck('full');
      await s.clock.advance(0);
      if (!file) {
        assert.equal(s.engine.count('start ns-a'), 1, 'the old behaviour without a file');
        await next.healer.stop();
        return;
      }
      assert.equal(s.engine.count('start ns-a'), 0, 'a container someone stopped is not started');
      assert.equal(next.metrics.get('repairman_skips_total', { reason: 'stopped_by_someone' }), 1, 'judged once, then settled');
      assert.equal(next.healer.seenOf('ns-a', c.id)?.deliberateStop, true);
      // A start ends the mark; a removal, or another container under the name, drops it too.
      next.healer.handleEvent(ev('start', c));
      assert.deepEqual(journal.deliberateStops(), []);
      next.healer.handleEvent(ev('stop', c));
      assert.equal(journal.deliberateStops().length, 1);
      s.engine.containers.delete('ns-a');
      await next.healer.recheck('full');
      assert.deepEqual(journal.deliberateStops(), [], 'gone from the listing');
      journal.setDeliberateStop({ container: 'ns-b', id: 'old-id', action: 'stop', signal: null, atMs: s.clock.now() });
      journal.setDeliberateStop({ container: 'ns-gone', id: 'gone-id', action: 'stop', signal: null, atMs: s.clock.now() });
      await next.healer.stop();
      s.engine.add({ name: 'ns-b', status: 'exited', exitCode: 3, finishedAt: new Date(s.clock.now()).toISOString() });
      const third = setup({ journal, clock: s.clock, engine: s.engine, keepStops: true });
      await third.healer.recheck('full');
      await s.clock.advance(0);
      assert.equal(s.engine.count('start ns-b'), 1, 'a mark of another container of that name does not hold');
      assert.deepEqual(journal.deliberateStops(), [], 'both stale marks dropped');
      await third.healer.stop();
      journal.close();
    });
  }

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

  it('knows which exited containers were stopped by hand: a stop/kill seen, a deliberate code (137 once no OOM), from events or a listing; not a crash nor its own stop', async () => {
    const s = setup();
    const before = s.engine.add({ name: 'ns-before', status: 'exited', exitCode: 0 });
    await s.healer.recheck('full');
    const killed = s.engine.add({ name: 'ns-killed', status: 'exited', exitCode: 3 });
    s.healer.handleEvent(ev('kill', killed, { signal: '15' }));
    s.healer.handleEvent(ev('die', killed, { exitCode: '3' }));
    const term = s.engine.add({ name: 'ns-term', status: 'exited', exitCode: 143 });
    s.healer.handleEvent(ev('die', term, { exitCode: '143' }));
    const k137 = s.engine.add({ name: 'ns-k137', status: 'exited', exitCode: 137 });
    s.healer.handleEvent(ev('die', k137, { exitCode: '137' }));
    const oom = s.engine.add({ name: 'ns-oom', status: 'exited', exitCode: 137, oom: true });
    s.healer.handleEvent(ev('die', oom, { exitCode: '137' }));
    const crash = s.engine.add({ name: 'ns-crash', status: 'exited', exitCode: 3, labels: { 'org.riotkit.repairman.heal_exited': 'false' } });
    s.healer.handleEvent(ev('die', crash, { exitCode: '3' }));
    await s.clock.advance(0);
    const byHand = (n: string): boolean => s.healer.stoppedByHand(n);
    assert.deepEqual(['ns-before', 'ns-killed', 'ns-term', 'ns-k137', 'ns-oom', 'ns-crash'].map(byHand), [true, true, true, true, false, false]);
    s.healer.handleEvent(ev('start', killed));
    assert.equal(byHand('ns-killed'), false, 'started again: no longer stopped');
    assert.equal(byHand(before.name), true);
    await s.healer.stop();
  });

  it('its own on_unhealthy=stop is not "stopped by hand"', async () => {
    const s = setup({ policy: { onUnhealthy: 'stop' } });
    const c = s.engine.add({ name: 'ns-web', health: 'unhealthy' });
    s.engine.onStop = (x) => {
      x.status = 'exited';
      x.exitCode = 143;
    };
    s.healer.handleEvent(ev('health_status: unhealthy', c));
    await s.clock.advance(0);
    assert.equal(s.engine.count('stop ns-web'), 1);
    s.healer.handleEvent(ev('die', c, { exitCode: '143' }));
    await s.clock.advance(0);
    assert.equal(s.healer.stoppedByHand('ns-web'), false);
    // The engine's own events of that stop, arriving after the call returned (a loaded engine), change nothing.
    s.healer.handleEvent(ev('kill', c, { signal: '15' }));
    s.healer.handleEvent(ev('stop', c));
    await s.clock.advance(0);
    assert.equal(s.healer.stoppedByHand('ns-web'), false);
    // and `explain` hears the same from the running healer
    assert.deepEqual(s.healer.seenOf('ns-web', c.id), { deliberateStop: true, ownStop: true, sawAlive: true, unhealthySinceMs: s.clock.now() });
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

  it("Podman's --health-on-failure: never acted on; told once per unhealthy spell (info log, journal), not at each event or re-check", async () => {
    const lines: string[] = [];
    const out = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } }) as LoggerOptions['out'];
    const s = setup({ log: createLogger({ out, format: 'text' }) });
    const c = s.engine.add({ name: 'ns-pod', health: 'unhealthy', healthOnFailure: 'restart' });
    const told = (): string[] => lines.filter((l) => l.includes('left to Podman'));
    s.healer.handleEvent(ev('health_status: unhealthy', c));
    await s.clock.advance(0);
    s.healer.handleEvent(ev('health_status: unhealthy', c));
    await s.healer.recheck('full');
    await s.clock.advance(0);
    assert.equal(s.engine.calls.filter((k) => /^(restart|start|stop|kill) /.test(k)).length, 0, s.engine.calls.join('\n'));
    assert.equal(told().length, 1, lines.join(''));
    assert.match(told()[0]!, /engine_health_action/);
    assert.match(told()[0]!, /Podman's --health-on-failure=restart acts on it when it turns unhealthy/);
    const entries = () => s.journal.list({ limit: 100, container: 'ns-pod' }).filter((e) => e.kind === 'left_to_engine');
    assert.equal(entries().length, 1);
    assert.equal(entries()[0]!.message, 'Unhealthy (unhealthy); left to Podman: its --health-on-failure=restart acts on it, Repairman does not');
    assert.equal(s.metrics.get('repairman_skips_total', { reason: 'engine_health_action' }), 2);
    // Podman restarted it and it is healthy; its next turn to unhealthy is a new spell, told again.
    c.health = 'healthy';
    s.healer.handleEvent(ev('health_status: healthy', c));
    await s.clock.advance(1000);
    c.health = 'unhealthy';
    s.healer.handleEvent(ev('health_status: unhealthy', c));
    await s.clock.advance(0);
    assert.equal(entries().length, 2);
    assert.equal(told().length, 2);
    assert.equal(s.engine.calls.filter((k) => /^(restart|start|stop|kill) /.test(k)).length, 0);
    await s.healer.stop();
  });

  it("a Podman listing (no health in its Status): a full re-check finds the unhealthy one by filter, and re-checks never end its spell", async () => {
    const s = setup({ policy: { unhealthyForSec: 30 } });
    s.engine.podmanListing = true;
    s.engine.add({ name: 'ns-web', health: 'unhealthy' });
    await s.healer.recheck('full');
    await s.clock.advance(0);
    assert.ok(s.engine.calls.includes('list {"name":["^/ns-"],"health":["unhealthy"]}'), s.engine.calls.join('\n'));
    assert.deepEqual(kinds(s.journal), ['held'], 'found unhealthy at the full re-check, held by unhealthy_for');
    // Each re-check's listing says nothing of the health: the spell that began at the first goes on.
    for (let i = 0; i < 4; i++) {
      await s.clock.advance(10_000);
      await s.healer.recheck(i % 2 ? 'full' : 'quick');
      await s.clock.advance(0);
    }
    assert.equal(s.engine.count('restart ns-web'), 1, 'restarted once unhealthy for 30 s');
    assert.deepEqual(kinds(s.journal), ['held', 'restart']);
    await s.healer.stop();
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

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultSettings } from '../config/settings-table.js';
import type { ContainerPolicy } from '../config/types.js';
import { refusedCallError } from '../docker/refusals.js';
import { RepairmanError } from '../errors.js';
import type { JournalEntryInput } from '../journal/types.js';
import type { Logger, LogFields } from '../log.js';
import { MetricsRegistry } from '../metrics/registry.js';
import type { NotifyEvent } from '../notify/types.js';
import { KeyedSerializer } from '../util/keyed-queue.js';
import { DuplicateCleaner, duplicateListing, type DuplicateCleanerOptions } from './cleaner.js';
import { FAKE_CREATED_SEC, FakeEngine, type FakeContainer } from '../../test/helpers/fake-engine.js';
import { splitPrefixes } from './matcher.js';

/** The fake engine, whose containers carry by default the compose labels of the service named like
 * the container without its prefixes: a duplicate needs them (docs/behaviour.md §4). */
class ComposeEngine extends FakeEngine {
  override add(c: Partial<FakeContainer> & { name: string }): FakeContainer {
    return super.add({ ...c, labels: { 'com.docker.compose.project': 'p', 'com.docker.compose.service': splitPrefixes(c.name).base, ...c.labels } });
  }
}

const BASE_SEC = FAKE_CREATED_SEC;
const HEX = '0123456789ab';

class RecordingLogger implements Logger {
  lines: { level: string; msg: string; fields: LogFields }[] = [];
  debug(msg: string, fields: LogFields = {}): void { this.lines.push({ level: 'debug', msg, fields }); }
  info(msg: string, fields: LogFields = {}): void { this.lines.push({ level: 'info', msg, fields }); }
  warn(msg: string, fields: LogFields = {}): void { this.lines.push({ level: 'warn', msg, fields }); }
  error(msg: string, fields: LogFields = {}): void { this.lines.push({ level: 'error', msg, fields }); }
  child(): Logger { return this; }
  count(msg: string): number { return this.lines.filter((l) => l.msg === msg).length; }
}

const CLEAN = 'org.riotkit.repairman.enable_cleaning_duplicated_services';
const STOP = 'org.riotkit.repairman.stop_timeout';

/** A simple policy function: global defaults with cleaning on, a few labels honoured. */
function policyFor(globalCleaning: boolean) {
  return (_name: string, labels: Record<string, string>): ContainerPolicy => {
    const p: ContainerPolicy = { ...defaultSettings().defaults, enableCleaningDuplicatedServices: globalCleaning, notifyUrls: ['https://hooks.example/x'], notifyLevel: 'DEBUG', maxHistoricEntries: 7 };
    if (labels[CLEAN] !== undefined) p.enableCleaningDuplicatedServices = labels[CLEAN] === 'true';
    if (labels[STOP] !== undefined) p.stopTimeoutSec = Number(labels[STOP]);
    if (labels['test.level']) p.notifyLevel = labels['test.level'] as ContainerPolicy['notifyLevel'];
    return p;
  };
}

function setup(over: Partial<DuplicateCleanerOptions> = {}) {
  const engine = new ComposeEngine();
  const journal: { entry: JournalEntryInput; max: number }[] = [];
  const notes: NotifyEvent[] = [];
  const log = new RecordingLogger();
  const metrics = new MetricsRegistry();
  const serializer = new KeyedSerializer();
  let nowMs = (BASE_SEC + 3600) * 1000;
  const cleaner = new DuplicateCleaner({
    engine,
    serializer,
    policyFor: policyFor(true),
    journal: (entry, max) => journal.push({ entry, max }),
    notify: (e) => notes.push(e),
    log,
    metrics,
    dryRun: false,
    now: () => nowMs,
    host: 'host-1',
    ...over,
  });
  return {
    engine, journal, notes, log, metrics, serializer, cleaner,
    setNow: (ms: number) => { nowMs = ms; },
    check: () => cleaner.check(engine.summaries()),
  };
}

describe('DuplicateCleaner: removal', () => {
  it('stops a running duplicate with ITS stop_timeout, removes it, keeps the real one, journals and notifies', async () => {
    const s = setup();
    const real = s.engine.add({ name: 'p_web_1', labels: { 'test.level': 'INFO' } });
    const dup = s.engine.add({ name: `${HEX}_p_web_1`, labels: { [STOP]: '3' } });
    await s.check();
    assert.deepEqual(s.engine.ops(), [`remove ${HEX}_p_web_1 force=false`, `stop ${HEX}_p_web_1 t=3`, `remove ${HEX}_p_web_1 force=false`]);
    assert.ok(s.engine.find(real.id), 'the real container is kept');
    assert.equal(s.engine.find(dup.id), undefined);

    assert.equal(s.journal.length, 1);
    const j = s.journal[0];
    assert.equal(j?.entry.container, 'p_web_1', 'journaled under the REAL name');
    assert.equal(j?.entry.kind, 'duplicate_removed');
    assert.match(j?.entry.message ?? '', new RegExp(`^Removed ${HEX}_p_web_1 \\(${dup.id.slice(0, 12)}, was running\\)`));
    assert.equal(j?.max, 7);
    assert.equal(j?.entry.details?.duplicate, `${HEX}_p_web_1`);

    assert.equal(s.notes.length, 1);
    const n = s.notes[0];
    assert.equal(n?.kind, 'duplicate_removed');
    assert.equal(n?.severity, 'debug');
    assert.equal(n?.container, 'p_web_1');
    assert.equal(n?.host, 'host-1');
    assert.equal(n?.level, 'INFO', 'routing from the real container policy');
    assert.deepEqual(n?.urls, ['https://hooks.example/x']);

    assert.equal(s.metrics.get('repairman_duplicates_removed_total'), 1);
    assert.equal(s.metrics.get('repairman_duplicates_held_back'), 0);
    assert.deepEqual(s.cleaner.duplicates(), [
      { name: `${HEX}_p_web_1`, id: dup.id, duplicateOf: 'p_web_1', reason: s.cleaner.duplicates()[0]?.reason, heldBack: null },
    ]);
  });

  it('removes an exited duplicate without stopping it; the global stop_timeout applies when no label', async () => {
    const s = setup();
    s.engine.add({ name: 'w' });
    s.engine.add({ name: `${HEX}_w`, status: 'exited' });
    await s.check();
    assert.deepEqual(s.engine.ops(), [`remove ${HEX}_w force=false`]);
    const t = setup();
    t.engine.add({ name: 'w' });
    t.engine.add({ name: `${HEX}_w` });
    await t.check();
    assert.deepEqual(t.engine.ops(), [`remove ${HEX}_w force=false`, `stop ${HEX}_w t=10`, `remove ${HEX}_w force=false`]);
  });

  it('removes stacked duplicates too', async () => {
    const s = setup();
    s.engine.add({ name: 'w' });
    s.engine.add({ name: `${HEX}_w`, status: 'exited' });
    s.engine.add({ name: `fedcba987654_${HEX}_w`, status: 'exited' });
    await s.check();
    assert.deepEqual([...s.engine.containers.values()].map((c) => c.name), ['w']);
    assert.equal(s.metrics.get('repairman_duplicates_removed_total'), 2);
  });

  it('forces the removal when the duplicate started again after the stop', async () => {
    const s = setup();
    s.engine.add({ name: 'w' });
    s.engine.add({ name: `${HEX}_w` });
    s.engine.onStop = (c) => { c.status = 'running'; };
    await s.check();
    assert.deepEqual(s.engine.ops(), [`remove ${HEX}_w force=false`, `stop ${HEX}_w t=10`, `remove ${HEX}_w force=false`, `remove ${HEX}_w force=true`]);
    assert.equal(s.journal[0]?.entry.details?.forced, true);
  });
});

describe('DuplicateCleaner: re-inspection just before acting', () => {
  it('does nothing when the duplicate is gone', async () => {
    const s = setup();
    s.engine.add({ name: 'w' });
    const dup = s.engine.add({ name: `${HEX}_w` });
    const listing = s.engine.summaries();
    s.engine.containers.delete(dup.name);
    await s.cleaner.check(listing);
    assert.deepEqual(s.engine.ops(), []);
    assert.equal(s.journal.length, 0);
    assert.equal(s.metrics.get('repairman_duplicates_failed_total'), 0);
  });

  it('does nothing when compose finished meanwhile (the prefixed one was renamed)', async () => {
    const s = setup();
    s.engine.add({ name: 'w' });
    const dup = s.engine.add({ name: `${HEX}_w` });
    const listing = s.engine.summaries();
    dup.name = 'w-renamed';
    await s.cleaner.check(listing);
    assert.deepEqual(s.engine.ops(), []);
    assert.equal(s.log.count('duplicate not removed'), 1);
  });

  it('does nothing when the real container is gone or was re-created', async () => {
    for (const change of ['gone', 'recreated'] as const) {
      const s = setup();
      const real = s.engine.add({ name: 'w' });
      s.engine.add({ name: `${HEX}_w` });
      const listing = s.engine.summaries();
      s.engine.containers.delete(real.name);
      if (change === 'recreated') s.engine.add({ name: 'w' });
      await s.cleaner.check(listing);
      assert.deepEqual(s.engine.ops(), [], change);
      assert.equal(s.journal.length, 0, change);
    }
  });

  it('does nothing when the compose labels now differ', async () => {
    const s = setup();
    s.engine.add({ name: 'w', labels: { 'com.docker.compose.project': 'p', 'com.docker.compose.service': 'w' } });
    const dup = s.engine.add({ name: `${HEX}_w`, labels: { 'com.docker.compose.project': 'p', 'com.docker.compose.service': 'w' } });
    const listing = s.engine.summaries();
    dup.labels = {};
    await s.cleaner.check(listing);
    assert.deepEqual(s.engine.ops(), []);
  });

  it('a duplicate that disappears during the stop is not a failure', async () => {
    const s = setup();
    s.engine.add({ name: 'w' });
    s.engine.add({ name: `${HEX}_w` });
    s.engine.onStop = (c) => { s.engine.containers.delete(c.name); };
    await s.check();
    assert.equal(s.metrics.get('repairman_duplicates_failed_total'), 0);
    assert.equal(s.journal.length, 0);
  });
});

describe('DuplicateCleaner: holds, dry run, failures', () => {
  it('leaves held-back duplicates alone, counts them, shows why, logs each once', async () => {
    const s = setup({ policyFor: policyFor(false) });
    s.engine.add({ name: 'a' });
    s.engine.add({ name: `${HEX}_a` });
    s.engine.add({ name: 'b', labels: { [CLEAN]: 'true' } });
    const bDup = s.engine.add({ name: `${HEX}_b`, status: 'exited' });
    await s.check();
    await s.check();
    assert.deepEqual(s.engine.ops(), [`remove ${HEX}_b force=false`]);
    assert.equal(s.engine.find(bDup.id), undefined);
    assert.equal(s.metrics.get('repairman_duplicates_held_back'), 1);
    const view = s.cleaner.duplicates();
    assert.equal(view.length, 1);
    assert.equal(view[0]?.name, `${HEX}_a`);
    assert.equal(view[0]?.heldBack, 'enable_cleaning_duplicated_services is off for a');
    assert.equal(s.log.count('duplicate held back'), 1);
  });

  it('a young duplicate waits for the grace, then goes', async () => {
    const s = setup({ graceSec: 60 });
    const created = BASE_SEC + 7200;
    s.engine.add({ name: 'w' });
    s.engine.add({ name: `${HEX}_w`, created });
    s.setNow((created + 59) * 1000);
    await s.check();
    assert.deepEqual(s.engine.ops(), []);
    assert.match(s.cleaner.duplicates()[0]?.heldBack ?? '', /created 59 s ago/);
    s.setNow((created + 60) * 1000);
    await s.check();
    assert.deepEqual(s.engine.ops(), [`remove ${HEX}_w force=false`, `stop ${HEX}_w t=10`, `remove ${HEX}_w force=false`]);
  });

  it('--dry-run changes nothing, journals and notifies "would remove" once per duplicate', async () => {
    const s = setup({ dryRun: true });
    s.engine.add({ name: 'w' });
    s.engine.add({ name: `${HEX}_w` });
    await s.check();
    await s.check();
    assert.deepEqual(s.engine.ops(), []);
    assert.equal(s.engine.containers.size, 2);
    assert.equal(s.journal.length, 1);
    assert.match(s.journal[0]?.entry.message ?? '', /^Dry run: would remove 0123456789ab_w/);
    assert.equal(s.notes.length, 1);
    assert.equal(s.metrics.get('repairman_duplicates_removed_total'), 0);
    assert.match(s.cleaner.duplicates()[0]?.heldBack ?? '', /dry run/);
  });

  it('an engine error is logged and counted, never thrown, shown in the view, and retried next time', async () => {
    const s = setup();
    s.engine.add({ name: 'w' });
    s.engine.add({ name: `${HEX}_w` });
    s.engine.failNext.stop = new RepairmanError('RM_ENGINE_ERROR', 'engine said 500');
    await s.check();
    assert.equal(s.metrics.get('repairman_duplicates_failed_total'), 1);
    assert.equal(s.log.count('duplicate removal failed'), 1);
    assert.equal(s.journal.length, 0);
    assert.match(s.cleaner.duplicates()[0]?.heldBack ?? '', /removal failed .*engine said 500/);
    await s.check();
    assert.equal(s.engine.containers.size, 1);
    assert.equal(s.metrics.get('repairman_duplicates_removed_total'), 1);
    assert.equal(s.cleaner.duplicates()[0]?.heldBack, null);
  });

  it('a socket proxy that allows stop but refuses DELETE: the duplicate is never stopped, and removed once allowed', async () => {
    const s = setup();
    s.engine.add({ name: 'w' });
    const dup = s.engine.add({ name: `${HEX}_w` });
    const refused = (): RepairmanError => refusedCallError(`DELETE /containers/${dup.id}`, 'tcp://proxy:2375', '403 Forbidden');
    s.engine.failNext.remove = refused();
    await s.check();
    assert.deepEqual(s.engine.ops(), [`remove ${HEX}_w force=false`], 'the refused removal is asked for before any stop');
    assert.equal(dup.status, 'running', 'not stopped for nothing');
    assert.match(s.cleaner.duplicates()[0]?.heldBack ?? '', /removal failed .*DELETE \/containers\/\{id\}: allow it with/);
    assert.equal(s.log.lines.filter((l) => l.msg === 'duplicate removal failed' && l.level !== 'debug').length, 0, 'said once by the client, not at every check');
    await s.check();
    assert.equal(s.engine.find(dup.id), undefined, 'removed (stopped first) once DELETE is allowed');
    assert.deepEqual(s.engine.ops().slice(1), [`remove ${HEX}_w force=false`, `stop ${HEX}_w t=10`, `remove ${HEX}_w force=false`]);
  });

  it('Podman answers the removal of a running container 500, not 409: stopped and removed all the same', async () => {
    const s = setup();
    s.engine.add({ name: 'w' });
    const dup = s.engine.add({ name: `${HEX}_w` });
    s.engine.failNext.remove = new RepairmanError('RM_ENGINE_ERROR', `DELETE /containers/${dup.id}: engine answered 500: cannot remove container ${dup.id} as it is running - running or paused containers cannot be removed without force: container state improper`);
    await s.check();
    assert.deepEqual(s.engine.ops(), [`remove ${HEX}_w force=false`, `stop ${HEX}_w t=10`, `remove ${HEX}_w force=false`]);
    assert.equal(s.engine.find(dup.id), undefined);
  });

  it('a removal refused after the stop (the proxy changed meanwhile) starts the duplicate again', async () => {
    const s = setup();
    s.engine.add({ name: 'w' });
    const dup = s.engine.add({ name: `${HEX}_w` });
    s.engine.onStop = () => {
      s.engine.failNext.remove = refusedCallError(`DELETE /containers/${dup.id}`, 'tcp://proxy:2375', '403 Forbidden');
    };
    await s.check();
    assert.deepEqual(s.engine.ops(), [`remove ${HEX}_w force=false`, `stop ${HEX}_w t=10`, `remove ${HEX}_w force=false`, `start ${HEX}_w`]);
    assert.equal(dup.status, 'running');
    assert.equal(s.log.count('duplicate started again: its removal was refused after the stop'), 1);
  });

  it('a policy function that throws means no removal, not a crash', async () => {
    const s = setup({ policyFor: () => { throw new Error('boom'); } });
    s.engine.add({ name: 'w' });
    s.engine.add({ name: `${HEX}_w` });
    await s.check();
    assert.deepEqual(s.engine.ops(), []);
    assert.match(s.cleaner.duplicates()[0]?.heldBack ?? '', /off for w/);
  });

  it('a journal or notifier that throws does not stop the cleaner', async () => {
    const s = setup({ journal: () => { throw new Error('disk full'); }, notify: () => { throw new Error('nope'); } });
    s.engine.add({ name: 'w' });
    s.engine.add({ name: `${HEX}_w`, status: 'exited' });
    await s.check();
    assert.equal(s.engine.containers.size, 1);
    assert.equal(s.log.count('journal write failed'), 1);
  });
});

describe('DuplicateCleaner: serialization and concurrency', () => {
  it('waits while the REAL container is being acted on (shared serializer, real name as key)', async () => {
    const s = setup();
    s.engine.add({ name: 'w' });
    s.engine.add({ name: `${HEX}_w`, status: 'exited' });
    let release!: () => void;
    const healing = s.serializer.run('w', () => new Promise<void>((r) => { release = r; }));
    const checking = s.check();
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(s.engine.ops(), [], 'nothing while the real container is busy');
    release();
    await healing;
    await checking;
    assert.deepEqual(s.engine.ops(), [`remove ${HEX}_w force=false`]);
  });

  it('two overlapping checks remove a duplicate once', async () => {
    const s = setup();
    s.engine.add({ name: 'w' });
    s.engine.add({ name: `${HEX}_w` });
    await Promise.all([s.check(), s.check(), s.check()]);
    assert.deepEqual(s.engine.ops(), [`remove ${HEX}_w force=false`, `stop ${HEX}_w t=10`, `remove ${HEX}_w force=false`]);
    assert.equal(s.journal.length, 1);
  });
});

describe('DuplicateCleaner: trigger', () => {
  it('a burst of triggers makes one listing', async () => {
    let lists = 0;
    const s = setup({ debounceMs: 30, list: async () => { lists++; return s.engine.summaries(); } });
    s.engine.add({ name: 'w' });
    s.engine.add({ name: `${HEX}_w`, status: 'exited' });
    for (let i = 0; i < 10; i++) s.cleaner.trigger();
    await s.cleaner.settled();
    assert.equal(lists, 1);
    assert.equal(s.engine.containers.size, 1);
    s.cleaner.close();
  });

  it('wakes up by itself when a young duplicate leaves its grace', async () => {
    let lists = 0;
    const s = setup({ graceSec: 1, now: Date.now, debounceMs: 10, list: async () => { lists++; return s.engine.summaries(); } });
    s.engine.add({ name: 'w' });
    s.engine.add({ name: `${HEX}_w`, status: 'exited', created: Date.now() / 1000 });
    await s.check();
    assert.equal(s.engine.containers.size, 2, 'held back while young');
    const deadline = Date.now() + 5000;
    while (s.engine.containers.size > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(s.engine.containers.size, 1, 'removed after the grace without an outside check');
    assert.ok(lists >= 1);
    s.cleaner.close();
  });

  it('does nothing after close() or an aborted signal, and without a list function', async () => {
    let lists = 0;
    const ac = new AbortController();
    const s = setup({ debounceMs: 5, signal: ac.signal, list: async () => { lists++; return []; } });
    ac.abort();
    s.cleaner.trigger();
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(lists, 0);
    s.engine.add({ name: 'w' });
    s.engine.add({ name: `${HEX}_w` });
    await s.check();
    assert.deepEqual(s.engine.ops(), []);
    const t = setup({ debounceMs: 5 });
    t.cleaner.trigger();
    await t.cleaner.settled();
  });
});

describe('duplicateListing: the whole namespace only when a prefixed name is in it', () => {
  const signal = new AbortController().signal;
  const names = (list: { Names: string[] }[]): string[] => list.map((c) => c.Names[0] ?? '').sort();

  it('no prefixed name: one filtered call, nothing to match', async () => {
    const engine = new ComposeEngine();
    for (let i = 0; i < 50; i++) engine.add({ name: `app_web_${i}` });
    engine.add({ name: `${HEX}_other_web_1` });
    assert.deepEqual(await duplicateListing(engine, 'app')(signal), []);
    assert.deepEqual(engine.calls, [`list {"name":["^/([0-9a-f]{12}_)+app"]}`]);
  });

  it('a prefixed name: the namespace, real containers too, as the cleaner matches them', async () => {
    const engine = new ComposeEngine();
    engine.add({ name: 'app_web_1' });
    engine.add({ name: 'app_db_1' });
    engine.add({ name: `${HEX}_app_web_1` });
    engine.add({ name: 'other_web_1' });
    const list = await duplicateListing(engine, 'app')(signal);
    assert.deepEqual(names(list), [`/${HEX}_app_web_1`, '/app_db_1', '/app_web_1']);
    assert.equal(engine.calls.length, 2);
    const { cleaner } = setup();
    assert.equal((await (async () => { await cleaner.check(list); return cleaner.duplicates(); })()).length, 1);
  });

  it('no namespace: every container once a prefixed one exists', async () => {
    const engine = new ComposeEngine();
    engine.add({ name: 'web' });
    assert.deepEqual(await duplicateListing(engine, '')(signal), []);
    engine.add({ name: `${HEX}_web` });
    assert.deepEqual(names(await duplicateListing(engine, '')(signal)), [`/${HEX}_web`, '/web']);
    assert.deepEqual(engine.calls, [`list {"name":["^/([0-9a-f]{12}_)+"]}`, `list {"name":["^/([0-9a-f]{12}_)+"]}`, 'list {}']);
  });
});

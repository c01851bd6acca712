// Duplicate cleaning against the private engine, with leftovers made through the docker CLI the way
// compose v2 makes them (`<hex>_proj-svc-1` with com.docker.compose.replace), stacked prefixes, the
// per-container opt-in label, the grace for young duplicates and --dry-run.
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { decodeLabels } from '../../src/config/labels.js';
import { defaultSettings } from '../../src/config/settings-table.js';
import { DuplicateCleaner } from '../../src/dedupe/cleaner.js';
import { inNamespace, namespaceNameFilter } from '../../src/dedupe/matcher.js';
import { createDockerClient } from '../../src/docker/client.js';
import type { ContainerSummary } from '../../src/docker/types.js';
import type { JournalEntryInput } from '../../src/journal/types.js';
import { silentLogger } from '../../src/log.js';
import { MetricsRegistry } from '../../src/metrics/registry.js';
import type { NotifyEvent } from '../../src/notify/types.js';
import { KeyedSerializer } from '../../src/util/keyed-queue.js';
import { docker, hasTestEngine, runContainer, testDockerHost, uniqueNamespace, waitFor } from '../helpers/engine.js';

const CLEAN = 'org.riotkit.repairman.enable_cleaning_duplicated_services';
/** Stops at once on SIGTERM, so removals take milliseconds, not the 10 s stop timeout. */
const QUICK = 'trap "exit 0" TERM; sleep 100000 & wait';

const hex12 = (): string => randomBytes(6).toString('hex');

interface Rig {
  cleaner: DuplicateCleaner;
  journal: JournalEntryInput[];
  notes: NotifyEvent[];
  metrics: MetricsRegistry;
  list: () => Promise<ContainerSummary[]>;
  check: () => Promise<void>;
  names: () => Promise<string[]>;
}

function rig(ns: string, opts: { globalCleaning: boolean; graceSec?: number; dryRun?: boolean; withTrigger?: boolean; anywhere?: boolean; now?: () => number }): Rig {
  const engine = createDockerClient({ DOCKER_HOST: testDockerHost() });
  const defaults = { ...defaultSettings().defaults, enableCleaningDuplicatedServices: opts.globalCleaning };
  // As the app lists for --namespace; `anywhere` also takes names that merely contain the namespace
  // (near misses such as `abcdefghijkl_<ns>...` are outside the namespace by construction).
  const filter = opts.anywhere ? ns : namespaceNameFilter(ns);
  const list = async (): Promise<ContainerSummary[]> => {
    const all = await engine.listContainers({ all: true, filters: filter ? { name: [filter] } : {} });
    return all.filter((c) => c.Names.some((n) => (opts.anywhere ? n.includes(ns) : inNamespace(n, ns))));
  };
  const journal: JournalEntryInput[] = [];
  const notes: NotifyEvent[] = [];
  const metrics = new MetricsRegistry();
  const cleaner = new DuplicateCleaner({
    engine,
    serializer: new KeyedSerializer(),
    policyFor: (name, labels) => decodeLabels(name, labels, defaults).policy,
    journal: (e) => journal.push(e),
    notify: (e) => notes.push(e),
    log: silentLogger,
    metrics,
    dryRun: opts.dryRun ?? false,
    graceSec: opts.graceSec ?? 0,
    ...(opts.withTrigger ? { list: () => list(), debounceMs: 100 } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
  return {
    cleaner, journal, notes, metrics, list,
    check: async () => cleaner.check(await list()),
    names: async () => (await list()).map((c) => c.Names[0]?.slice(1) ?? '').sort(),
  };
}

/** Every container whose name contains the namespace, duplicates included (removeNamespace only sees `^/<ns>`). */
async function cleanup(ns: string): Promise<void> {
  const ids = await docker(['ps', '-aq', '--filter', `name=${ns}`]).catch(() => '');
  if (ids) await docker(['rm', '-f', '-v', ...ids.split('\n')]).catch(() => undefined);
}

function compose(project: string, service: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'com.docker.compose.project': project,
    'com.docker.compose.service': service,
    'com.docker.compose.container-number': '1',
    'com.docker.compose.oneoff': 'False',
    'com.docker.compose.version': '2.29.7',
    ...extra,
  };
}

async function state(name: string): Promise<string> {
  return docker(['inspect', '--format', '{{.State.Status}}', name]);
}

function skipWithoutEngine(t: TestContext): boolean {
  if (hasTestEngine()) return false;
  t.skip('REPAIRMAN_TEST_DOCKER_HOST is not set');
  return true;
}

describe('dedupe on the private engine', { concurrency: true }, () => {
  it('removes a compose v2 leftover whose replace target is gone; holds back one whose target still exists', async (t) => {
    if (skipWithoutEngine(t)) return;
    const ns = uniqueNamespace('dedupe-v2');
    t.after(() => cleanup(ns));
    const project = `${ns}p`;
    // The container compose v2 replaced: its id is what the leftover's label and prefix carry.
    const gone = await runContainer(`${project}-old`, { cmd: QUICK });
    await docker(['rm', '-f', gone]);
    const realWeb = await runContainer(`${project}-web-1`, { cmd: QUICK, labels: compose(project, 'web') });
    const leftover = `${gone.slice(0, 12)}_${project}-web-1`;
    await runContainer(leftover, { cmd: QUICK, labels: compose(project, 'web', { 'com.docker.compose.replace': gone }) });
    // Mid-way: the replaced container (the real one) still exists.
    const realApi = await runContainer(`${project}-api-1`, { cmd: QUICK, labels: compose(project, 'api') });
    const midway = `${realApi.slice(0, 12)}_${project}-api-1`;
    await runContainer(midway, { cmd: QUICK, labels: compose(project, 'api', { 'com.docker.compose.replace': realApi }) });

    const r = rig(ns, { globalCleaning: true });
    await r.check();

    assert.deepEqual(await r.names(), [midway, `${project}-api-1`, `${project}-web-1`].sort());
    assert.equal(await state(`${project}-web-1`), 'running', 'the real container keeps running');
    assert.equal(await docker(['inspect', '--format', '{{.Id}}', `${project}-web-1`]), realWeb);
    const view = r.cleaner.duplicates();
    assert.equal(view.length, 2);
    const held = view.find((v) => v.name === midway);
    assert.equal(held?.duplicateOf, `${project}-api-1`);
    assert.match(held?.heldBack ?? '', /com\.docker\.compose\.replace names .*-api-1 .* still exists/);
    assert.equal(view.find((v) => v.name === leftover)?.heldBack, null);
    assert.equal(r.metrics.get('repairman_duplicates_removed_total'), 1);
    assert.equal(r.metrics.get('repairman_duplicates_held_back'), 1);
    assert.equal(r.journal.length, 1);
    assert.equal(r.journal[0]?.container, `${project}-web-1`);
    assert.equal(r.journal[0]?.kind, 'duplicate_removed');
    assert.match(r.journal[0]?.message ?? '', new RegExp(`^Removed ${leftover} .*was running`));
    assert.equal(r.notes[0]?.severity, 'debug');
    assert.equal(r.notes[0]?.container, `${project}-web-1`);
  });

  it('removes stacked prefixes, running and exited, and nothing else', async (t) => {
    if (skipWithoutEngine(t)) return;
    const ns = uniqueNamespace('dedupe-stack');
    t.after(() => cleanup(ns));
    const real = `${ns}s_web_1`;
    const [h1, h2] = [hex12(), hex12()];
    const labels = compose(ns, 'web');
    await runContainer(real, { cmd: QUICK, labels });
    await runContainer(`${h2}_${real}`, { cmd: 'exit 3', labels });
    await runContainer(`${h1}_${h2}_${real}`, { cmd: QUICK, labels });
    // Near misses that must stay.
    await runContainer(`abcdefghijkl_${real}`, { cmd: QUICK });
    await runContainer(`${h1}0_${real}`, { cmd: QUICK });
    const orphan = `${hex12()}_${ns}nobody`; // no real container named `${ns}nobody`
    await runContainer(orphan, { cmd: QUICK });

    const r = rig(ns, { globalCleaning: true, anywhere: true });
    await r.check();
    assert.deepEqual(await r.names(), [real, `abcdefghijkl_${real}`, `${h1}0_${real}`, orphan].sort());
    assert.equal(await state(real), 'running');
    assert.equal(r.metrics.get('repairman_duplicates_removed_total'), 2);
  });

  it('global flag off, label on for one service: only that service loses its duplicates', async (t) => {
    if (skipWithoutEngine(t)) return;
    const ns = uniqueNamespace('dedupe-optin');
    t.after(() => cleanup(ns));
    const project = `${ns}p`;
    const optedIn = `${project}_web_1`;
    const other = `${project}_db_1`;
    await runContainer(optedIn, { cmd: QUICK, labels: compose(project, 'web', { [CLEAN]: 'true' }) });
    await runContainer(other, { cmd: QUICK, labels: compose(project, 'db') });
    const dupWeb = `${hex12()}_${optedIn}`;
    const dupDb = `${hex12()}_${other}`;
    await runContainer(dupWeb, { cmd: QUICK, labels: compose(project, 'web') });
    await runContainer(dupDb, { cmd: QUICK, labels: compose(project, 'db') });

    const r = rig(ns, { globalCleaning: false });
    await r.check();
    assert.deepEqual(await r.names(), [dupDb, other, optedIn].sort());
    const view = r.cleaner.duplicates();
    assert.equal(view.find((v) => v.name === dupDb)?.heldBack, `enable_cleaning_duplicated_services is off for ${other}`);
    assert.equal(r.journal.length, 1);
    assert.equal(r.journal[0]?.container, optedIn);
  });

  it('a young duplicate is left alone until the grace passes (woken by its own timer)', async (t) => {
    if (skipWithoutEngine(t)) return;
    const ns = uniqueNamespace('dedupe-young');
    t.after(() => cleanup(ns));
    const real = `${ns}w`;
    await runContainer(real, { cmd: QUICK, labels: compose(ns, 'w') });
    // The real container must itself be older than the grace (compose v1 safety), the duplicate not.
    await new Promise((r) => setTimeout(r, 3200));
    const dup = `${hex12()}_${real}`;
    await runContainer(dup, { cmd: QUICK, labels: compose(ns, 'w') });

    // The cleaner's clock is the real one held back so that the duplicate looks 0.5 s old at the
    // first check, however long `docker run` took on a busy machine; it advances in real time.
    let lagMs = 0;
    const r = rig(ns, { globalCleaning: true, graceSec: 3, withTrigger: true, now: () => Date.now() - lagMs });
    t.after(() => r.cleaner.close());
    const listing = await r.list();
    const dupCreatedSec = listing.find((c) => c.Names[0] === `/${dup}`)?.Created ?? Number.NaN;
    lagMs = Date.now() - (dupCreatedSec * 1000 + 500);
    const firstCheckAt = Date.now();
    await r.cleaner.check(listing);
    assert.deepEqual(await r.names(), [dup, real].sort(), 'held back while young');
    assert.match(r.cleaner.duplicates()[0]?.heldBack ?? '', /^it was created 0 s ago, less than the 3 s grace/);
    assert.equal(r.metrics.get('repairman_duplicates_held_back'), 1);

    // No outside check from here: the cleaner wakes itself when the grace ends (2.5 s later).
    await waitFor('the duplicate to be removed after its grace', async () => (await r.names()).length === 1, 10_000, 100);
    const tookMs = Date.now() - firstCheckAt;
    assert.ok(tookMs >= 2500, `removed ${tookMs} ms after the first check, before the grace ended`);
    assert.deepEqual(await r.names(), [real]);
    assert.equal(r.metrics.get('repairman_duplicates_held_back'), 0);
    assert.equal(r.journal.length, 1);
  });

  it('--dry-run removes nothing and reports once', async (t) => {
    if (skipWithoutEngine(t)) return;
    const ns = uniqueNamespace('dedupe-dry');
    t.after(() => cleanup(ns));
    const real = `${ns}w`;
    const dup = `${hex12()}_${real}`;
    await runContainer(real, { cmd: QUICK, labels: compose(ns, 'w') });
    await runContainer(dup, { cmd: QUICK, labels: compose(ns, 'w') });
    const r = rig(ns, { globalCleaning: true, dryRun: true });
    await r.check();
    await r.check();
    assert.deepEqual(await r.names(), [dup, real].sort());
    assert.equal(await state(dup), 'running', 'not even stopped');
    assert.equal(r.journal.length, 1);
    assert.match(r.journal[0]?.message ?? '', /^Dry run: would remove/);
    assert.equal(r.notes.length, 1);
    assert.equal(r.metrics.get('repairman_duplicates_removed_total'), 0);
  });

  it('stops a running duplicate with its own stop_timeout label', async (t) => {
    if (skipWithoutEngine(t)) return;
    const ns = uniqueNamespace('dedupe-stop');
    t.after(() => cleanup(ns));
    const real = `${ns}w`;
    const dup = `${hex12()}_${real}`;
    await runContainer(real, { cmd: QUICK, labels: compose(ns, 'w') });
    // `sleep` as PID 1 ignores SIGTERM: the stop lasts the whole stop timeout (10 s by default).
    await runContainer(dup, { cmd: 'exec sleep 100000', labels: compose(ns, 'w', { 'org.riotkit.repairman.stop_timeout': '1' }) });
    const r = rig(ns, { globalCleaning: true });
    const started = Date.now();
    await r.check();
    const tookMs = Date.now() - started;
    assert.deepEqual(await r.names(), [real]);
    assert.ok(tookMs >= 900 && tookMs < 6000, `took ${tookMs} ms: expected about the 1 s label, not the 10 s default`);
  });
});

// A real docker-compose (v1, Debian's) leftover: a re-create that fails half way. Compose v1 stops the
// old container, renames it to `<its short id>_<name>`, creates the new one and starts it; when the
// start fails the renamed old container stays beside the new one. Repairman must remove the leftover
// and keep the real container running.
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
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
import { docker, engineEnv, hasTestEngine, TEST_IMAGE, testDockerHost, uniqueNamespace, waitFor } from '../helpers/engine.js';

const execFileP = promisify(execFile);

interface ComposeResult {
  code: number;
  out: string;
}

async function compose(dir: string, project: string, args: string[], env: Record<string, string> = {}): Promise<ComposeResult> {
  try {
    const { stdout, stderr } = await execFileP('docker-compose', ['-p', project, ...args], {
      cwd: dir,
      env: engineEnv(env),
      timeout: 120_000,
    });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

// The entrypoint lives in a bind-mounted folder, so hiding it makes the NEXT start fail while the
// engine accepts the create: exactly a re-create that fails half way. `network_mode: none` because
// the private engine runs with --bridge=none (compose v1 then creates no network at all). The image
// is local: pull_policy is not a compose v1 key, and v1 pulls only images it cannot find.
const COMPOSE_FILE = (image: string, binDir: string): string => `version: "2.4"
services:
  web:
    image: ${image}
    network_mode: none
    entrypoint: ["/x/run"]
    volumes: ["${binDir}:/x:ro"]
    environment:
      GENERATION: "\${GENERATION:-1}"
`;

const RUN_SCRIPT = '#!/bin/sh\ntrap "exit 0" TERM\nsleep 100000 &\nwait\n';

function skipWithoutEngine(t: TestContext): boolean {
  if (hasTestEngine()) return false;
  t.skip('REPAIRMAN_TEST_DOCKER_HOST is not set');
  return true;
}

describe('dedupe with docker-compose v1', () => {
  it('a re-create that fails half way leaves `<id>_<name>`; it is removed and the real container keeps running', async (t) => {
    if (skipWithoutEngine(t)) return;
    const ns = uniqueNamespace('dedupe-compose');
    const project = `${ns}p`;
    const dir = await mkdtemp(join(tmpdir(), 'rm-dedupe-compose-'));
    const bin = join(dir, 'bin');
    t.after(async () => {
      await compose(dir, project, ['down', '--remove-orphans', '-t', '1']);
      const ids = await docker(['ps', '-aq', '--filter', `name=${ns}`]).catch(() => '');
      if (ids) await docker(['rm', '-f', '-v', ...ids.split('\n')]).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    });
    await execFileP('mkdir', ['-p', bin]);
    await writeFile(join(bin, 'run'), RUN_SCRIPT);
    await chmod(join(bin, 'run'), 0o755);
    await writeFile(join(dir, 'docker-compose.yml'), COMPOSE_FILE(TEST_IMAGE, bin));

    const first = await compose(dir, project, ['up', '-d']);
    assert.equal(first.code, 0, first.out);
    const name = `${project}_web_1`;
    const oldId = await docker(['inspect', '--format', '{{.Id}}', name]);

    // A changed environment makes compose re-create; the hidden entrypoint makes the start fail.
    await rename(join(bin, 'run'), join(bin, 'run.off'));
    const second = await compose(dir, project, ['up', '-d'], { GENERATION: '2' });
    assert.notEqual(second.code, 0, `the re-create was expected to fail half way:\n${second.out}`);

    const leftover = `${oldId.slice(0, 12)}_${name}`;
    const listed = await docker(['ps', '-a', '--filter', `name=${ns}`, '--format', '{{.Names}} {{.State}}']);
    assert.deepEqual(listed.split('\n').sort(), [`${leftover} exited`, `${name} created`].sort(), 'compose v1 renamed the old container to <its short id>_<name>');
    const leftoverLabels = JSON.parse(await docker(['inspect', '--format', '{{json .Config.Labels}}', leftover])) as Record<string, string>;
    assert.equal(leftoverLabels['com.docker.compose.project'], project.replace(/[^-_a-z0-9]/g, ''));
    assert.equal(leftoverLabels['com.docker.compose.service'], 'web');

    // The admin fixes the cause and starts the new container by hand; the leftover stays.
    await rename(join(bin, 'run.off'), join(bin, 'run'));
    await docker(['start', name]);
    const realId = await docker(['inspect', '--format', '{{.Id}}', name]);
    assert.notEqual(realId, oldId);

    const engine = createDockerClient({ DOCKER_HOST: testDockerHost() });
    const filter = namespaceNameFilter(ns);
    const list = async (): Promise<ContainerSummary[]> =>
      (await engine.listContainers({ all: true, filters: filter ? { name: [filter] } : {} })).filter((c) => c.Names.some((n) => inNamespace(n, ns)));
    const journal: JournalEntryInput[] = [];
    const notes: NotifyEvent[] = [];
    const metrics = new MetricsRegistry();
    const defaults = { ...defaultSettings().defaults, enableCleaningDuplicatedServices: true };
    let lagMs = 0;
    const cleaner = new DuplicateCleaner({
      engine,
      serializer: new KeyedSerializer(),
      policyFor: (n, labels) => decodeLabels(n, labels, defaults).policy,
      journal: (e) => journal.push(e),
      notify: (e) => notes.push(e),
      log: silentLogger,
      metrics,
      dryRun: false,
      graceSec: 3,
      // The engine's clock, held back so that the real container looks 1 s old at the first check,
      // however long the steps above took on a busy machine; it advances in real time after that.
      now: () => Date.now() - lagMs,
    });

    // The real container was created moments ago: compose might still be at work, so wait.
    const listing = await list();
    const realCreatedSec = listing.find((c) => c.Id === realId)?.Created ?? Number.NaN;
    lagMs = Date.now() - (realCreatedSec + 1) * 1000;
    await cleaner.check(listing);
    const [held] = cleaner.duplicates();
    assert.equal(held?.name, leftover);
    assert.equal(held?.duplicateOf, name);
    assert.match(held?.heldBack ?? '', new RegExp(`the real container ${name} was created 1 s ago, less than the 3 s grace`));
    assert.equal(await docker(['inspect', '--format', '{{.State.Status}}', leftover]), 'exited', 'left alone');

    await waitFor('the leftover to be removed once the grace has passed', async () => {
      await cleaner.check(await list());
      return !(await list()).some((c) => c.Id === held?.id);
    }, 15_000, 500);

    const after = await list();
    assert.deepEqual(after.map((c) => c.Names[0]), [`/${name}`]);
    assert.equal(after[0]?.Id, realId);
    assert.equal(after[0]?.State, 'running', 'the real container keeps running');
    assert.equal(metrics.get('repairman_duplicates_removed_total'), 1);
    assert.equal(journal.length, 1);
    assert.equal(journal[0]?.container, name);
    assert.equal(journal[0]?.kind, 'duplicate_removed');
    assert.match(journal[0]?.message ?? '', new RegExp(`Removed ${leftover} \\(${oldId.slice(0, 12)}, was exited\\)`));
    assert.equal(notes.length, 1);
    assert.equal(notes[0]?.severity, 'debug');

    // Compose is happy with what is left: its next `up` (same generation) keeps the container.
    const third = await compose(dir, project, ['up', '-d'], { GENERATION: '2' });
    assert.equal(third.code, 0, third.out);
    assert.equal(await docker(['inspect', '--format', '{{.Id}}', name]), realId);
  });
});

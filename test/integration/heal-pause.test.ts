// `repairman pause` / `resume` (docs/behaviour.md §12) against a running Repairman on the same --db-path:
// no action on a paused container (or on any, without NAME) until resumed or its --for is up; the pause
// outlives a restart of Repairman; it is shown by /api/containers and /metrics.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, type CliResult } from '../helpers/cli.js';
import { docker, engineEnv, hasTestEngine, inspectField, removeNamespace, runContainer, uniqueNamespace, waitFor } from '../helpers/engine.js';
import { QUICK_STOP_CMD, startRepairman, type RepairmanProcess } from '../helpers/repairman.js';

const cli = (args: string[]): Promise<CliResult> => runCli(args, engineEnv({ TZ: 'UTC' }), { timeoutMs: 20_000 });

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('maintenance: repairman pause and resume with a running instance', { skip: !hasTestEngine() && 'REPAIRMAN_TEST_DOCKER_HOST is not set' }, () => {
  const ns = hasTestEngine() ? uniqueNamespace('pause') : '';
  const dir = mkdtempSync(join(tmpdir(), 'repairman-pause-it-'));
  const dbPath = join(dir, 'journal.db');
  const one = `${ns}one`;
  const two = `${ns}two`;
  let rm: RepairmanProcess;
  const start = (): Promise<RepairmanProcess> =>
    startRepairman({ namespace: ns, dbPath, http: true, debug: true, args: ['--seconds-between-restarts', '1', '--frame-size-in-seconds', '60', '--max-restarts-in-frame', '10'] });

  before(async () => {
    rm = await start();
    await runContainer(one, { cmd: QUICK_STOP_CMD, health: { cmd: 'test -f /tmp/ok' } });
    await runContainer(two, { cmd: QUICK_STOP_CMD, health: { cmd: 'test -f /tmp/ok' } });
    for (const n of [one, two]) await waitFor(`${n} healthy`, async () => (await inspectField(n, '{{.State.Health.Status}}')) === 'healthy', 15_000);
  });
  after(async () => {
    await rm?.stop();
    await removeNamespace(ns);
    rmSync(dir, { recursive: true, force: true });
  });

  it('pause NAME (no --for): no action on it, shown in the API and /metrics, kept across a restart of Repairman, until resume', async () => {
    const paused = await cli(['pause', one, '--db-path', dbPath]);
    assert.equal(paused.code, 0, paused.err);
    assert.match(paused.out, /^Paused .*one for maintenance until `repairman resume .*one`/);
    await rm.waitForLog((l) => l.msg === 'paused for maintenance' && l.container === one, 5_000);
    const startedAt = await inspectField(one, '{{.State.StartedAt}}');
    await docker(['exec', one, 'rm', '-f', '/tmp/ok']);
    await rm.waitForLog((l) => l.msg === 'paused for maintenance: not acting' && l.container === one, 15_000);
    const api = (await (await fetch(rm.url('/api/containers'))).json()) as { containers: { name: string; action?: { paused: unknown } }[]; pauses: { container: string; untilMs: number | null }[] };
    assert.deepEqual(api.containers.find((c) => c.name === one)?.action?.paused, { untilMs: null, all: false });
    assert.deepEqual(api.pauses.map((p) => [p.container, p.untilMs]), [[one, null]]);
    const metrics = await (await fetch(rm.url('/metrics'))).text();
    assert.match(metrics, /^repairman_paused\{scope="container"\} 1$/m);
    assert.match(metrics, /^repairman_paused\{scope="all"\} 0$/m);

    // Across a restart of Repairman: still paused (the pause is in the journal file).
    const exit = await rm.stop();
    assert.equal(exit.code, 0);
    rm = await start();
    await rm.waitForLog((l) => l.msg === 'paused for maintenance: not acting' && l.container === one, 15_000);
    await sleep(2000);
    assert.equal(rm.find((l) => l.msg === 'restarted' && l.container === one).length, 0, rm.dump());
    assert.equal(await inspectField(one, '{{.State.StartedAt}}'), startedAt, 'never restarted while paused');

    const resumed = await cli(['resume', one, '--db-path', dbPath]);
    assert.equal(resumed.code, 0, resumed.err);
    const t0 = Date.now();
    await rm.waitForLog((l) => l.msg === 'restarted' && l.container === one, 10_000);
    assert.ok(Date.now() - t0 < 5_000, `restarted ${Date.now() - t0} ms after resume`);
    const history = await cli(['history', one, '--db-path', dbPath, '--json']);
    const kinds = (JSON.parse(history.out) as { kind: string }[]).map((e) => e.kind);
    for (const k of ['pause', 'held', 'resume', 'restart']) assert.ok(kinds.includes(k), `${k} in ${kinds.join(', ')}`);
  });

  it('pause without NAME --for 5s: no action on any container until the time is up, across a restart of Repairman', async () => {
    await waitFor(`${one} healthy`, async () => (await inspectField(one, '{{.State.Health.Status}}')) === 'healthy', 15_000);
    const paused = await cli(['pause', '--for', '6s', '--db-path', dbPath]);
    assert.equal(paused.code, 0, paused.err);
    const pausedAt = Date.now();
    assert.match(paused.out, /^Paused every container for maintenance until 20/);
    await rm.waitForLog((l) => l.msg === 'paused for maintenance' && l.container === '*', 5_000);
    await docker(['exec', two, 'rm', '-f', '/tmp/ok']);
    await rm.waitForLog((l) => l.msg === 'paused for maintenance: not acting' && l.container === two, 15_000);
    // A restart of Repairman in the middle keeps the pause.
    await rm.stop();
    rm = await start();
    const metrics = await (await fetch(rm.url('/metrics'))).text();
    assert.match(metrics, /^repairman_paused\{scope="all"\} 1$/m);
    const restarted = await rm.waitForLog((l) => l.msg === 'restarted' && l.container === two, 20_000);
    const after = Date.parse(restarted.time) - pausedAt;
    assert.ok(after >= 5_500, `restarted ${after} ms after the pause began (6 s)`);
    assert.ok(after < 12_000, `restarted ${after} ms after the pause began`);
  });

  it('pause NAME --for, and resume without NAME ends every pause', async () => {
    assert.equal((await cli(['pause', two, '--for', '1h', '--db-path', dbPath])).code, 0);
    assert.equal((await cli(['pause', '--db-path', dbPath])).code, 0);
    await waitFor('both pauses seen', async () => {
      const api = (await (await fetch(rm.url('/api/containers'))).json()) as { pauses: { container: string }[] };
      return api.pauses.map((p) => p.container).join(',') === `*,${two}`;
    }, 5_000);
    const resumed = await cli(['resume', '--db-path', dbPath]);
    assert.equal(resumed.code, 0, resumed.err);
    assert.match(resumed.out, /^Resumed every container, .*two\./);
    await waitFor('no pause left', async () => {
      const api = (await (await fetch(rm.url('/api/containers'))).json()) as { pauses: unknown[] };
      return api.pauses.length === 0;
    }, 5_000);
    assert.equal((await cli(['pause', '--for', 'soon', '--db-path', dbPath])).code, 2);
    assert.equal((await cli(['pause', 'a', 'b', '--db-path', dbPath])).code, 2);
  });
});

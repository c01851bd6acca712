// A `docker stop` seen by a running Repairman survives a restart of Repairman with a --db-path file
// (docs/behaviour.md §2.2), on the private engine: a container whose process exits 3 on SIGTERM is
// stopped by hand, Repairman is stopped and started again on the same file, and the container stays
// exited through two re-checks; the log says why, `explain` (over HTTP and from the file alone) and
// `status --db-path` say it was stopped by hand. Before the stop was kept in the file, the second run
// took the exit for a crash within the look-back and started it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { docker, engineEnv, hasTestEngine, inspectField, removeNamespace, runContainer, TEST_ENGINE, uniqueNamespace } from '../helpers/engine.js';
import { CLI_PATH, startRepairman, type RepairmanProcess } from '../helpers/repairman.js';

/** Exits 3 on SIGTERM: only "someone stopped it" (the stop event seen) tells it from a crash. */
const EXIT3_ON_TERM = 'trap "exit 3" TERM; sleep 100000 & wait';
const STOPPED_BY_HAND = /^Left alone: it was stopped by hand \(Repairman saw a docker stop or kill before it exited with code 3\); Repairman never starts a container someone stopped\.$/m;

function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const env = engineEnv({ TZ: 'UTC' });
  for (const k of Object.keys(env)) if (k.startsWith('DEFAULT_') || ['NAMESPACE', 'DB_PATH', 'HTTP_PORT', 'HTTP_ADDRESS', 'HTTP_PREFIX'].includes(k)) delete env[k];
  const child = spawn(process.execPath, [CLI_PATH, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) => child.on('close', (code) => {
    clearTimeout(timer);
    resolve({ code, out, err });
  }));
}

// Podman 4.3.1 writes no event for a stop (see heal-left-alone.test.ts): there is nothing to keep.
const noStopEvent = TEST_ENGINE === 'podman' && 'Podman 4.3.1 sends no stop event: a stop is seen as a crash';

describe('heal: a stop seen is kept across a restart of Repairman', { skip: (!hasTestEngine() && 'REPAIRMAN_TEST_DOCKER_HOST is not set') || noStopEvent }, () => {
  const ns = uniqueNamespace('stop-kept');
  const name = `${ns}web`;
  const control = `${ns}crash`;
  const dir = mkdtempSync(join(tmpdir(), 'rm-stop-kept-'));
  const dbPath = join(dir, 'repairman.db');
  const procs: RepairmanProcess[] = [];
  after(async () => {
    for (const p of procs) await p.stop();
    await removeNamespace(ns);
    rmSync(dir, { recursive: true, force: true });
  });

  it('stopped by hand, Repairman restarted on the same file: left alone, and said why', async () => {
    const opts = { namespace: ns, dbPath, intervalSec: 2, debug: true, args: ['--seconds-between-restarts', '1'] };
    const first = await startRepairman(opts);
    procs.push(first);
    await runContainer(name, { cmd: EXIT3_ON_TERM });
    await docker(['stop', '-t', '5', name]);
    assert.equal(await inspectField(name, '{{.State.ExitCode}}'), '3', 'a code that is not a deliberate one');
    await first.waitForLog((l) => l.msg === 'left alone' && l.container === name && l.reason === 'stopped_by_someone', 10_000);
    assert.equal((await first.stop()).code, 0);

    const second = await startRepairman({ ...opts, http: true });
    procs.push(second);
    // A control crash while the second run watches: it acts, so it would have acted on the other too.
    await runContainer(control, { cmd: 'if [ -f /tmp/ran ]; then sleep 100000; else touch /tmp/ran; sleep 1; exit 3; fi' });
    await second.waitForLog((l) => l.msg === 'started' && l.container === control, 20_000);
    // Two re-checks after the first full one ("watching"), each looking at the stopped container again.
    await second.waitForLog((l) => l.msg === 're-check done' && second.find('re-check done').length >= 2, 15_000);
    assert.deepEqual(second.actionsOn(name), [], second.dump());
    assert.equal(await inspectField(name, '{{.State.Status}}'), 'exited');
    const why = second.find((l) => l.msg === 'left alone' && l.container === name);
    assert.ok(why.length >= 1, second.dump());
    assert.equal(why[0]!.reason, 'stopped_by_someone');
    assert.match(String(why[0]!.detail), /stopped or killed on purpose \(exit code 3\)/);

    const live = await cli(['explain', name, '--namespace', ns, '--http-port', String(second.httpPort)]);
    assert.equal(live.code, 0, live.err);
    assert.match(live.out, STOPPED_BY_HAND, live.out);
    assert.match(live.out, /^Read from the running instance/m);

    assert.equal((await second.stop()).code, 0);
    const alone = await cli(['explain', name, '--namespace', ns, '--db-path', dbPath]);
    assert.equal(alone.code, 0, alone.err);
    assert.match(alone.out, STOPPED_BY_HAND, alone.out);
    assert.match(alone.out, /^Read from the engine and /m);
    const status = await cli(['status', '--namespace', ns, '--db-path', dbPath]);
    assert.equal(status.code, 0, status.err);
    assert.match(status.out, new RegExp(`^${name} +stopped by hand, left alone +`, 'm'), status.out);
    assert.match(status.out, new RegExp(`^${control} +running +`, 'm'), 'a container not stopped by hand is not said to be');
  });
});

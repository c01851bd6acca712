// The crash look-back (docs/behaviour.md §2.2) on the private engine, with --heal-exited-lookback 2:
// a crash older than that when Repairman starts is left alone, a crash while it watches is healed; and
// across a restart of Repairman, a crash during its downtime is healed with a file database (counted
// from when the previous run was last alive) and left alone without one.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { hasTestEngine, inspectField, removeNamespace, runContainer, uniqueNamespace, waitFor } from '../helpers/engine.js';
import { startRepairman, type RepairmanProcess } from '../helpers/repairman.js';

const LOOKBACK = ['--heal-exited-lookback', '2', '--seconds-between-restarts', '1', '--frame-size-in-seconds', '60', '--max-restarts-in-frame', '5'];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A container that crashes at once (exit code 5, restart policy no), waited for until exited. */
async function crash(name: string, cmd = 'exit 5'): Promise<void> {
  await runContainer(name, { cmd });
  await waitFor(`${name} to exit`, async () => (await inspectField(name, '{{.State.Status}}')) === 'exited', 15_000);
}

describe('heal: crashes from before Repairman watched', { skip: !hasTestEngine() && 'REPAIRMAN_TEST_DOCKER_HOST is not set' }, () => {
  const ns = uniqueNamespace('heal-lookback');
  const dir = mkdtempSync(join(tmpdir(), 'rm-lookback-'));
  const procs: RepairmanProcess[] = [];
  after(async () => {
    for (const p of procs) await p.stop();
    await removeNamespace(ns);
    rmSync(dir, { recursive: true, force: true });
  });

  it('an old crash is left alone; a crash while watched is healed', async () => {
    const sub = `${ns}a-`;
    await crash(`${sub}old`);
    await sleep(3000); // older than the 2 s look-back when Repairman starts
    const rm = await startRepairman({ namespace: sub, args: LOOKBACK });
    procs.push(rm);
    await crash(`${sub}watched`, 'sleep 1; exit 4');
    await rm.waitForLog((l) => l.msg === 'started' && l.container === `${sub}watched`, 20_000);
    await sleep(1000);
    assert.deepEqual(rm.actionsOn(`${sub}old`), [], 'the old crash was not started');
    assert.equal(await inspectField(`${sub}old`, '{{.State.Status}}'), 'exited');
    await rm.stop();
  });

  for (const withFile of [true, false]) {
    it(`across a restart of Repairman, a crash during its downtime is ${withFile ? 'healed with a file database' : 'left alone without a file database'}`, async () => {
      const sub = `${ns}${withFile ? 'db' : 'mem'}-`;
      const dbPath = withFile ? join(dir, 'repairman.db') : undefined;
      const opts = { namespace: sub, args: LOOKBACK, ...(dbPath ? { dbPath } : {}) };
      const first = await startRepairman(opts);
      procs.push(first);
      await first.stop();
      await crash(`${sub}down`);
      await sleep(3000); // Repairman is down longer than the look-back
      const second = await startRepairman(opts);
      procs.push(second);
      if (withFile) {
        const started = await second.waitForLog((l) => l.msg === 'started' && l.container === `${sub}down`, 20_000);
        assert.equal(started.reason, 'crashed with exit code 5');
      } else {
        await sleep(2000); // the first full re-check and its decisions are done
        assert.deepEqual(second.actionsOn(`${sub}down`), [], 'not started');
        assert.equal(await inspectField(`${sub}down`, '{{.State.Status}}'), 'exited');
      }
      await second.stop();
    });
  }
});

// A journal file that cannot be used never stops healing (docs/behaviour.md §9). On the private engine,
// real Repairman, four faults: a directory at --db-path, a corrupt file, a read-only file system and a
// tiny tmpfs that fills up while it runs. In each: Repairman keeps running (it used to exit 1: a restart
// loop under `restart: unless-stopped`), one error says what is wrong and how to fix it, an unhealthy
// container is still restarted, /healthz is 200 "degraded", repairman_journal_degraded is 1; once the
// fault is removed the entries made meanwhile are in the file, /healthz is "ok", the gauge 0.
// The two mount faults need root (mount -t tmpfs); elsewhere they are skipped, saying so.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { openJournal } from '../../src/journal/journal.js';
import { docker, hasTestEngine, inspectField, removeNamespace, runContainer, uniqueNamespace, waitFor } from '../helpers/engine.js';
import { httpRequest } from '../helpers/http.js';
import { CLI_PATH, QUICK_STOP_CMD, startRepairman, type LogLine, type RepairmanProcess } from '../helpers/repairman.js';

const execFileP = promisify(execFile);
const ARGS = ['--seconds-between-restarts', '1', '--frame-size-in-seconds', '60', '--max-restarts-in-frame', '10'];
/** The retry backs off to 30 s: a fix is seen within that, plus a loaded machine's slack. */
const RECOVERY_MS = 45_000;
const ROOT = process.getuid?.() === 0;

const base = mkdtempSync(join(tmpdir(), 'rm-jfault-'));
const mounts: string[] = [];
after(async () => {
  for (const m of mounts.reverse()) await execFileP('umount', ['-l', m]).catch(() => undefined);
  rmSync(base, { recursive: true, force: true });
});

async function tmpfs(dir: string, options: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await execFileP('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
  mounts.push(dir);
}

/** The restarts of `name` the file holds (read by another process, as `repairman history` would). */
function restartsStored(dbPath: string, name: string): number[] {
  const j = openJournal({ dbPath, readonly: true });
  try {
    return j.list({ limit: 1000, container: name }).filter((e) => e.kind === 'restart').map((e) => e.atMs);
  } finally {
    j.close();
  }
}

async function healthz(rm: RepairmanProcess): Promise<{ status: number; body: { status: string; degraded?: string[] } }> {
  const r = await httpRequest(rm.httpPort!, '/healthz');
  return { status: r.status, body: JSON.parse(r.body) as { status: string; degraded?: string[] } };
}

async function degradedGauge(rm: RepairmanProcess): Promise<string | undefined> {
  const r = await httpRequest(rm.httpPort!, '/metrics');
  return /^repairman_journal_degraded (\d+)$/m.exec(r.body)?.[1];
}

/** Makes `name` unhealthy once (its command recreates /tmp/ok) and waits for Repairman to restart it. */
async function healOnce(rm: RepairmanProcess, name: string, afterMs: number): Promise<LogLine> {
  // On a loaded machine a health check can time out by itself: the container is then being restarted
  // already, and the exec waits for it to run again.
  await waitFor(`${name} healthy, then made unhealthy`, async () => {
    if ((await inspectField(name, '{{.State.Health.Status}}')) !== 'healthy') return false;
    return docker(['exec', name, 'rm', '-f', '/tmp/ok']).then(() => true, () => false);
  }, 30_000, 250);
  return rm.waitForLog((l) => l.msg === 'restarted' && l.container === name && Date.parse(l.time) > afterMs, 30_000);
}

/** Restarts of `name` Repairman logged, and those the file holds, agree. */
async function allRestartsStored(rm: RepairmanProcess, dbPath: string, name: string, timeoutMs: number): Promise<number> {
  return waitFor('every restart in the file', async () => {
    const logged = rm.find((l) => l.msg === 'restarted' && l.container === name).length;
    return restartsStored(dbPath, name).length === logged && (await healthz(rm)).body.status === 'ok' ? logged : 0;
  }, timeoutMs, 250);
}

interface Fault {
  /** Sets the fault up; `running` faults come after Repairman started on a good file. */
  break(): Promise<void>;
  fix(): Promise<void>;
  running?: boolean;
  /** What the one error log line says is wrong, and how to fix it. */
  reason: RegExp;
  advice: RegExp;
}

async function degradeAndRecover(dbPath: string, fault: Fault, hooks: { whileDegraded?(rm: RepairmanProcess): Promise<void>; beforeStop?(): void; afterStop?(name: string): void } = {}): Promise<void> {
  const ns = uniqueNamespace('jfault');
  const name = `${ns}web`;
  let rm: RepairmanProcess | undefined;
  try {
    if (!fault.running) await fault.break();
    rm = await startRepairman({ namespace: ns, http: true, dbPath, args: ARGS, debug: true });
    await runContainer(name, { cmd: QUICK_STOP_CMD, health: { cmd: 'test -f /tmp/ok' } });
    if (fault.running) {
      await waitFor(`${name} healthy`, async () => (await inspectField(name, '{{.State.Health.Status}}')) === 'healthy', 20_000);
      assert.equal((await healthz(rm)).body.status, 'ok');
      await fault.break();
    }
    const healed = await healOnce(rm, name, 0);
    const degraded = await rm.waitForLog((l) => l.code === 'RM_JOURNAL_DEGRADED', 20_000);
    assert.equal(degraded.level, 'error');
    assert.match(String(degraded.reason), fault.reason);
    assert.match(String(degraded.fix), fault.advice);
    assert.equal(rm.child.exitCode, null, 'still running');

    // Polled: a nearly full disk takes a small write now and then, and is degraded again at the next.
    const h = await waitFor('/healthz degraded', async () => {
      const r = await healthz(rm!);
      return r.body.status === 'degraded' ? r : undefined;
    }, 20_000);
    assert.ok(h);
    assert.equal(h.status, 200);
    assert.match(h.body.degraded?.[0] ?? '', /^the journal .* cannot be (opened|written) .*healing goes on with the restart budgets in memory/);
    await waitFor('repairman_journal_degraded 1', async () => (await degradedGauge(rm!)) === '1', 20_000);
    if (hooks.whileDegraded) await hooks.whileDegraded(rm);

    await fault.fix();
    // Every restart made while degraded (the first one at least) is in the file, /healthz is ok again.
    const restarts = await allRestartsStored(rm, dbPath, name, RECOVERY_MS);
    assert.ok(restarts >= 1);
    const journalLines = (): string => rm!.find((l) => l.component === 'journal' || l.msg === 'restarted').map((l) => JSON.stringify(l)).join('\n');
    assert.ok(rm.find((l) => l.msg === 'the journal is written again' && l.level === 'info' && Number(l.written) >= 1).length >= 1, `said, with what it wrote:\n${journalLines()}`);
    assert.deepEqual((await healthz(rm)).body, { status: 'ok' });
    assert.equal(await degradedGauge(rm), '0');

    // And it writes as usual from then on.
    await healOnce(rm, name, Date.parse(healed.time));
    await allRestartsStored(rm, dbPath, name, 15_000);
    assert.equal(rm.find((l) => l.code === 'RM_JOURNAL_DEGRADED').length, 1, 'said once');
    hooks.beforeStop?.();
    const exit = await rm.stop();
    assert.equal(exit.code, 0);
    hooks.afterStop?.(name);
  } catch (err) {
    if (rm) (err as Error).message += `\n--- repairman output ---\n${rm.dump().slice(-6000)}`;
    throw err;
  } finally {
    await rm?.stop();
    await removeNamespace(ns);
  }
}

describe('journal faults: healing goes on, the journal degrades and recovers', { skip: !hasTestEngine() && 'REPAIRMAN_TEST_DOCKER_HOST is not set', concurrency: true }, () => {
  it('a directory at --db-path; after the stop the .db alone holds every entry', async () => {
    const dir = join(base, 'dir');
    mkdirSync(dir);
    const dbPath = join(dir, 'repairman.db');
    let reader: DatabaseSync | undefined;
    await degradeAndRecover(dbPath, {
      break: async () => mkdirSync(dbPath),
      fix: async () => rmdirSync(dbPath),
      reason: /unable to open|directory/i,
      advice: /is a directory: point --db-path \/ DB_PATH at a file/,
    }, {
      // Another connection open (a `repairman history`, a backup tool) while Repairman stops: SQLite's
      // own checkpoint at close needs the last connection.
      beforeStop: () => {
        reader = new DatabaseSync(dbPath, { readOnly: true });
        reader.prepare('SELECT count(*) AS n FROM journal').get();
      },
      afterStop: (name) => {
        const copy = join(dir, 'copy.db');
        copyFileSync(dbPath, copy);
        reader?.close();
        const restarts = restartsStored(copy, name);
        assert.equal(restarts.length, restartsStored(dbPath, name).length, 'every restart is in the copied .db alone');
        assert.ok(restarts.length >= 2);
        const j = openJournal({ dbPath: copy, readonly: true });
        const all = openJournal({ dbPath, readonly: true });
        assert.equal(j.count(), all.count(), 'every entry is in the copied .db');
        j.close();
        all.close();
      },
    });
  });

  it('a corrupt file', async () => {
    const dir = join(base, 'corrupt');
    mkdirSync(dir);
    const dbPath = join(dir, 'repairman.db');
    await degradeAndRecover(dbPath, {
      break: async () => writeFileSync(dbPath, Buffer.alloc(16_384, 0x5a)),
      fix: async () => renameSync(dbPath, `${dbPath}.damaged`),
      reason: /not a database/,
      advice: /damaged .*move the file away/,
    }, {
      // The status page's data and `repairman status` say it too.
      whileDegraded: async (rm) => {
        const page = JSON.parse((await httpRequest(rm.httpPort!, '/api/containers')).body) as { health: { degraded: string[] } };
        assert.match(page.health.degraded[0] ?? '', /cannot be opened \(file is not a database\)/);
        const { stdout } = await execFileP(process.execPath, [CLI_PATH, 'status', '--http-port', String(rm.httpPort), '--http-address', '127.0.0.1'], { timeout: 15_000 });
        assert.match(stdout, /^Repairman .*: engine OK, DEGRADED; /);
        assert.match(stdout, /^ {2}degraded: the journal .* cannot be opened \(file is not a database\)/m);
      },
    });
  });

  it('a read-only file system (an existing journal keeps its entries)', { skip: !ROOT && 'mount needs root' }, async () => {
    const dir = join(base, 'ro');
    await tmpfs(dir, 'size=4m');
    const dbPath = join(dir, 'repairman.db');
    const before = openJournal({ dbPath });
    before.append({ container: 'from-before', kind: 'restart', atMs: Date.now() - 60_000, message: 'an entry of the previous run' }, 50);
    before.close();
    await degradeAndRecover(dbPath, {
      break: async () => {
        await execFileP('mount', ['-o', 'remount,ro', dir]);
      },
      fix: async () => {
        await execFileP('mount', ['-o', 'remount,rw', dir]);
      },
      reason: /readonly|read-only|unable to open/i,
      advice: /read and write them \(a volume mounted read-write/,
    });
    assert.equal(restartsStored(dbPath, 'from-before').length, 1, 'the previous run\'s entry is still there');
  });

  it('a tiny tmpfs that fills up while running', { skip: !ROOT && 'mount needs root' }, async () => {
    const dir = join(base, 'full');
    await tmpfs(dir, 'size=2m');
    const dbPath = join(dir, 'repairman.db');
    const filler = join(dir, 'filler');
    await degradeAndRecover(dbPath, {
      running: true,
      break: async () => {
        await execFileP('sh', ['-c', `dd if=/dev/zero of='${filler}' bs=4096 2>/dev/null; true`]);
      },
      fix: async () => rmSync(filler),
      reason: /full/i,
      advice: /disk is full: free some space/,
    });
  });
});

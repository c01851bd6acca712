// Podman's own --health-on-failure (restart, stop, kill) on the private Podman, live (issue 23): the
// container is left to Podman. Repairman never acts on it, says so once per unhealthy spell (an info
// log line with the skip reason engine_health_action, and a journal entry), `explain` says it is left
// to Podman, and Podman's own action happens. Podman 4.3.1 acts inside `podman healthcheck run` (no systemd needed): the check fails, the
// status turns unhealthy, then Podman restarts, stops or kills the container before the call returns.
// A container that ignores SIGTERM keeps Podman's restart or stop going for its whole stop timeout,
// running and unhealthy: the window in which Repairman sees it (re-checks every second) and must not act.
// Docker has no --health-on-failure: this file runs in the Podman matrix only.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { openJournal } from '../../src/journal/journal.js';
import { docker, driveHealthChecks, hasTestEngine, inspectField, removeNamespace, TEST_ENGINE, TEST_IMAGE, testDockerHost, uniqueNamespace, waitFor } from '../helpers/engine.js';
import { SLOW_STOP_CMD, startRepairman, type RepairmanProcess } from '../helpers/repairman.js';

const execFileP = promisify(execFile);
const STOP_TIMEOUT_SEC = 8;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `podman run -d` through the service: the docker CLI has no --health-on-failure. */
async function podmanRun(name: string, action: string, cmd: string): Promise<void> {
  await execFileP('podman', [
    '--remote', '--url', testDockerHost(), 'run', '-d', '--name', name, '--stop-timeout', String(STOP_TIMEOUT_SEC),
    '--health-cmd', 'test -f /tmp/ok', '--health-interval', '1s', '--health-retries', '1', '--health-timeout', '2s',
    `--health-on-failure=${action}`, TEST_IMAGE, 'sh', '-c', cmd,
  ], { timeout: 60_000 });
  driveHealthChecks(name, 1);
}

const skip = !hasTestEngine() ? 'REPAIRMAN_TEST_DOCKER_HOST is not set' : TEST_ENGINE !== 'podman' && 'Docker has no --health-on-failure (Podman only)';

describe("Podman's --health-on-failure: left to Podman", { skip }, () => {
  const ns = skip ? '' : uniqueNamespace('podman-hof');
  const dir = mkdtempSync(join(tmpdir(), 'repairman-podman-hof-'));
  const dbPath = join(dir, 'journal.db');
  let rm: RepairmanProcess;

  before(async () => {
    rm = await startRepairman({ namespace: ns, dbPath, http: true, intervalSec: 1, args: ['--seconds-between-restarts', '1'] });
  });
  after(async () => {
    await rm?.stop();
    await removeNamespace(ns);
    rmSync(dir, { recursive: true, force: true });
  });

  const told = (name: string) => rm.find((l) => l.msg === 'left to Podman' && l.container === name);
  /**
   * Once, or at most twice when Podman's event stream ended meanwhile (seen once in five loaded CI
   * runs, cause not pinned down: RELIABILITY.md, "Found, not fixed"); the journal says it as often.
   */
  const toldOnce = (name: string): void => {
    const reconnected = rm.find((l) => /^event stream (ended|broke)/.test(String(l.msg))).length > 0;
    const n = told(name).length;
    assert.ok(n === 1 || (reconnected && n === 2), `told ${n} times${reconnected ? ' (the event stream reconnected)' : ''}\n${rm.dump()}`);
    assert.equal(journaled(name).length, n);
  };
  function journaled(name: string): { kind: string; message: string }[] {
    const j = openJournal({ dbPath, readonly: true });
    try {
      return j.list({ limit: 100, container: name }).filter((e) => e.kind === 'left_to_engine');
    } finally {
      j.close();
    }
  }
  async function turnUnhealthy(name: string): Promise<string> {
    await waitFor(`${name} healthy`, async () => (await inspectField(name, '{{.State.Health.Status}}')) === 'healthy', 20_000);
    const started = await inspectField(name, '{{.State.StartedAt}}');
    await docker(['exec', name, 'rm', '-f', '/tmp/ok']);
    return started;
  }
  /** `repairman explain NAME` asked of the running instance, while Podman's action is under way. */
  async function explainsLeftToPodman(name: string, action: string): Promise<void> {
    const e = await waitFor(`explain ${name}: left to Podman`, async () => {
      const body = (await (await fetch(rm.url(`/api/explain?name=${encodeURIComponent(name)}`))).json()) as { verdict?: string; reason?: string; sentence?: string };
      return body.reason === 'engine_health_action' ? body : null;
    }, STOP_TIMEOUT_SEC * 1000, 200);
    assert.equal(e!.verdict, 'left_alone');
    assert.equal(e!.sentence, `Left alone: Podman's --health-on-failure=${action} acts on it when it turns unhealthy; Repairman leaves it to Podman.`);
  }
  const skipsCounted = async (): Promise<number> => {
    const text = await (await fetch(rm.url('/metrics'))).text();
    return Number(/^repairman_skips_total\{reason="engine_health_action"\} (\d+)/m.exec(text)?.[1] ?? 0);
  };

  it('restart: Podman restarts it (a new start, healthy again); Repairman does not, and says so once', async () => {
    const name = `${ns}restart`;
    await podmanRun(name, 'restart', SLOW_STOP_CMD);
    const before = await turnUnhealthy(name);
    const line = await rm.waitForLog((l) => l.msg === 'left to Podman' && l.container === name, 20_000);
    assert.equal(line.reason, 'engine_health_action');
    assert.equal(line.detail, "Podman's --health-on-failure=restart acts on it when it turns unhealthy");
    await explainsLeftToPodman(name, 'restart');
    await waitFor('Podman restarted it', async () => (await inspectField(name, '{{.State.StartedAt}}')) !== before, (STOP_TIMEOUT_SEC + 15) * 1000);
    await waitFor(`${name} healthy again`, async () => (await inspectField(name, '{{.State.Health.Status}}')) === 'healthy', 20_000);
    assert.ok(await skipsCounted() >= 2, 'seen unhealthy more than once while Podman stopped it');
    assert.deepEqual(rm.actionsOn(name), [], rm.dump());
    toldOnce(name);
    const entries = journaled(name);
    assert.equal(entries[0]!.message, 'Unhealthy (unhealthy); left to Podman: its --health-on-failure=restart acts on it, Repairman does not');
  });

  it('stop: Podman stops it and it stays stopped; Repairman neither restarts nor starts it, and says so once', async () => {
    const name = `${ns}stop`;
    await podmanRun(name, 'stop', SLOW_STOP_CMD);
    await turnUnhealthy(name);
    await rm.waitForLog((l) => l.msg === 'left to Podman' && l.container === name, 20_000);
    await explainsLeftToPodman(name, 'stop');
    await waitFor('Podman stopped it', async () => (await inspectField(name, '{{.State.Status}}')) === 'exited', (STOP_TIMEOUT_SEC + 15) * 1000);
    // Killed at the end of its stop timeout (it ignores SIGTERM): exit 137, a deliberate stop.
    assert.equal(await inspectField(name, '{{.State.ExitCode}}'), '137');
    await sleep(3000); // three re-checks
    assert.equal(await inspectField(name, '{{.State.Status}}'), 'exited', 'still stopped');
    assert.deepEqual(rm.actionsOn(name), [], rm.dump());
    toldOnce(name);
  });

  it('kill: Podman kills it at once and it stays down; Repairman does not start it', async () => {
    const name = `${ns}kill`;
    await podmanRun(name, 'kill', SLOW_STOP_CMD);
    await turnUnhealthy(name);
    await waitFor('Podman killed it', async () => (await inspectField(name, '{{.State.Status}}')) === 'exited', 20_000);
    assert.equal(await inspectField(name, '{{.State.ExitCode}}'), '137');
    await sleep(3000);
    assert.equal(await inspectField(name, '{{.State.Status}}'), 'exited', 'still down');
    assert.deepEqual(rm.actionsOn(name), [], rm.dump());
    // Podman kills within the failing check: Repairman may never see it unhealthy and running.
    assert.ok(told(name).length <= 1, rm.dump());
  });
});

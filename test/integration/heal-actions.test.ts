// docs/behaviour.md §12 on the private engine: on_unhealthy stop, kill and notify; unhealthy_for (no
// action before the time, action after, a recovery in between cancels); the post-action command (its
// environment, its output and exit code journaled, its time limit, a hanging one never delays the next
// heal, its process group killed when Repairman stops) and a post_action_command label ignored as a
// label problem.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openJournal } from '../../src/journal/journal.js';
import type { JournalEntry } from '../../src/journal/types.js';
import { runCli } from '../helpers/cli.js';
import { docker, engineEnv, hasTestEngine, inspectField, removeNamespace, runContainer, uniqueNamespace, waitFor } from '../helpers/engine.js';
import { QUICK_STOP_CMD, startRepairman, type RepairmanProcess } from '../helpers/repairman.js';

const L = 'org.riotkit.repairman.';
// A token no other process on the machine uses: the hanging command's sleep, looked for with pgrep (the
// command computes it, so Repairman's own command line, which holds the command, never matches).
const HANG_TOKEN = String(70000 + Math.floor(Math.random() * 9999));

function entriesOf(dbPath: string, container: string): JournalEntry[] {
  const j = openJournal({ dbPath, readonly: true });
  try {
    return j.list({ limit: 1000, container }).reverse();
  } finally {
    j.close();
  }
}

function hangingSleeps(): string {
  try {
    return execFileSync('pgrep', ['-af', `sleep ${HANG_TOKEN}`], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

/**
 * Long enough that a second container can turn unhealthy and be restarted while the first one's
 * command still hangs, on a loaded machine too (3 s was not: docker exec alone took seconds there).
 */
const POST_ACTION_TIMEOUT_SEC = 8;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function healthy(name: string): Promise<void> {
  await waitFor(`${name} healthy`, async () => (await inspectField(name, '{{.State.Health.Status}}')) === 'healthy', 15_000);
}

describe('actions beyond restart (docs/behaviour.md §12)', { skip: !hasTestEngine() && 'REPAIRMAN_TEST_DOCKER_HOST is not set' }, () => {
  const ns = hasTestEngine() ? uniqueNamespace('act') : '';
  const dir = mkdtempSync(join(tmpdir(), 'repairman-actions-it-'));
  const dbPath = join(dir, 'journal.db');
  const out = join(dir, 'out');
  let rm: RepairmanProcess;

  before(async () => {
    execFileSync('mkdir', ['-p', out]);
    const command =
      'env | grep -E "^REPAIRMAN_(CONTAINER|ID|ACTION|REASON|RESULT)=" | sort > "$OUT/$REPAIRMAN_CONTAINER.$REPAIRMAN_ACTION"; echo first-line; echo "last-line $REPAIRMAN_ACTION";' +
      ` case "$REPAIRMAN_CONTAINER" in *hang*) sleep $((${HANG_TOKEN} + 0));; esac`;
    rm = await startRepairman({
      namespace: ns,
      dbPath,
      debug: true,
      env: { OUT: out },
      args: ['--seconds-between-restarts', '1', '--frame-size-in-seconds', '60', '--max-restarts-in-frame', '5', '--post-action-command', command, '--post-action-timeout', String(POST_ACTION_TIMEOUT_SEC)],
    });
  });
  after(async () => {
    await rm?.stop();
    await removeNamespace(ns);
    rmSync(dir, { recursive: true, force: true });
  });

  it('on_unhealthy=stop stops the container, leaves it stopped, and runs the post-action command with the event in its environment', async () => {
    const name = `${ns}stop`;
    const id = await runContainer(name, { cmd: 'touch /tmp/ok; sleep 100000', labels: { [`${L}on_unhealthy`]: 'stop' }, health: { cmd: 'test -f /tmp/ok' } });
    await healthy(name);
    await docker(['exec', name, 'rm', '-f', '/tmp/ok']);
    await rm.waitForLog((l) => l.msg === 'stopped' && l.container === name, 15_000);
    assert.equal(await inspectField(name, '{{.State.Status}}'), 'exited');
    const done = await rm.waitForLog((l) => l.msg === 'post-action command done' && l.container === name, 10_000);
    assert.equal(done.action, 'stop');
    assert.equal(done.exitCode, 0);
    const env = readFileSync(join(out, `${name}.stop`), 'utf8');
    assert.equal(env, [`REPAIRMAN_ACTION=stop`, `REPAIRMAN_CONTAINER=${name}`, `REPAIRMAN_ID=${id.trim()}`, 'REPAIRMAN_REASON=unhealthy', 'REPAIRMAN_RESULT=ok', ''].join('\n'));
    // Stays stopped: its exit (137 or 143 or whatever the stop gave) is Repairman's own, not a crash.
    await sleep(3000);
    assert.equal(await inspectField(name, '{{.State.Status}}'), 'exited');
    assert.equal(rm.find((l) => l.msg === 'started' && l.container === name).length, 0, rm.dump());
    const entries = entriesOf(dbPath, name);
    const stopped = entries.find((e) => e.kind === 'stopped');
    assert.match(stopped?.message ?? '', /^Stopped \(unhealthy\); on_unhealthy=stop: it stays down until someone starts it$/);
    const post = entries.find((e) => e.kind === 'post_action');
    assert.match(post?.message ?? '', /^Post-action command \(after stop\) exited with code 0 after .+; last output: first-line \| last-line stop$/);
    // `explain` from the journal file says whose stop it was: Repairman's, not a person's.
    const explained = await runCli(['explain', name, '--db-path', dbPath, '--json'], engineEnv());
    assert.equal(explained.code, 0, explained.err);
    const verdict = JSON.parse(explained.out) as { reason: string; sentence: string };
    assert.equal(verdict.reason, 'stopped_by_repairman', explained.out);
    assert.match(verdict.sentence, /^Left alone: Repairman stopped it itself when it turned unhealthy \(on_unhealthy=stop, exit code \d+\); it stays down on purpose\.$/);
  });

  it('on_unhealthy=kill kills the container (exit 137) and leaves it down', async () => {
    const name = `${ns}kill`;
    await runContainer(name, { cmd: 'touch /tmp/ok; trap "" TERM; sleep 100000', labels: { [`${L}on_unhealthy`]: 'kill' }, health: { cmd: 'test -f /tmp/ok' } });
    await healthy(name);
    await docker(['exec', name, 'rm', '-f', '/tmp/ok']);
    await rm.waitForLog((l) => l.msg === 'killed' && l.container === name, 15_000);
    assert.equal(await inspectField(name, '{{.State.ExitCode}}'), '137');
    await rm.waitForLog((l) => l.msg === 'post-action command done' && l.container === name && l.action === 'kill', 10_000);
    await sleep(2000);
    assert.equal(await inspectField(name, '{{.State.Status}}'), 'exited');
    assert.ok(entriesOf(dbPath, name).some((e) => e.kind === 'killed'));
  });

  it('on_unhealthy=notify only tells, once per unhealthy spell, and changes nothing', async () => {
    const name = `${ns}tell`;
    const startedAt = await inspectField((await runContainer(name, { cmd: QUICK_STOP_CMD, labels: { [`${L}on_unhealthy`]: 'notify' }, health: { cmd: 'test -f /tmp/ok' } })).trim(), '{{.State.StartedAt}}');
    await healthy(name);
    await docker(['exec', name, 'rm', '-f', '/tmp/ok']);
    await rm.waitForLog((l) => l.msg === 'unhealthy: only telling (on_unhealthy=notify)' && l.container === name, 15_000);
    await rm.waitForLog((l) => l.msg === 'post-action command done' && l.container === name && l.action === 'notify', 10_000);
    await sleep(3000);
    assert.equal(await inspectField(name, '{{.State.Status}}'), 'running');
    assert.equal(await inspectField(name, '{{.State.StartedAt}}'), startedAt, 'never restarted');
    assert.equal(entriesOf(dbPath, name).filter((e) => e.kind === 'unhealthy').length, 1, 'told once');
    assert.match(readFileSync(join(out, `${name}.notify`), 'utf8'), /REPAIRMAN_ACTION=notify\nREPAIRMAN_CONTAINER=/);
  });

  it('unhealthy_for: no action before the time, a restart after it', async () => {
    const name = `${ns}slow`;
    await runContainer(name, { cmd: QUICK_STOP_CMD, labels: { [`${L}unhealthy_for`]: '5s' }, health: { cmd: 'test -f /tmp/ok' } });
    await healthy(name);
    await docker(['exec', name, 'rm', '-f', '/tmp/ok']);
    const held = await rm.waitForLog((l) => l.msg === 'unhealthy, not for long enough yet' && l.container === name, 15_000);
    const heldAt = Date.parse(held.time);
    const restarted = await rm.waitForLog((l) => l.msg === 'restarted' && l.container === name, 15_000);
    const waited = Date.parse(restarted.time) - heldAt;
    assert.ok(waited >= 4500 && waited < 8000, `restarted ${waited} ms after it was first held`);
    assert.ok(entriesOf(dbPath, name).some((e) => e.kind === 'held' && /unhealthy_for is 5 s/.test(e.message)));
  });

  it('unhealthy_for: a recovery in between cancels the action', async () => {
    const name = `${ns}flap`;
    const id = (await runContainer(name, { cmd: QUICK_STOP_CMD, labels: { [`${L}unhealthy_for`]: '4s' }, health: { cmd: 'test -f /tmp/ok' } })).trim();
    const startedAt = await inspectField(id, '{{.State.StartedAt}}');
    await healthy(name);
    await docker(['exec', name, 'rm', '-f', '/tmp/ok']);
    await rm.waitForLog((l) => l.msg === 'unhealthy, not for long enough yet' && l.container === name, 15_000);
    await docker(['exec', name, 'touch', '/tmp/ok']);
    await healthy(name);
    await sleep(5000);
    assert.equal(rm.find((l) => l.msg === 'restarted' && l.container === name).length, 0, 'no restart after the recovery');
    assert.equal(await inspectField(id, '{{.State.StartedAt}}'), startedAt);
  });

  it('a post_action_command label is a label problem and never run', async () => {
    const name = `${ns}evil`;
    await runContainer(name, { cmd: QUICK_STOP_CMD, labels: { [`${L}post_action_command`]: `touch ${join(out, 'pwned')}` }, health: { cmd: 'test -f /tmp/ok' } });
    const problem = await rm.waitForLog((l) => l.msg === 'label problem' && l.container === name, 15_000);
    assert.equal(problem.label, `${L}post_action_command`);
    assert.match(String(problem.expected), /global setting/);
    await healthy(name);
    await docker(['exec', name, 'rm', '-f', '/tmp/ok']);
    await rm.waitForLog((l) => l.msg === 'post-action command done' && l.container === name, 15_000);
    assert.ok(existsSync(join(out, `${name}.restart`)), 'the global command ran');
    assert.ok(!existsSync(join(out, 'pwned')), 'the label command never ran');
  });

  it('a hanging post-action command does not delay the next heal and is killed (its process group) at its time limit', async () => {
    const hang = `${ns}hang`;
    const next = `${ns}next`;
    await runContainer(hang, { cmd: QUICK_STOP_CMD, health: { cmd: 'test -f /tmp/ok' } });
    await runContainer(next, { cmd: QUICK_STOP_CMD, health: { cmd: 'test -f /tmp/ok' } });
    await healthy(hang);
    await healthy(next);
    await docker(['exec', hang, 'rm', '-f', '/tmp/ok']);
    await rm.waitForLog((l) => l.msg === 'restarted' && l.container === hang, 15_000);
    await waitFor('the hanging command runs', () => hangingSleeps() !== '', 5_000);
    const t0 = Date.now();
    await docker(['exec', next, 'rm', '-f', '/tmp/ok']);
    await rm.waitForLog((l) => l.msg === 'restarted' && l.container === next, 10_000);
    assert.ok(hangingSleeps() !== '', 'the next container was healed while the command still hung');
    const timedOut = await rm.waitForLog((l) => l.msg === 'post-action command failed' && l.container === hang, POST_ACTION_TIMEOUT_SEC * 1000 + 5_000);
    assert.equal(timedOut.result, 'timeout');
    const limitMs = POST_ACTION_TIMEOUT_SEC * 1000;
    assert.ok(Number(timedOut.ms) >= limitMs - 100 && Number(timedOut.ms) < limitMs + 3000, `killed after ${String(timedOut.ms)} ms (limit ${POST_ACTION_TIMEOUT_SEC} s)`);
    await waitFor('its sleep killed with it', () => hangingSleeps() === '', 3_000).catch((err: unknown) => {
      throw new Error(`${String(err)}: ${hangingSleeps()}\n${rm.find((l) => l.container === hang).map((l) => JSON.stringify(l)).join('\n')}`);
    });
    const failed = entriesOf(dbPath, hang).find((e) => e.kind === 'post_action_failed');
    assert.match(failed?.message ?? '', /^Post-action command \(after restart\) killed at its time limit after .+; last output: first-line \| last-line restart$/);
    assert.ok(Date.now() - t0 < limitMs + 10_000);
  });

  it('a command still running when Repairman stops is killed with its process group; SIGTERM still ends Repairman within a second', async () => {
    const hang = `${ns}hang2`;
    await runContainer(hang, { cmd: QUICK_STOP_CMD, health: { cmd: 'test -f /tmp/ok' } });
    await healthy(hang);
    await docker(['exec', hang, 'rm', '-f', '/tmp/ok']);
    await rm.waitForLog((l) => l.msg === 'restarted' && l.container === hang, 15_000);
    await waitFor('the hanging command runs', () => hangingSleeps() !== '', 5_000);
    const exit = await rm.stop();
    assert.equal(exit.code, 0, rm.dump());
    assert.ok(exit.ms < 1000, `took ${exit.ms} ms`);
    await waitFor('no sleep left', () => hangingSleeps() === '', 3_000);
  });
});

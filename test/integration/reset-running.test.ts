// `repairman reset NAME` against a running Repairman sharing the same --db-path: a container that was
// given up is healed again right after the reset, and `repairman history` shows the whole story.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openJournal } from '../../src/journal/journal.js';
import type { JournalEntry } from '../../src/journal/types.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { engineEnv, hasTestEngine, removeNamespace, runContainer, uniqueNamespace, waitFor } from '../helpers/engine.js';

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

const cli = (args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> => runCli(args, env, { timeoutMs: 20_000 });

function entriesOf(dbPath: string, container: string): JournalEntry[] {
  const j = openJournal({ dbPath, readonly: true });
  try {
    return j.list({ limit: 1000, container }).reverse(); // oldest first
  } finally {
    j.close();
  }
}

describe('repairman reset with a running instance', { skip: !hasTestEngine() && 'REPAIRMAN_TEST_DOCKER_HOST is not set' }, () => {
  const ns = hasTestEngine() ? uniqueNamespace('reset') : '';
  const dir = mkdtempSync(join(tmpdir(), 'repairman-reset-it-'));
  const dbPath = join(dir, 'journal.db');
  const name = `${ns}web`;
  let repairman: ChildProcess | undefined;
  let output = '';

  before(async () => {
    await runContainer(name, {
      health: { cmd: 'false' },
      labels: {
        'org.riotkit.repairman.seconds_between_restarts': '1',
        'org.riotkit.repairman.max_restarts_in_frame': '0',
        'org.riotkit.repairman.max_checks_to_give_up': '2',
        // sh as PID 1 ignores SIGTERM: without this every restart waits the default 10 s.
        'org.riotkit.repairman.stop_timeout': '1',
      },
    });
  });

  after(async () => {
    if (repairman && repairman.exitCode === null) {
      const exited = new Promise((r) => repairman!.once('exit', r));
      repairman.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (repairman.exitCode === null) repairman.kill('SIGKILL');
    }
    await removeNamespace(ns);
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives up, then heals again right after `repairman reset NAME`', async () => {
    const env = engineEnv({ TZ: 'UTC' });
    repairman = spawn(process.execPath, [CLI, 'run', '--namespace', ns, '--db-path', dbPath, '--http-port', '0', '--interval', '1'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    repairman.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    repairman.stderr!.on('data', (c: Buffer) => (output += c.toString()));

    // Two restarts in a row without recovery, then the give-up.
    const gaveUp = await waitFor('the give-up', () => entriesOf(dbPath, name).find((e) => e.kind === 'give_up'), 30_000, 200).catch((err: unknown) => {
      throw new Error(`${String(err)}\nrepairman output:\n${output}`);
    });
    assert.ok(gaveUp);
    assert.equal(entriesOf(dbPath, name).filter((e) => e.kind === 'restart').length, 2);

    // Given up: nothing more happens while it stays unhealthy.
    await new Promise((r) => setTimeout(r, 3000));
    const quiet = entriesOf(dbPath, name).filter((e) => e.num > gaveUp.num && (e.kind === 'restart' || e.kind === 'restart_failed'));
    assert.deepEqual(quiet, [], 'no restart after giving up');

    const reset = await cli(['reset', name, '--db-path', dbPath], env);
    assert.equal(reset.code, 0, reset.err);
    assert.match(reset.out, new RegExp(`Restart budget of ${name} reset`));

    // The running instance learns of the reset and restarts the container again.
    const resetEntry = entriesOf(dbPath, name).find((e) => e.kind === 'reset');
    assert.ok(resetEntry);
    const startedAt = Date.now();
    await waitFor('a restart after the reset', () => entriesOf(dbPath, name).find((e) => e.kind === 'restart' && e.num > resetEntry.num), 15_000, 200).catch(
      (err: unknown) => {
        throw new Error(`${String(err)}\nrepairman output:\n${output}`);
      },
    );
    // Reset poll (1 s) + a decision + a restart with a 1 s stop timeout.
    assert.ok(Date.now() - startedAt < 8_000, `restarted ${Date.now() - startedAt} ms after the reset`);

    // And history tells the story, newest first.
    const history = await cli(['history', name, '--db-path', dbPath, '--limit', '100'], env);
    assert.equal(history.code, 0, history.err);
    const kinds = history.out
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(/\s{2,}/)[3]);
    const oldestFirst = kinds.reverse();
    const iGiveUp = oldestFirst.indexOf('give_up');
    const iReset = oldestFirst.indexOf('reset');
    assert.ok(iGiveUp >= 0 && iReset > iGiveUp && oldestFirst.indexOf('restart', iReset) > iReset, oldestFirst.join(','));
    assert.ok(repairman.exitCode === null, 'the running instance is still running');
  });
});

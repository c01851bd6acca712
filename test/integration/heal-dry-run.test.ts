// --dry-run (docs/behaviour.md §1): Repairman decides, logs and journals as usual, but changes no container.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openJournal } from '../../src/journal/journal.js';
import { hasTestEngine, inspectField, removeNamespace, runContainer, uniqueNamespace } from '../helpers/engine.js';
import { startRepairman, type RepairmanProcess } from '../helpers/repairman.js';

describe('heal: --dry-run', { skip: !hasTestEngine() && 'REPAIRMAN_TEST_DOCKER_HOST is not set' }, () => {
  const ns = uniqueNamespace('heal-dry');
  const dir = mkdtempSync(join(tmpdir(), 'rm-dry-'));
  const dbPath = join(dir, 'repairman.db');
  const sick = `${ns}sick`;
  const crashed = `${ns}crashed`;
  let rm: RepairmanProcess;
  let sickStartedAt = '';

  before(async () => {
    rm = await startRepairman({ namespace: ns, dbPath, args: ['--dry-run', '--seconds-between-restarts', '1', '--max-restarts-in-frame', '2', '--frame-size-in-seconds', '60'] });
    await runContainer(sick, { cmd: 'trap "exit 0" TERM; sleep 100000 & wait', health: { cmd: 'false' } });
    await runContainer(crashed, { cmd: 'sleep 1; exit 3' });
    sickStartedAt = await inspectField(sick, '{{.State.StartedAt}}');
  });
  after(async () => {
    await rm?.stop();
    await removeNamespace(ns);
    rmSync(dir, { recursive: true, force: true });
  });

  it('decides, logs and journals, and changes nothing', async () => {
    // The budget goes on as if the restarts had happened: two, then the longer wait.
    await rm.waitForLog((l) => l.msg === 'maximum restarts reached, waiting longer' && l.container === sick, 20_000);
    await rm.waitForLog((l) => l.msg === 'maximum restarts reached, waiting longer' && l.container === crashed, 20_000);
    assert.equal(rm.actionsOn(sick).filter((l) => l.msg === 'dry run: not restarted').length, 2);
    assert.equal(rm.actionsOn(crashed).filter((l) => l.msg === 'dry run: not restarted').length, 2);
    assert.equal(rm.find((l) => l.msg === 'restarted' || l.msg === 'started').length, 0);

    // Nothing changed on the engine.
    assert.equal(await inspectField(sick, '{{.State.StartedAt}}'), sickStartedAt);
    assert.equal(await inspectField(sick, '{{.State.Health.Status}}'), 'unhealthy');
    assert.equal(await inspectField(crashed, '{{.State.Status}}'), 'exited');
    assert.equal(await inspectField(crashed, '{{.RestartCount}}'), '0');

    // The journal has it all, marked as a dry run.
    const journal = openJournal({ dbPath, readonly: true });
    try {
      for (const name of [sick, crashed]) {
        const entries = journal.list({ limit: 50, container: name }).reverse();
        assert.deepEqual(entries.map((e) => e.kind), ['restart', 'multiple_failures', 'restart', 'longer_wait'], JSON.stringify(entries));
        assert.equal(entries[0]?.details?.dryRun, true);
        assert.match(entries[0]?.message ?? '', /^Dry run/);
      }
    } finally {
      journal.close();
    }
  });
});

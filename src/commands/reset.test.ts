import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decide, initialBudget, recordRestart, type BudgetPolicy } from '../budget/budget.js';
import { callCommand, type CommandResult } from '../../test/helpers/command-call.js';
import { openJournal } from '../journal/journal.js';
import { run } from './reset.js';

const dir = mkdtempSync(join(tmpdir(), 'repairman-reset-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const tempDb = (): string => join(dir, `r${++n}.db`);

const reset = (argv: string[], env: NodeJS.ProcessEnv = {}): Promise<CommandResult> => callCommand(run, argv, env);

const T0 = Date.UTC(2024, 0, 1);
const POLICY: BudgetPolicy = { secondsBetweenRestarts: 15, frameSizeSec: 300, maxRestartsInFrame: 0, secondsBetweenNextFrame: 600, maxChecksToGiveUp: 2 };

function givenUpDb(): { path: string } {
  const path = tempDb();
  const j = openJournal({ dbPath: path });
  let s = recordRestart(initialBudget(), POLICY, T0, true).state;
  const r = recordRestart(s, POLICY, T0 + 20_000, false);
  assert.equal(r.gaveUp, true);
  s = r.state;
  j.saveBudget('web', s, T0 + 20_000);
  j.saveBudget('database', s, T0 + 20_000);
  for (let i = 0; i < 5; i++) j.append({ container: 'web', kind: 'restart', atMs: T0 + i, message: `restart ${i}` }, 5);
  j.close();
  return { path };
}

describe('repairman reset', () => {
  it('clears the budget of NAME, journals a reset entry, and a running instance sees it', async () => {
    const { path } = givenUpDb();
    const instance = openJournal({ dbPath: path });
    const seenBefore = instance.lastResetSeq();
    assert.equal(decide(instance.loadBudget('web')!, POLICY, T0 + 30_000).kind, 'given_up');

    const r = await reset(['web', '--db-path', path]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Restart budget of web reset/);

    const resets = instance.resetsAfter(seenBefore);
    assert.deepEqual(resets.map((x) => x.container), ['web']);
    assert.equal(instance.loadBudget('web'), null, 'no stored budget: the instance starts web afresh');
    assert.ok(instance.loadBudget('database'), 'other containers keep theirs');
    const [entry] = instance.list({ limit: 1, container: 'web' });
    assert.equal(entry?.kind, 'reset');
    assert.equal(instance.list({ limit: 100, container: 'web' }).length, 6, 'reset trims nothing (the label limit is unknown here)');
    instance.close();
  });

  it('exits 1 with a clear message when NAME has no state, suggesting a close name', async () => {
    const { path } = givenUpDb();
    const r = await reset(['wbe'], { DB_PATH: path });
    assert.equal(r.code, 1);
    assert.match(r.err, /no restart budget is stored for "wbe"/);
    assert.match(r.err, /Did you mean web\?/);
    const again = await reset(['/web', '--db-path', path]);
    assert.equal(again.code, 0, 'a leading slash is accepted');
    const twice = await reset(['web', '--db-path', path]);
    assert.equal(twice.code, 1, 'nothing left to reset');
    const j = openJournal({ dbPath: path, readonly: true });
    assert.equal(j.list({ limit: 100 }).filter((e) => e.kind === 'reset').length, 1, 'a failed reset writes nothing');
    j.close();
  });

  it('a reset during a longer wait lets the next decision restart at once', async () => {
    const path = tempDb();
    const j = openJournal({ dbPath: path });
    const p = { ...POLICY, maxRestartsInFrame: 2, maxChecksToGiveUp: 0 };
    let s = recordRestart(initialBudget(), p, T0, true).state;
    s = recordRestart(s, p, T0 + 15_000, true).state;
    const d = decide(s, p, T0 + 30_000);
    assert.equal(d.kind, 'longer_wait');
    j.saveBudget('web', d.state, T0 + 30_000);
    const r = await reset(['web', '--db-path', path]);
    assert.equal(r.code, 0);
    assert.equal(decide(j.loadBudget('web') ?? initialBudget(), p, T0 + 31_000).kind, 'restart');
    j.close();
  });

  it('explains that :memory: budgets cannot be reset from outside', async () => {
    const r = await reset(['web']);
    assert.equal(r.code, 1);
    assert.match(r.err, /in memory/);
    assert.match(r.err, /--db-path/);
  });

  it('never creates a database at a wrong path', async () => {
    const missing = join(dir, 'typo.db');
    const r = await reset(['web', '--db-path', missing]);
    assert.equal(r.code, 1);
    assert.match(r.err, /no journal database at .*typo\.db.*\[RM_JOURNAL\]/);
    assert.equal(existsSync(missing), false);
  });

  it('usage errors exit 2', async () => {
    for (const argv of [[], ['a', 'b'], ['/'], ['web', '--bogus']]) {
      const r = await reset(['--db-path', '/nonexistent/x.db', ...argv]);
      assert.equal(r.code, 2, `${JSON.stringify(argv)}: ${r.err}`);
    }
  });
});

// The ':memory:' journal opens SQLite on its first write (RSS: an idle instance does not load it).
// This file must not import node:sqlite itself: the first test checks that nothing loaded it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isRepairmanError } from '../errors.js';
import { initialBudget, recordRestart, type BudgetPolicy } from '../budget/budget.js';
import { openJournal } from './journal.js';

// Node's list of the built-in modules this process has loaded ('NativeModule sqlite' once node:sqlite is).
const sqliteLoaded = (): boolean => (process as unknown as { moduleLoadList: string[] }).moduleLoadList.includes('NativeModule sqlite');

const T0 = Date.UTC(2024, 0, 1);
const POLICY: BudgetPolicy = { secondsBetweenRestarts: 15, frameSizeSec: 300, maxRestartsInFrame: 2, secondsBetweenNextFrame: 600, maxChecksToGiveUp: 5 };

describe('journal: the in-memory journal opens on its first write', () => {
  it('answers every read as an empty database without loading SQLite, then loads it on the first append', () => {
    const j = openJournal({ dbPath: ':memory:' });
    assert.equal(j.dbPath, ':memory:');
    assert.equal(j.persistent, false);
    assert.equal(j.readonly, false);
    assert.deepEqual(j.list({ limit: 10 }), []);
    assert.deepEqual(j.list({ limit: 10, container: 'web', beforeNum: 5 }), []);
    assert.deepEqual(j.restartsSince(0), []);
    assert.equal(j.count(), 0);
    assert.equal(j.lastNum(), 0);
    assert.equal(j.loadBudgets().size, 0);
    assert.equal(j.loadBudget('web'), null);
    assert.equal(j.lastResetSeq(), 0);
    assert.deepEqual(j.resetsAfter(0), []);
    j.deleteBudget('web');
    assert.equal(j.resetContainer('web', T0), null);
    assert.equal(sqliteLoaded(), false, 'reads of an empty in-memory journal must not load node:sqlite');

    const e = j.append({ container: 'web', kind: 'restart', atMs: T0, message: 'Restarted (unhealthy)' }, 50);
    assert.equal(sqliteLoaded(), true);
    assert.equal(e.num, 1);
    assert.deepEqual(j.list({ limit: 10 }), [{ num: 1, container: 'web', kind: 'restart', atMs: T0, message: 'Restarted (unhealthy)' }]);
    assert.deepEqual(j.restartsSince(0), [{ container: 'web', atMs: T0, kind: 'restart' }]);
    assert.equal(j.count(), 1);
    assert.equal(j.lastNum(), 1);
    j.close();
  });

  it('a budget saved first opens it too, and reads then see the budget', () => {
    const j = openJournal({ dbPath: ':memory:' });
    const state = recordRestart(initialBudget(), POLICY, T0, true).state;
    assert.equal(j.saveBudget('web', state, T0), true);
    assert.deepEqual(j.loadBudget('web'), state);
    assert.deepEqual([...j.loadBudgets().keys()], ['web']);
    assert.notEqual(j.resetContainer('web', T0 + 1000), null);
    assert.equal(j.loadBudget('web'), null);
    assert.equal(j.lastResetSeq(), 1);
    j.close();
  });

  it('each in-memory journal is its own database', () => {
    const a = openJournal({ dbPath: ':memory:' });
    const b = openJournal({ dbPath: '' });
    a.append({ container: 'web', kind: 'restart', atMs: T0, message: 'm' }, 50);
    assert.equal(a.count(), 1);
    assert.equal(b.count(), 0);
    b.append({ container: 'db', kind: 'restart', atMs: T0, message: 'm' }, 50);
    assert.equal(b.list({ limit: 5 })[0]?.container, 'db');
    a.close();
    b.close();
  });

  it('closed, opened or not, every call fails with RM_JOURNAL; close twice is harmless', () => {
    for (const write of [false, true]) {
      const j = openJournal({ dbPath: ':memory:' });
      if (write) j.append({ container: 'web', kind: 'restart', atMs: T0, message: 'm' }, 50);
      j.close();
      j.close();
      for (const call of [() => j.count(), () => j.list({ limit: 1 }), () => j.append({ container: 'web', kind: 'restart', atMs: T0, message: 'm' }, 50), () => j.deleteBudget('web')]) {
        assert.throws(call, (err: unknown) => isRepairmanError(err, 'RM_JOURNAL') && /closed/.test(err.message));
      }
    }
  });
});

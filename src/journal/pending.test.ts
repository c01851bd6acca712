import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { initialBudget } from '../budget/budget.js';
import { MAX_PENDING_ENTRIES, PendingWrites } from './pending.js';
import type { JournalEntry } from './types.js';

let num = 0;
const e = (container: string, kind: JournalEntry['kind'] = 'restart', atMs = ++num * 1000): JournalEntry => ({ num: ++num, container, kind, atMs, message: `${kind} ${container}` });

describe('pending journal writes (kept in memory while the file fails)', () => {
  it('lists newest first with the file\'s filters, and the restarts for the timeline', () => {
    const p = new PendingWrites();
    const a1 = e('a');
    const b1 = e('b', 'recovered');
    const a2 = e('a', 'restart_failed');
    for (const x of [a1, b1, a2]) p.addEntry(x, 50);
    assert.deepEqual(p.list({ limit: 10 }), [a2, b1, a1]);
    assert.deepEqual(p.list({ limit: 1 }), [a2]);
    assert.deepEqual(p.list({ limit: 10, container: 'a' }), [a2, a1]);
    assert.deepEqual(p.list({ limit: 10, beforeNum: a2.num }), [b1, a1]);
    assert.deepEqual(p.restartsSince(a1.atMs + 1).map((r) => r.kind), ['restart_failed']);
    assert.equal(p.size, 3);
    assert.equal(p.empty, false);
  });

  it('keeps per container what the file would keep (max_historic_entries), a NaN trims nothing', () => {
    const p = new PendingWrites();
    for (let i = 0; i < 5; i++) p.addEntry(e('a'), 2);
    p.addEntry(e('b'), 0);
    assert.deepEqual(p.list({ limit: 10 }).map((x) => x.container), ['a', 'a']);
    for (let i = 0; i < 3; i++) p.addEntry(e('c'), Number.NaN);
    assert.equal(p.list({ limit: 10, container: 'c' }).length, 3);
    assert.equal(p.dropped, 0, 'trimmed as the file trims: not lost');
  });

  it('is bounded: beyond the bound the oldest go, counted as dropped', () => {
    const p = new PendingWrites(3);
    const all = [e('a'), e('b'), e('c'), e('d'), e('e')];
    for (const x of all) p.addEntry(x, 50);
    assert.equal(p.size, 3);
    assert.equal(p.dropped, 2);
    assert.deepEqual(p.entries.map((x) => x.entry.container), ['c', 'd', 'e']);
    assert.ok(MAX_PENDING_ENTRIES >= 1000, 'the real bound holds hours of a busy host');
  });

  it('keeps the newest budget per container, or its deletion; clear() forgets all', () => {
    const p = new PendingWrites();
    const b = initialBudget();
    p.setBudget('a', b, 1);
    p.setBudget('a', { ...b, streak: 2 }, 2);
    p.deleteBudget('b');
    assert.deepEqual([...p.budgets], [['a', { state: { ...b, streak: 2 }, atMs: 2 }], ['b', null]]);
    assert.equal(p.empty, false, 'budgets alone are something to write');
    p.addEntry(e('a'), 50);
    p.clear();
    assert.equal(p.empty, true);
    assert.equal(p.size, 0);
  });
});

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { isRepairmanError } from '../errors.js';
import { decide, initialBudget, recordRestart, type BudgetPolicy } from '../budget/budget.js';
import { openJournal, PAGE_CACHE_KIB } from './journal.js';
import { SCHEMA_VERSION, migrate } from './migrations.js';
import { pragma, type Database } from './sqlite.js';
import type { JournalEntryInput } from './types.js';

const dir = mkdtempSync(join(tmpdir(), 'repairman-journal-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;
const tempDb = (): string => join(dir, `j${++fileNo}.db`);

const T0 = Date.UTC(2024, 0, 1);
const entry = (container: string, i: number, kind: JournalEntryInput['kind'] = 'restart'): JournalEntryInput => ({
  container,
  kind,
  atMs: T0 + i * 1000,
  message: `${kind} ${container} #${i}`,
});
const POLICY: BudgetPolicy = { secondsBetweenRestarts: 15, frameSizeSec: 300, maxRestartsInFrame: 2, secondsBetweenNextFrame: 600, maxChecksToGiveUp: 5 };

function assertJournalError(fn: () => unknown, ...fragments: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isRepairmanError(err, 'RM_JOURNAL'), `expected RM_JOURNAL, got ${String(err)}`);
    for (const f of fragments) assert.match(err.message, new RegExp(f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i'));
    return true;
  });
}

describe('journal: entries', () => {
  it('appends with increasing nums and lists newest first, details included', () => {
    const j = openJournal({ dbPath: ':memory:' });
    assert.equal(j.persistent, false);
    const a = j.append({ ...entry('web', 1), details: { exitCode: 3, reason: 'crashed' } }, 50);
    const b = j.append(entry('db', 2, 'wait'), 50);
    assert.ok(b.num > a.num);
    assert.deepEqual(a, { ...entry('web', 1), details: { exitCode: 3, reason: 'crashed' }, num: a.num });
    assert.deepEqual(j.list({ limit: 10 }), [b, a]);
    assert.equal(j.count(), 2);
    assert.equal(j.lastNum(), b.num);
    assert.equal('details' in j.list({ limit: 1 })[0]!, false, 'no details key when there were none');
    j.close();
  });

  it('trims each container to its newest maxPerContainer entries, leaving others alone', () => {
    const j = openJournal({ dbPath: ':memory:' });
    for (let i = 0; i < 10; i++) j.append(entry('a', i), 5);
    for (let i = 0; i < 3; i++) j.append(entry('b', 100 + i), 5);
    const a = j.list({ limit: 100, container: 'a' });
    assert.deepEqual(a.map((e) => e.message), [9, 8, 7, 6, 5].map((i) => `restart a #${i}`));
    assert.equal(j.list({ limit: 100, container: 'b' }).length, 3);
    assert.equal(j.count(), 8);
    // A smaller limit applies at the next append of that container only.
    j.append(entry('a', 10), 2);
    assert.equal(j.list({ limit: 100, container: 'a' }).length, 2);
    assert.equal(j.list({ limit: 100, container: 'b' }).length, 3);
    j.close();
  });

  it('maxPerContainer 0 keeps nothing, and nums are never reused after trimming', () => {
    const j = openJournal({ dbPath: ':memory:' });
    const first = j.append(entry('a', 1), 0);
    assert.equal(j.count(), 0);
    const second = j.append(entry('a', 2), 0);
    assert.ok(second.num > first.num);
    assert.equal(j.lastNum(), second.num);
    j.close();
  });

  it('pages backwards with beforeNum, with and without a container', () => {
    const j = openJournal({ dbPath: ':memory:' });
    const all = [];
    for (let i = 0; i < 25; i++) all.push(j.append(entry(i % 2 ? 'odd' : 'even', i), 100));
    const newestFirst = [...all].reverse();
    const page1 = j.list({ limit: 10 });
    const page2 = j.list({ limit: 10, beforeNum: page1.at(-1)!.num });
    const page3 = j.list({ limit: 10, beforeNum: page2.at(-1)!.num });
    assert.deepEqual([...page1, ...page2, ...page3], newestFirst);
    assert.equal(page3.length, 5);
    assert.deepEqual(j.list({ limit: 10, beforeNum: all[0]!.num }), []);
    const odd = j.list({ limit: 4, container: 'odd' });
    assert.deepEqual(odd, newestFirst.filter((e) => e.container === 'odd').slice(0, 4));
    const oddNext = j.list({ limit: 100, container: 'odd', beforeNum: odd.at(-1)!.num });
    assert.deepEqual(oddNext, newestFirst.filter((e) => e.container === 'odd').slice(4));
    assert.deepEqual(j.list({ limit: 5, container: 'nobody' }), []);
    assert.deepEqual(j.list({ limit: 0 }), []);
    assert.equal(j.list({ limit: -3 }).length, 0);
    assert.equal(j.list({ limit: Number.NaN }).length, 20, 'a nonsense limit falls back to 20');
    j.close();
  });

  it('restartsSince returns restarts and failed restarts from a moment, oldest first', () => {
    const j = openJournal({ dbPath: ':memory:' });
    j.append(entry('a', 1), 50);
    j.append(entry('a', 2, 'wait'), 50);
    j.append(entry('b', 3, 'restart_failed'), 50);
    j.append(entry('b', 4), 50);
    j.append(entry('c', 5, 'give_up'), 50);
    assert.deepEqual(j.restartsSince(T0 + 2000), [
      { container: 'b', atMs: T0 + 3000, kind: 'restart_failed' },
      { container: 'b', atMs: T0 + 4000, kind: 'restart' },
    ]);
    assert.equal(j.restartsSince(0).length, 3);
    j.close();
  });

  it('stores details it cannot serialise as a note instead of failing', () => {
    const j = openJournal({ dbPath: ':memory:' });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    j.append({ ...entry('a', 1), details: circular }, 50);
    j.append({ ...entry('a', 2), details: { big: 10n } }, 50);
    const [big, circ] = j.list({ limit: 2 });
    assert.deepEqual(big!.details, { big: '10' });
    assert.deepEqual(circ!.details, { note: 'details could not be serialised' });
    j.close();
  });
});

describe('journal: budgets', () => {
  it('round-trips budgets and deletes them', () => {
    const j = openJournal({ dbPath: ':memory:' });
    let s = recordRestart(initialBudget(), POLICY, T0, true).state;
    s = recordRestart(s, POLICY, T0 + 15_000, false).state;
    const d = decide(s, POLICY, T0 + 30_000);
    assert.equal(d.kind, 'longer_wait');
    j.saveBudget('web', d.state, T0 + 30_000);
    j.saveBudget('db', initialBudget(), T0);
    j.saveBudget('db', s, T0 + 1); // upsert
    const loaded = j.loadBudgets();
    assert.deepEqual(loaded, new Map([['web', d.state], ['db', s]]));
    assert.deepEqual(j.loadBudget('web'), d.state);
    assert.equal(j.loadBudget('nobody'), null);
    j.deleteBudget('web');
    assert.deepEqual([...j.loadBudgets().keys()], ['db']);
    j.close();
  });

  it('batch keeps every write of its function or none, appends nested inside included', () => {
    const j = openJournal({ dbPath: tempDb() });
    const marked = { ...recordRestart(initialBudget(), POLICY, T0, true).state, inFlight: { atMs: T0, verb: 'restart' as const, reason: 'unhealthy', attempt: 1, multipleFailures: false, gaveUp: false, maxHistoricEntries: 50 } };
    j.saveBudget('web', marked, T0);
    const { inFlight: _m, ...cleared } = marked;
    assert.throws(() =>
      j.batch(() => {
        j.append(entry('web', 1), 50);
        j.saveBudget('web', cleared, T0 + 1);
        throw new Error('cut half way');
      }),
    );
    assert.equal(j.count(), 0, 'the entry was rolled back');
    assert.deepEqual(j.loadBudget('web'), marked, 'and so was the budget: the marker is still there');
    assert.equal(j.batch(() => {
      j.append(entry('web', 2), 50);
      j.saveBudget('web', cleared, T0 + 2);
      return 'done';
    }), 'done');
    assert.equal(j.count(), 1);
    assert.deepEqual(j.loadBudget('web'), cleared);
    j.close();
    assertJournalError(() => j.batch(() => undefined), 'closed');
  });

  it('skips a damaged budget row and says so', () => {
    const path = tempDb();
    const j = openJournal({ dbPath: path });
    j.saveBudget('good', initialBudget(), T0);
    j.close();
    const raw = new DatabaseSync(path);
    raw.prepare("INSERT INTO budgets (container, state, updated_at_ms) VALUES ('bad', '{not json', 0), ('odd', '{\"v\":9}', 0)").run();
    raw.close();
    const warnings: string[] = [];
    const again = openJournal({ dbPath: path, onWarning: (m) => warnings.push(m) });
    assert.deepEqual([...again.loadBudgets().keys()], ['good']);
    assert.equal(warnings.length, 2);
    assert.match(warnings.join('\n'), /bad/);
    assert.equal(again.loadBudget('bad'), null);
    again.close();
  });

  it('resetContainer clears the budget, logs the reset and journals it, in one go', () => {
    const j = openJournal({ dbPath: ':memory:' });
    assert.equal(j.lastResetSeq(), 0);
    assert.equal(j.resetContainer('web', T0, 50), null, 'no state: nothing written');
    assert.equal(j.count(), 0);
    j.saveBudget('web', recordRestart(initialBudget(), POLICY, T0, true).state, T0);
    const e = j.resetContainer('web', T0 + 5000, 50);
    assert.ok(e);
    assert.equal(e.kind, 'reset');
    assert.equal(e.container, 'web');
    assert.equal(j.loadBudget('web'), null);
    assert.deepEqual(j.list({ limit: 5 }), [e]);
    const resets = j.resetsAfter(0);
    assert.deepEqual(resets, [{ seq: resets[0]!.seq, container: 'web', atMs: T0 + 5000 }]);
    assert.equal(j.lastResetSeq(), resets[0]!.seq);
    assert.deepEqual(j.resetsAfter(resets[0]!.seq), []);
    j.close();
  });
});

describe('journal: files', () => {
  it('persists entries, budgets and resets across close and reopen, in WAL mode', () => {
    const path = tempDb();
    const j = openJournal({ dbPath: path });
    assert.equal(j.persistent, true);
    const e = j.append(entry('web', 1), 50);
    const s = recordRestart(initialBudget(), POLICY, T0, true).state;
    j.saveBudget('web', s, T0);
    j.saveBudget('gone', s, T0);
    j.resetContainer('gone', T0, 50);
    j.close();
    j.close(); // twice is harmless

    const raw = new DatabaseSync(path, { readOnly: true });
    assert.equal(pragma(raw, 'journal_mode'), 'wal');
    assert.equal(pragma(raw, 'user_version'), SCHEMA_VERSION);
    raw.close();

    const again = openJournal({ dbPath: path });
    assert.deepEqual(again.list({ limit: 10, container: 'web' }), [e]);
    assert.deepEqual(again.loadBudgets(), new Map([['web', s]]));
    assert.equal(again.resetsAfter(0).length, 1);
    again.close();
  });

  it('a read-only connection reads what a running instance writes, and refuses to write', () => {
    const path = tempDb();
    const writer = openJournal({ dbPath: path });
    writer.append(entry('web', 1), 50);
    const reader = openJournal({ dbPath: path, readonly: true });
    assert.equal(reader.count(), 1);
    writer.append(entry('web', 2), 50);
    assert.equal(reader.count(), 2, 'sees later commits');
    assertJournalError(() => reader.append(entry('web', 3), 50), 'read-only');
    assertJournalError(() => reader.saveBudget('web', initialBudget(), T0), 'read-only');
    reader.close();
    writer.close();
  });

  it('a save racing a reset never undoes it, even across a restart of the instance', () => {
    const path = tempDb();
    const instance = openJournal({ dbPath: path });
    const busy = recordRestart(initialBudget(), POLICY, T0, true).state;
    assert.equal(instance.saveBudget('web', busy, T0), true);
    assert.equal(instance.saveBudget('db', busy, T0), true);
    const lastSeen = instance.lastResetSeq();
    const cli = openJournal({ dbPath: path, mustExist: true });
    assert.ok(cli.resetContainer('web', T0 + 1000));
    cli.close();
    // The instance has not polled yet and saves its old state: refused, the reset wins.
    assert.equal(instance.saveBudget('web', busy, T0 + 2000), false);
    assert.equal(instance.loadBudget('web'), null);
    assert.equal(instance.saveBudget('db', busy, T0 + 2000), true, 'other containers are saved as usual');
    // Killed before polling; the restarted instance loads no budget for web.
    instance.close();
    const restarted = openJournal({ dbPath: path });
    assert.deepEqual([...restarted.loadBudgets().keys()], ['db']);
    assert.equal(restarted.saveBudget('web', initialBudget(), T0 + 3000), true, 'resets before the open are already seen');
    restarted.close();
    // Without a restart: once polled, saves go through again.
    const again = openJournal({ dbPath: path });
    const cli2 = openJournal({ dbPath: path, mustExist: true });
    cli2.resetContainer('web', T0 + 4000);
    cli2.close();
    assert.equal(again.saveBudget('web', busy, T0 + 5000), false);
    assert.deepEqual(again.resetsAfter(lastSeen).map((r) => r.container), ['web', 'web']);
    assert.equal(again.saveBudget('web', initialBudget(), T0 + 6000), true);
    again.close();
  });

  it('a second writer (repairman reset) and the running instance share the file', () => {
    const path = tempDb();
    const instance = openJournal({ dbPath: path });
    instance.saveBudget('web', recordRestart(initialBudget(), POLICY, T0, true).state, T0);
    const since = instance.lastResetSeq();
    const cli = openJournal({ dbPath: path, mustExist: true });
    assert.ok(cli.resetContainer('web', T0 + 1000, 50));
    cli.close();
    const seen = instance.resetsAfter(since);
    assert.deepEqual(seen.map((r) => r.container), ['web']);
    assert.equal(instance.loadBudget('web'), null);
    instance.close();
  });

  it('survives a SIGKILL right after an append', () => {
    const path = tempDb();
    const journalUrl = new URL('./journal.js', import.meta.url).href;
    const budgetUrl = new URL('../budget/budget.js', import.meta.url).href;
    const script = `
      const { openJournal } = await import(${JSON.stringify(journalUrl)});
      const { initialBudget } = await import(${JSON.stringify(budgetUrl)});
      const j = openJournal({ dbPath: ${JSON.stringify(path)} });
      j.append({ container: 'web', kind: 'longer_wait', atMs: ${T0}, message: 'waiting until later', details: { untilMs: ${T0 + 600_000} } }, 50);
      j.saveBudget('web', { ...initialBudget(), longerWaitStartedMs: ${T0}, streak: 2 }, ${T0});
      process.kill(process.pid, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 5000));
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(child.signal, 'SIGKILL', `child ended otherwise: ${child.status} ${child.stderr}`);
    const j = openJournal({ dbPath: path });
    const [e] = j.list({ limit: 10 });
    assert.equal(e?.message, 'waiting until later');
    assert.deepEqual(e?.details, { untilMs: T0 + 600_000 });
    assert.equal(j.loadBudget('web')?.longerWaitStartedMs, T0);
    j.close();
  });
});

describe('journal: memory', () => {
  it('a journal file keeps a small SQLite page cache', () => {
    for (const readonly of [false, true]) {
      const path = tempDb();
      openJournal({ dbPath: path }).close();
      const j = openJournal({ dbPath: path, readonly });
      const db = (j as unknown as { db: Database }).db;
      assert.equal(pragma(db, 'cache_size'), -PAGE_CACHE_KIB);
      j.close();
    }
  });
});

describe('journal: heartbeat', () => {
  it('a file keeps when its Repairman was last alive, across reopening; a read-only reader of an old file reads null', () => {
    const path = tempDb();
    const j = openJournal({ dbPath: path });
    assert.equal(j.lastAliveMs(), null);
    j.markAlive(T0);
    j.markAlive(T0 + 10_000.4);
    assert.equal(j.lastAliveMs(), T0 + 10_000);
    j.close();
    const again = openJournal({ dbPath: path });
    assert.equal(again.lastAliveMs(), T0 + 10_000, 'the next run reads it');
    again.close();
    const reader = openJournal({ dbPath: path, readonly: true });
    assert.equal(reader.lastAliveMs(), T0 + 10_000);
    assert.throws(() => reader.markAlive(T0), /read-only/);
    reader.close();
    const old = tempDb();
    const raw = new DatabaseSync(old);
    migrate(raw, 2);
    raw.close();
    const oldReader = openJournal({ dbPath: old, readonly: true });
    assert.equal(oldReader.lastAliveMs(), null);
    oldReader.close();
  });

  it('in memory: nothing is kept, and a heartbeat does not open the database', () => {
    const j = openJournal({ dbPath: ':memory:' });
    j.markAlive(T0);
    assert.equal(j.lastAliveMs(), null);
    j.close();
  });
});

describe('journal: schema versions', () => {
  it('migrates a version 1 database, keeping its entries and budgets', () => {
    const path = tempDb();
    const raw = new DatabaseSync(path);
    raw.exec('PRAGMA journal_mode = WAL');
    assert.equal(migrate(raw, 1), 1);
    raw.prepare("INSERT INTO journal (container, kind, at_ms, message, details) VALUES ('web', 'restart', ?, 'old restart', '{\"exitCode\":3}')").run(T0);
    raw.prepare('INSERT INTO budgets (container, state, updated_at_ms) VALUES (?, ?, ?)').run('web', JSON.stringify(initialBudget()), T0);
    raw.close();

    // History (read-only) can read a v1 file without migrating it.
    const reader = openJournal({ dbPath: path, readonly: true });
    assert.equal(reader.list({ limit: 5 })[0]?.message, 'old restart');
    assert.equal(reader.lastResetSeq(), 0);
    assert.deepEqual(reader.resetsAfter(0), []);
    reader.close();
    const check = new DatabaseSync(path, { readOnly: true });
    assert.equal(pragma(check, 'user_version'), 1, 'a read-only open does not migrate');
    check.close();

    const j = openJournal({ dbPath: path });
    assert.deepEqual(j.list({ limit: 5 }).map((e) => [e.message, e.details]), [['old restart', { exitCode: 3 }]]);
    assert.deepEqual(j.loadBudget('web'), initialBudget());
    j.saveBudget('web', recordRestart(initialBudget(), POLICY, T0, true).state, T0);
    assert.ok(j.resetContainer('web', T0, 50), 'the v2 reset log works after migrating');
    assert.equal(j.lastAliveMs(), null, 'no heartbeat before v3');
    j.markAlive(T0 + 5);
    assert.equal(j.lastAliveMs(), T0 + 5);
    j.close();
    const after2 = new DatabaseSync(path, { readOnly: true });
    assert.equal(pragma(after2, 'user_version'), SCHEMA_VERSION);
    const indexes = (after2.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    assert.deepEqual(indexes, ['journal_container_num', 'journal_kind_at', 'resets_container_seq']);
    after2.close();
  });

  it('migrating twice is a no-op', () => {
    const db = new DatabaseSync(':memory:');
    assert.equal(migrate(db), SCHEMA_VERSION);
    assert.equal(migrate(db), SCHEMA_VERSION);
    db.close();
  });

  it('refuses a database written by a newer Repairman', () => {
    const path = tempDb();
    const raw = new DatabaseSync(path);
    migrate(raw);
    raw.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    assertJournalError(() => openJournal({ dbPath: path }), path, 'newer Repairman');
    assertJournalError(() => openJournal({ dbPath: path, readonly: true }), 'newer Repairman');
  });
});

describe('journal: bad files never crash, they explain', () => {
  it('a file that is not a database names the path and what to do', () => {
    const path = tempDb();
    writeFileSync(path, 'this is not an SQLite database\n'.repeat(200));
    assertJournalError(() => openJournal({ dbPath: path }), path, 'move the file away', '--db-path');
    assertJournalError(() => openJournal({ dbPath: path, readonly: true }), path);
  });

  it('a damaged database (garbage over its pages) is refused at open', () => {
    const path = tempDb();
    const j = openJournal({ dbPath: path });
    for (let i = 0; i < 500; i++) j.append({ ...entry(`c${i % 20}`, i), message: 'x'.repeat(200) }, 50);
    j.close();
    const raw = new DatabaseSync(path);
    raw.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    raw.close();
    // Scribble over the pages after the header page: the tables' b-trees.
    const buf = Buffer.alloc(8192, 0xa5);
    const h = openSync(path, 'r+');
    writeSync(h, buf, 0, buf.length, 4096);
    closeSync(h);
    assertJournalError(() => openJournal({ dbPath: path }), path);
  });

  it('another program\'s SQLite file is not taken over', () => {
    const path = tempDb();
    const raw = new DatabaseSync(path);
    raw.exec('CREATE TABLE photos (id INTEGER)');
    raw.close();
    assertJournalError(() => openJournal({ dbPath: path }), 'not a Repairman journal');
  });

  it('a missing file for history/reset and a missing directory are explained', () => {
    assertJournalError(() => openJournal({ dbPath: join(dir, 'nope.db'), readonly: true }), 'no journal database', '--db-path');
    assertJournalError(() => openJournal({ dbPath: join(dir, 'nope.db'), mustExist: true }), 'no journal database');
    assertJournalError(() => openJournal({ dbPath: join(dir, 'no-such-dir', 'x.db') }), 'directory');
    assertJournalError(() => openJournal({ dbPath: ':memory:', readonly: true }), ':memory:');
  });

  it('calls after close fail with RM_JOURNAL, not a crash of SQLite', () => {
    const j = openJournal({ dbPath: ':memory:' });
    j.close();
    assertJournalError(() => j.count(), 'closed');
  });
});

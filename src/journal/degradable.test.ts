import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Writable } from 'node:stream';
import { ManualClock } from '../../test/helpers/manual-clock.js';
import { initialBudget } from '../budget/budget.js';
import { createLogger } from '../log.js';
import { DegradableJournal } from './degradable.js';
import { journalError } from './journal-errors.js';
import { openJournal } from './journal.js';
import { RETRY_MAX_MS } from './outage.js';
import type { Journal, JournalEntryInput } from './types.js';

const dir = mkdtempSync(join(tmpdir(), 'repairman-degradable-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;
const tempDb = (): string => join(dir, `d${++fileNo}.db`);
const entry = (container: string, i: number): JournalEntryInput => ({ container, kind: 'restart', atMs: 1_000 + i, message: `restart ${container} #${i}` });

interface LogLine {
  level: string;
  msg: string;
  [k: string]: unknown;
}

function capture(): { lines: LogLine[]; log: ReturnType<typeof createLogger> } {
  const lines: LogLine[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as LogLine);
      cb();
    },
  });
  return { lines, log: createLogger({ out, format: 'json', level: 'debug' }) };
}

const FULL = Object.assign(new Error('database or disk is full'), { errcode: 13 });
const WRITES = new Set(['append', 'batch', 'saveBudget', 'deleteBudget', 'markAlive']);

/** A real journal whose writes fail like a full disk while `fault.on`. */
function flaky(inner: Journal, fault: { on: boolean }): Journal {
  return new Proxy(inner, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (fault.on && WRITES.has(String(key))) throw journalError(inner.dbPath, String(key), FULL, 'The disk is full: free some space.');
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** What another process reading the file sees. */
function stored(path: string): { containers: string[]; budgets: string[] } {
  const j = openJournal({ dbPath: path, readonly: true });
  try {
    return { containers: j.list({ limit: 100 }).reverse().map((e) => e.message), budgets: [...j.loadBudgets().keys()].sort() };
  } finally {
    j.close();
  }
}

function setup(opts: { path?: string; open?: () => Journal; maxPending?: number } = {}) {
  const path = opts.path ?? tempDb();
  const clock = new ManualClock(Date.UTC(2024, 0, 1));
  const { lines, log } = capture();
  const ctl = new AbortController();
  const changes: boolean[] = [];
  let opens = 0;
  const journal = new DegradableJournal({
    dbPath: path,
    open: () => {
      opens++;
      return (opts.open ?? (() => openJournal({ dbPath: path })))();
    },
    log,
    signal: ctl.signal,
    clock,
    onChange: (d) => changes.push(d),
    ...(opts.maxPending === undefined ? {} : { maxPending: opts.maxPending }),
  });
  return { path, clock, lines, journal, ctl, changes, opens: () => opens, errors: () => lines.filter((l) => l.level === 'error') };
}

describe('degradable journal: a file that cannot be opened at start', () => {
  it('a directory at the path: degraded, one clear error, entries and budgets kept, written once it is gone', async () => {
    const path = tempDb();
    mkdirSync(path);
    const t = setup({ path });
    assert.equal(t.journal.degraded, true);
    assert.deepEqual(t.changes, [true]);
    const [err] = t.errors();
    assert.equal(t.errors().length, 1);
    assert.equal(err?.code, 'RM_JOURNAL_DEGRADED');
    assert.match(String(err?.fix), /is a directory: point --db-path \/ DB_PATH at a file/);
    assert.match(t.journal.degradations()[0] ?? '', /^the journal .* cannot be opened \(.+\): healing goes on with the restart budgets in memory, 0 entries wait to be written, retrying\. .* is a directory/);

    const first = t.journal.append(entry('web', 1), 50);
    t.journal.append(entry('web', 2), 50);
    t.journal.saveBudget('web', { ...initialBudget(), streak: 2 }, t.clock.now());
    assert.equal(first.num, 1);
    assert.deepEqual(t.journal.list({ limit: 10 }).map((e) => e.message), ['restart web #2', 'restart web #1'], 'readers see what waits');
    assert.equal(t.journal.loadBudget('web')?.streak, 2);
    assert.equal(t.journal.pendingEntries, 2);
    assert.match(t.journal.degradations()[0] ?? '', /2 entries wait to be written/);

    await t.clock.advance(60_000);
    assert.equal(t.journal.degraded, true);
    assert.equal(t.errors().length, 1, 'retries are not logged as errors');
    assert.ok(t.opens() >= 4 && t.opens() <= 7, `backed off: ${t.opens()} opens in a minute`);

    rmdirSync(path);
    await t.clock.advance(RETRY_MAX_MS);
    assert.equal(t.journal.degraded, false);
    assert.deepEqual(t.changes, [true, false]);
    const back = t.lines.find((l) => l.msg === 'the journal is written again');
    assert.equal(back?.written, 2);
    assert.deepEqual(stored(path), { containers: ['restart web #1', 'restart web #2'], budgets: ['web'] });
    assert.equal(statSync(path).mode & 0o777, 0o600);
    t.journal.append(entry('web', 3), 50);
    assert.equal(t.journal.pendingEntries, 0);
    t.journal.close();
    assert.deepEqual(stored(path).containers, ['restart web #1', 'restart web #2', 'restart web #3']);
  });

  it('a corrupt file: says it is damaged and how to fix it; a new file once it is moved away', async () => {
    const path = tempDb();
    writeFileSync(path, Buffer.alloc(8192, 7));
    const t = setup({ path });
    assert.equal(t.journal.degraded, true);
    assert.match(String(t.errors()[0]?.reason), /not a database/);
    assert.match(String(t.errors()[0]?.fix), /damaged .* move the file away/);
    t.journal.append(entry('api', 1), 50);
    renameSync(path, `${path}.broken`);
    await t.clock.advance(1_000);
    assert.equal(t.journal.degraded, false);
    t.journal.close();
    assert.deepEqual(stored(path).containers, ['restart api #1']);
  });

  it('a file opened late: resets already in it are history, not applied to this run', async () => {
    const path = tempDb();
    const before = openJournal({ dbPath: path });
    before.saveBudget('web', initialBudget(), 1);
    before.resetContainer('web', 2);
    before.close();
    let broken = true;
    const t = setup({
      path,
      open: () => {
        if (broken) throw journalError(path, 'opening', Object.assign(new Error('attempt to write a readonly database'), { errcode: 8 }), 'mount it read-write');
        return openJournal({ dbPath: path });
      },
    });
    assert.deepEqual(t.journal.resetsAfter(0), []);
    broken = false;
    await t.clock.advance(1_000);
    assert.equal(t.journal.degraded, false);
    assert.deepEqual(t.journal.resetsAfter(0), [], 'the old reset is not handed to the running instance');
    const cli = openJournal({ dbPath: path, mustExist: true });
    cli.saveBudget('web', initialBudget(), 3);
    cli.resetContainer('web', 4);
    cli.close();
    assert.deepEqual(t.journal.resetsAfter(0).map((r) => r.container), ['web'], 'a reset made after the open is');
    t.journal.close();
  });

  it('stops retrying when the signal aborts', async () => {
    const path = tempDb();
    mkdirSync(path);
    const t = setup({ path });
    await t.clock.advance(3_000);
    const opens = t.opens();
    t.ctl.abort();
    await t.clock.advance(10 * RETRY_MAX_MS);
    assert.equal(t.opens(), opens);
    assert.equal(t.clock.timers.size, 0, 'no timer left behind');
  });
});

describe('degradable journal: writes that fail while running (disk full)', () => {
  it('keeps every entry, degrades once (not per entry), and writes them in order when it can', async () => {
    const path = tempDb();
    const fault = { on: false };
    const t = setup({ path, open: () => flaky(openJournal({ dbPath: path }), fault) });
    assert.equal(t.journal.degraded, false);
    assert.equal(t.journal.append(entry('web', 1), 50).num, 1);
    fault.on = true;
    for (let i = 2; i <= 6; i++) assert.equal(t.journal.append(entry(i % 2 ? 'web' : 'db', i), 50).num, i, 'numbered as the file will number them');
    t.journal.saveBudget('web', { ...initialBudget(), streak: 3 }, t.clock.now());
    t.journal.markAlive(t.clock.now());
    assert.equal(t.journal.degraded, true);
    assert.equal(t.errors().length, 1);
    assert.match(String(t.errors()[0]?.msg), /cannot be written/);
    assert.equal(t.errors()[0]?.fix, 'The disk is full: free some space.');
    assert.equal(t.journal.pendingEntries, 5);
    assert.deepEqual(t.journal.list({ limit: 3 }).map((e) => e.num), [6, 5, 4], 'the file\'s entries and the waiting ones, newest first');
    assert.equal(t.journal.list({ limit: 10 }).length, 6);
    assert.equal(t.journal.count(), 6);
    await t.clock.advance(7_000);
    assert.equal(t.journal.degraded, true);
    assert.equal(t.errors().length, 1);
    fault.on = false;
    await t.clock.advance(8_000);
    assert.equal(t.journal.degraded, false);
    assert.equal(t.journal.pendingEntries, 0);
    assert.deepEqual(t.journal.list({ limit: 10 }).map((e) => e.num), [6, 5, 4, 3, 2, 1]);
    t.journal.close();
    assert.deepEqual(stored(path), { containers: [1, 2, 3, 4, 5, 6].map((i) => `restart ${i % 2 ? 'web' : 'db'} #${i}`), budgets: ['web'] });
  });

  it('a nearly full disk that takes a write now and then: one error, not one per flap', async () => {
    const path = tempDb();
    const fault = { on: true };
    const t = setup({ path, open: () => flaky(openJournal({ dbPath: path }), fault) });
    t.journal.append(entry('web', 1), 50);
    fault.on = false;
    await t.clock.advance(1_000);
    for (let i = 0; i < 5; i++) {
      fault.on = true;
      t.journal.markAlive(t.clock.now());
      assert.equal(t.journal.degraded, true);
      fault.on = false;
      await t.clock.advance(1_000);
      assert.equal(t.journal.degraded, false);
    }
    fault.on = true;
    t.journal.append(entry('web', 2), 50);
    fault.on = false;
    await t.clock.advance(1_000);
    assert.equal(t.errors().length, 1);
    const back = t.lines.filter((l) => l.msg === 'the journal is written again');
    assert.deepEqual(back.map((l) => [l.level, l.written]), [['info', 1], ...Array(5).fill(['debug', 0]), ['info', 1]], 'a relapse that wrote entries is worth a line');
    assert.deepEqual(t.changes, Array(7).fill([true, false]).flat(), 'the metric and /healthz follow every flap');
    t.journal.close();
    assert.deepEqual(stored(path).containers, ['restart web #1', 'restart web #2']);
  });

  it('deliberate stops seen while degraded are kept, shown, and written with the rest', async () => {
    const path = tempDb();
    const fault = { on: false };
    const t = setup({ path, open: () => flaky(openJournal({ dbPath: path }), fault) });
    t.journal.setDeliberateStop({ container: 'db', id: 'd1', action: 'stop', signal: null, atMs: 1 });
    fault.on = true;
    t.journal.setDeliberateStop({ container: 'web', id: 'w1', action: 'kill', signal: 'SIGKILL', atMs: 2 });
    t.journal.clearDeliberateStop('db');
    assert.equal(t.journal.degraded, true);
    assert.deepEqual(t.journal.deliberateStops().map((m) => m.container), ['web']);
    fault.on = false;
    await t.clock.advance(1_000);
    t.journal.close();
    const j = openJournal({ dbPath: path, readonly: true });
    assert.deepEqual(j.deliberateStops().map((m) => [m.container, m.signal]), [['web', 'SIGKILL']]);
    j.close();
  });

  it('a batch is written whole or kept whole; one whose function throws writes nothing', async () => {
    const path = tempDb();
    const fault = { on: false };
    const t = setup({ path, open: () => flaky(openJournal({ dbPath: path }), fault) });
    assert.throws(() => t.journal.batch(() => {
      t.journal.append(entry('x', 0), 50);
      throw new Error('boom');
    }), /boom/);
    t.journal.batch(() => {
      t.journal.append(entry('web', 1), 50);
      t.journal.saveBudget('web', initialBudget(), 1);
    });
    assert.deepEqual(stored(path), { containers: ['restart web #1'], budgets: ['web'] });
    fault.on = true;
    t.journal.batch(() => {
      t.journal.append(entry('web', 2), 50);
      t.journal.deleteBudget('web');
    });
    assert.equal(t.journal.degraded, true);
    assert.equal(t.journal.pendingEntries, 1);
    assert.equal(t.journal.loadBudget('web'), null, 'the deletion waits too');
    fault.on = false;
    await t.clock.advance(1_000);
    t.journal.close();
    assert.deepEqual(stored(path), { containers: ['restart web #1', 'restart web #2'], budgets: [] });
  });

  it('keeps at most its bound in memory and says how many it dropped', async () => {
    const path = tempDb();
    const fault = { on: true };
    const t = setup({ path, open: () => flaky(openJournal({ dbPath: path }), fault), maxPending: 3 });
    for (let i = 1; i <= 5; i++) t.journal.append(entry(`c${i}`, i), 50);
    assert.equal(t.journal.pendingEntries, 3);
    fault.on = false;
    await t.clock.advance(1_000);
    const back = t.lines.find((l) => l.msg === 'the journal is written again');
    assert.deepEqual([back?.written, back?.dropped], [3, 2]);
    t.journal.close();
    assert.deepEqual(stored(path).containers, ['restart c3 #3', 'restart c4 #4', 'restart c5 #5']);
  });

  it('a file moved away while degraded: the next try opens the new one at the path', async () => {
    const path = tempDb();
    const fault = { on: false };
    let n = 0;
    const t = setup({ path, open: () => (++n === 1 ? flaky(openJournal({ dbPath: path }), fault) : openJournal({ dbPath: path })) });
    fault.on = true;
    t.journal.append(entry('web', 1), 50);
    renameSync(path, `${path}.old`);
    await t.clock.advance(1_000);
    assert.equal(t.journal.degraded, false);
    assert.equal(n, 2);
    t.journal.close();
    assert.deepEqual(stored(path).containers, ['restart web #1']);
  });

  it('a stop while still degraded tries once more, and says what is lost when it cannot', () => {
    const path = tempDb();
    const fault = { on: true };
    const t = setup({ path, open: () => flaky(openJournal({ dbPath: path }), fault) });
    t.journal.append(entry('web', 1), 50);
    t.journal.close();
    const lost = t.lines.find((l) => l.msg.startsWith('the journal could not be written before stopping'));
    assert.equal(lost?.lost, 1);
    assert.equal(t.clock.timers.size, 0);
    assert.throws(() => t.journal.append(entry('web', 2), 50), /closed/);
  });
});

describe('degradable journal: the file on disk', () => {
  it('a clean stop leaves one self-contained .db, even with another connection open on it', () => {
    const path = tempDb();
    const t = setup({ path });
    // Another reader (`repairman history`, a backup tool): SQLite's own checkpoint at close needs the
    // last connection, so without an explicit one everything would stay in the -wal file.
    const reader = new DatabaseSync(path, { readOnly: true });
    reader.prepare('SELECT count(*) FROM journal').get();
    for (let i = 1; i <= 20; i++) t.journal.append(entry('web', i), 50);
    t.journal.close();
    const copy = join(dir, 'copy-only-the-db.db');
    copyFileSync(path, copy);
    reader.close();
    const j = openJournal({ dbPath: copy, readonly: true });
    assert.equal(j.count(), 20);
    j.close();
  });

  it('while running, a copy made with SQLite (README: VACUUM INTO, sqlite3 .backup) holds every entry', () => {
    const path = tempDb();
    const t = setup({ path });
    for (let i = 1; i <= 20; i++) t.journal.append(entry('web', i), 50);
    const other = new DatabaseSync(path);
    const vacuumed = join(dir, 'vacuum-into.db');
    other.exec(`VACUUM INTO '${vacuumed}'`);
    other.close();
    const copies = [vacuumed];
    const sqlite3 = spawnSync('sqlite3', [path, `.backup ${join(dir, 'dot-backup.db')}`], { encoding: 'utf8' });
    if (sqlite3.error === undefined) {
      assert.equal(sqlite3.status, 0, sqlite3.stderr);
      copies.push(join(dir, 'dot-backup.db'));
    }
    for (const copy of copies) {
      const j = openJournal({ dbPath: copy, readonly: true });
      assert.equal(j.count(), 20, copy);
      j.close();
    }
    t.journal.close();
  });

  it('creates the file 0600 whatever the umask, its -wal and -shm too; an existing file keeps its mode', () => {
    const old = process.umask(0);
    try {
      const path = tempDb();
      const t = setup({ path });
      t.journal.append(entry('web', 1), 50);
      for (const f of [path, `${path}-wal`, `${path}-shm`]) assert.equal(statSync(f).mode & 0o777, 0o600, f);
      t.journal.close();
      const shared = tempDb();
      writeFileSync(shared, '', { mode: 0o640 });
      const u = setup({ path: shared });
      u.journal.append(entry('web', 1), 50);
      assert.equal(statSync(shared).mode & 0o777, 0o640, 'not changed (and never widened)');
      u.journal.close();
    } finally {
      process.umask(old);
    }
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { isSqliteExperimentalWarning, loadSqlite, pragma, sqliteCode, transaction } from './sqlite.js';

const count = (db: DatabaseSync): number => Number(db.prepare('SELECT count(*) AS n FROM t').get()?.n);

function table(): DatabaseSync {
  const db = new DatabaseSync(':memory:');
  db.exec('CREATE TABLE t (v INTEGER)');
  return db;
}

describe('sqlite driver: transactions', () => {
  it('commits when fn returns and rolls back when it throws', () => {
    const db = table();
    assert.equal(transaction(db, () => (db.exec('INSERT INTO t VALUES (1)'), 'ok')), 'ok');
    assert.throws(() => transaction(db, () => {
      db.exec('INSERT INTO t VALUES (2)');
      throw new Error('boom');
    }), /boom/);
    assert.equal(count(db), 1);
    assert.equal(db.isTransaction, false);
    db.close();
  });

  it('nests as savepoints: a failed inner step undoes only itself, the outer one commits all the rest', () => {
    const db = table();
    transaction(db, () => {
      transaction(db, () => db.exec('INSERT INTO t VALUES (1)'));
      assert.throws(() => transaction(db, () => {
        db.exec('INSERT INTO t VALUES (2)');
        throw new Error('inner');
      }));
      transaction(db, () => db.exec('INSERT INTO t VALUES (3)'));
      assert.equal(db.isTransaction, true, 'still inside the outer transaction');
    });
    assert.deepEqual(db.prepare('SELECT v FROM t ORDER BY v').all().map((r) => r.v), [1, 3]);
    // An outer failure undoes the inner steps too.
    assert.throws(() => transaction(db, () => {
      transaction(db, () => db.exec('INSERT INTO t VALUES (4)'));
      throw new Error('outer');
    }));
    assert.equal(count(db), 2);
    db.close();
  });

  it('IMMEDIATE takes the write lock at BEGIN: a second connection cannot write meanwhile', () => {
    const dir = mkdtempSync(join(tmpdir(), 'repairman-sqlite-'));
    try {
      const path = join(dir, 'x.db');
      const a = new DatabaseSync(path);
      a.exec('PRAGMA journal_mode = WAL; CREATE TABLE t (v INTEGER)');
      const b = new DatabaseSync(path, { timeout: 0 });
      transaction(a, () => {
        assert.throws(() => b.exec('INSERT INTO t VALUES (9)'), (err: unknown) => sqliteCode(err) === 'SQLITE_BUSY');
      }, 'IMMEDIATE');
      b.exec('INSERT INTO t VALUES (9)');
      assert.equal(count(a), 1);
      // Files are created as SQLite always creates them (0644 under the usual umask 022).
      assert.equal(statSync(path).mode & 0o777, 0o666 & ~process.umask());
      a.close();
      b.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sqlite driver: errors and pragmas', () => {
  it('names SQLite result codes, extended ones folded to the primary code', () => {
    assert.equal(sqliteCode({ errcode: 26 }), 'SQLITE_NOTADB');
    assert.equal(sqliteCode({ errcode: 5 | (1 << 8) }), 'SQLITE_BUSY');
    assert.equal(sqliteCode({ errcode: 1 }), undefined);
    assert.equal(sqliteCode(new Error('x')), undefined);
    assert.equal(sqliteCode(null), undefined);
    assert.throws(() => new DatabaseSync('/nonexistent-dir/x.db'), (err: unknown) => sqliteCode(err) === 'SQLITE_CANTOPEN');
  });

  it('reads a pragma as its single value', () => {
    const db = new DatabaseSync(':memory:');
    db.exec('PRAGMA user_version = 7');
    assert.equal(pragma(db, 'user_version'), 7);
    db.close();
  });
});

describe('sqlite driver: the ExperimentalWarning of early Node 24 releases', () => {
  it('recognises only SQLite\'s experimental warning', () => {
    assert.equal(isSqliteExperimentalWarning('SQLite is an experimental feature and might change at any time', 'ExperimentalWarning'), true);
    assert.equal(isSqliteExperimentalWarning('SQLite is an experimental feature', { type: 'ExperimentalWarning' }), true);
    assert.equal(isSqliteExperimentalWarning('WASI is an experimental feature', 'ExperimentalWarning'), false);
    assert.equal(isSqliteExperimentalWarning('SQLite is slow', 'DeprecationWarning'), false);
    assert.equal(isSqliteExperimentalWarning('something', undefined), false);
  });

  it('drops that warning while the module loads and lets every other warning through', () => {
    // What Node 24.0-24.14 do at load, and an unrelated warning from the same moment; then one after.
    const script = `
      const { loadSqlite } = await import(${JSON.stringify(new URL('./sqlite.js', import.meta.url).href)});
      loadSqlite(() => {
        process.emitWarning('SQLite is an experimental feature and might change at any time', 'ExperimentalWarning');
        process.emitWarning('unrelated during load', 'DeprecationWarning');
        return process.getBuiltinModule('node:sqlite');
      });
      process.emitWarning('SQLite is an experimental feature and might change at any time', 'ExperimentalWarning');
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(child.status, 0, child.stderr);
    // Exactly one: the one emitted after the load got through, the one during the load did not.
    assert.equal(child.stderr.split('\n').filter((l) => l.includes('ExperimentalWarning: SQLite')).length, 1, child.stderr);
    assert.match(child.stderr, /DeprecationWarning: unrelated during load/);
    assert.equal(process.emitWarning.name, 'emitWarning', 'process.emitWarning is restored');
  });

  it('a Node without node:sqlite gets a sentence that names the version it needs', () => {
    assert.throws(() => loadSqlite(() => process.getBuiltinModule('node:no-such-module') as undefined), /node:sqlite is not available in Node\.js v[\d.]+: Repairman needs Node\.js 24 or newer/);
  });

  it('this Node prints nothing on stderr when a journal loads node:sqlite', () => {
    const script = `
      const { loadSqlite } = await import(${JSON.stringify(new URL('./sqlite.js', import.meta.url).href)});
      new (loadSqlite().DatabaseSync)(':memory:').prepare('SELECT 1').get();
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stderr, '');
    assert.equal(typeof loadSqlite().DatabaseSync, 'function');
  });
});

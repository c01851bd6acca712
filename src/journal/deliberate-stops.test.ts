import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { openJournal } from './journal.js';
import { SCHEMA_VERSION, migrate } from './migrations.js';
import { pragma } from './sqlite.js';
import type { DeliberateStopMark } from './types.js';

const dir = mkdtempSync(join(tmpdir(), 'repairman-stops-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;
const tempDb = (): string => join(dir, `s${++fileNo}.db`);
const T0 = Date.UTC(2024, 0, 1);
const mark = (container: string, over: Partial<DeliberateStopMark> = {}): DeliberateStopMark => ({ container, id: `${container}-id`, action: 'kill', signal: '15', atMs: T0, ...over });

describe('journal: containers stopped on purpose', () => {
  it('a file keeps them across reopening; a new mark replaces the old one; clearing removes it', () => {
    const path = tempDb();
    const j = openJournal({ dbPath: path });
    assert.deepEqual(j.deliberateStops(), []);
    j.setDeliberateStop(mark('web'));
    j.setDeliberateStop(mark('db', { action: 'stop', signal: null, atMs: T0 + 0.4 }));
    j.setDeliberateStop(mark('web', { id: 'web-id-2', signal: 'SIGKILL', atMs: T0 + 5 }));
    j.setDeliberateStop(mark('sick', { action: 'stop', signal: null, own: true }));
    j.close();
    const again = openJournal({ dbPath: path });
    assert.deepEqual(again.deliberateStops(), [
      mark('db', { action: 'stop', signal: null }),
      mark('sick', { action: 'stop', signal: null, own: true }),
      mark('web', { id: 'web-id-2', signal: 'SIGKILL', atMs: T0 + 5 }),
    ]);
    again.clearDeliberateStop('sick');
    again.clearDeliberateStop('web');
    again.clearDeliberateStop('never-marked');
    again.close();
    const reader = openJournal({ dbPath: path, readonly: true });
    assert.deepEqual(reader.deliberateStops().map((m) => m.container), ['db']);
    assert.throws(() => reader.setDeliberateStop(mark('x')), /read-only/);
    reader.close();
  });

  it('a version 4 file opens: read-only it reads none, written to it migrates and keeps its pauses', () => {
    const path = tempDb();
    const raw = new DatabaseSync(path);
    assert.equal(migrate(raw, 4), 4);
    raw.prepare('INSERT INTO pauses (container, until_ms, at_ms) VALUES (?, NULL, ?)').run('web', T0);
    raw.close();
    const reader = openJournal({ dbPath: path, readonly: true });
    assert.deepEqual(reader.deliberateStops(), []);
    reader.close();
    const j = openJournal({ dbPath: path });
    assert.deepEqual(j.pauses().map((p) => p.container), ['web']);
    j.setDeliberateStop(mark('web'));
    assert.deepEqual(j.deliberateStops(), [mark('web')]);
    j.close();
    const check = new DatabaseSync(path, { readOnly: true });
    assert.equal(pragma(check, 'user_version'), SCHEMA_VERSION);
    check.close();
  });

  it('in memory: a mark does not open the database, and nothing is read back from before', () => {
    const j = openJournal({ dbPath: ':memory:' });
    j.setDeliberateStop(mark('web'));
    j.clearDeliberateStop('web');
    assert.deepEqual(j.deliberateStops(), []);
    assert.equal((j as unknown as { db: unknown }).db, null, 'still lazy');
    j.close();
  });
});

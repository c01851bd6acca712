import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callCommand, type CommandResult } from '../../test/helpers/command-call.js';
import { openJournal } from '../journal/journal.js';
import { apiHint, run } from './history.js';

const dir = mkdtempSync(join(tmpdir(), 'repairman-history-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const tempDb = (): string => join(dir, `h${++n}.db`);

const history = (argv: string[], env: NodeJS.ProcessEnv = {}): Promise<CommandResult> => callCommand(run, argv, env);

const JAN = Date.UTC(2024, 0, 31, 12, 5, 9);
const JUL = Date.UTC(2024, 6, 1, 12, 0, 0);

function filled(): string {
  const path = tempDb();
  const j = openJournal({ dbPath: path });
  j.append({ container: 'web', kind: 'restart', atMs: JAN, message: 'restarted: unhealthy\nlast check: exit 1', details: { reason: 'unhealthy' } }, 50);
  j.append({ container: 'db', kind: 'longer_wait', atMs: JUL, message: 'maximum restarts reached' }, 50);
  j.append({ container: 'web', kind: 'give_up', atMs: JUL + 1000, message: 'Admin, help: see https://user:pw@hooks.example.com/services/T0/B0/secret' }, 50);
  j.close();
  return path;
}

describe('repairman history', () => {
  it('prints a table, newest first, times in TZ, one line per entry, secrets masked', async () => {
    const path = filled();
    const r = await history(['--db-path', path], { TZ: 'Europe/Warsaw' });
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trimEnd().split('\n');
    assert.match(lines[0]!, /^#\s+TIME\s+CONTAINER\s+KIND\s+MESSAGE$/);
    assert.equal(lines.length, 4);
    assert.match(lines[1]!, /^3\s+2024-07-01 14:00:01 \+02:00\s+web\s+give_up\s+Admin, help:/);
    assert.match(lines[2]!, /^2\s+2024-07-01 14:00:00 \+02:00\s+db\s+longer_wait\s+maximum restarts reached$/);
    assert.match(lines[3]!, /^1\s+2024-01-31 13:05:09 \+01:00\s+web\s+restart\s+restarted: unhealthy ⏎ last check: exit 1$/);
    assert.doesNotMatch(r.out, /secret|user:pw/);
    // Columns line up: every TIME starts at the same offset.
    const col = lines[0]!.indexOf('TIME');
    for (const l of lines.slice(1)) assert.match(l.slice(col), /^2024-/);
  });

  it('shows UTC without TZ, and says so when TZ is unknown', async () => {
    const path = filled();
    const utc = await history(['--db-path', path, '--limit', '1'], {});
    assert.match(utc.out, /2024-07-01 12:00:01 UTC/);
    const bad = await history(['--db-path', path, '--limit', '1'], { TZ: 'Mars/Olympus' });
    assert.equal(bad.code, 0);
    assert.match(bad.err, /unknown time zone TZ="Mars\/Olympus"; showing UTC/);
    assert.match(bad.out, /12:00:01 UTC/);
  });

  it('filters by NAME (with or without a leading slash) and limits, pointing to older entries', async () => {
    const path = filled();
    const web = await history(['web', '--db-path', path]);
    assert.equal(web.out.trimEnd().split('\n').length, 3);
    assert.doesNotMatch(web.out, /\bdb\b/);
    const one = await history(['/web', `--db-path=${path}`, '--limit=1']);
    assert.match(one.out, /give_up/);
    assert.doesNotMatch(one.out, /restarted/);
    assert.match(one.out, /add --before 3/);
    const older = await history(['web', '--db-path', path, '--limit', '1', '--before', '3']);
    assert.match(older.out, /restarted: unhealthy/);
    const none = await history(['nobody', '--db-path', path]);
    assert.equal(none.code, 0);
    assert.match(none.out, /No journal entries for nobody/);
  });

  it('--json prints the entries with ISO dates', async () => {
    const path = filled();
    const r = await history(['--json', '--db-path', path, '--limit', '2'], { TZ: 'Europe/Warsaw' });
    assert.equal(r.code, 0);
    const parsed = JSON.parse(r.out) as { num: number; container: string; kind: string; date: string; atMs: number }[];
    assert.deepEqual(parsed.map((e) => [e.num, e.container, e.kind, e.date]), [
      [3, 'web', 'give_up', '2024-07-01T12:00:01.000Z'],
      [2, 'db', 'longer_wait', '2024-07-01T12:00:00.000Z'],
    ]);
  });

  it('reads the file through DB_PATH while the running instance has it open', async () => {
    const path = tempDb();
    const instance = openJournal({ dbPath: path });
    instance.append({ container: 'web', kind: 'restart', atMs: JAN, message: 'restarted' }, 50);
    const r = await history([], { DB_PATH: path });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /restarted/);
    instance.append({ container: 'web', kind: 'recovered', atMs: JAN + 1, message: 'healthy again' }, 50);
    assert.equal(instance.count(), 2, 'the reader did not block the writer');
    instance.close();
  });

  it('an empty journal says so', async () => {
    const path = tempDb();
    openJournal({ dbPath: path }).close();
    const r = await history(['--db-path', path]);
    assert.equal(r.code, 0);
    assert.match(r.out, /is empty/);
  });

  it('with :memory: explains there is no persisted history and where to look instead', async () => {
    const r = await history([], { HTTP_PORT: '9090', HTTP_PREFIX: '/secretpath/' });
    assert.equal(r.code, 1);
    assert.equal(r.out, '');
    assert.match(r.err, /no persisted history/);
    assert.match(r.err, /curl http:\/\/127\.0\.0\.1:9090\/secretpath\/api\/events/);
    assert.match(r.err, /--db-path/);
    const noHttp = await history(['--http-port', '0']);
    assert.doesNotMatch(noHttp.err, /curl/);
  });

  it('a missing or damaged file is an explained failure, and nothing is created', async () => {
    const missing = join(dir, 'missing.db');
    const r = await history(['--db-path', missing]);
    assert.equal(r.code, 1);
    assert.match(r.err, /no journal database at .*missing\.db.*\[RM_JOURNAL\]/);
    assert.equal(existsSync(missing), false);
  });

  it('bad switches and bad settings are usage/configuration errors (exit 2)', async () => {
    for (const argv of [['a', 'b'], ['--limit', '0'], ['--limit', 'x'], ['--limit', '10001'], ['--before', '-1'], ['--before', 'abc'], ['--bogus']]) {
      const r = await history(['--db-path', '/nonexistent/x.db', ...argv]);
      assert.equal(r.code, 2, `${argv.join(' ')}: ${r.err}`);
      assert.match(r.err, /RM_USAGE|command-line error/);
    }
    const cfg = await history([], { CHECK_INTERVAL: 'often' });
    assert.equal(cfg.code, 2);
    assert.match(cfg.err, /CHECK_INTERVAL/);
  });

  it('apiHint builds the URL of a running instance', () => {
    assert.equal(apiHint('0.0.0.0', 8080, ''), 'http://127.0.0.1:8080/api/events');
    assert.equal(apiHint('::', 8080, '/x'), 'http://127.0.0.1:8080/x/api/events');
    assert.equal(apiHint('::1', 81, '/p//'), 'http://[::1]:81/p/api/events');
    assert.equal(apiHint('10.0.0.2', 8080, ''), 'http://10.0.0.2:8080/api/events');
    assert.equal(apiHint('0.0.0.0', 0, ''), '');
  });
});

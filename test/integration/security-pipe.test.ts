// Security finding 6 (issue 17): command output through a pipe is always whole. Node writes to a pipe
// asynchronously; a process that exits at once keeps only what fit in the pipe (64 KiB), so
// `history --json --limit 3000 | head -c ...` used to get invalid JSON and exit code 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openJournal } from '../../src/journal/journal.js';
import { CLI_PATH } from '../helpers/repairman.js';

test('history --json --limit 3000 through a slow pipe reaches the reader whole', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rm-sec-pipe-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const dbPath = join(dir, 'journal.db');
  const journal = openJournal({ dbPath });
  const base = Date.now() - 3_000_000;
  journal.batch(() => {
    for (let i = 0; i < 3000; i++) {
      journal.append({ container: `web-${i % 30}`, kind: 'restart', atMs: base + i * 1000, message: `restarted because it was unhealthy (entry ${i}) ${'x'.repeat(60)}` }, 1000);
    }
  });
  journal.close();

  // A slow reader (like `| head -c` behind a busy terminal): nothing is read for a second, so the pipe
  // fills up and the writer must wait for it to drain before it exits.
  const q = (a: string): string => `'${a.replace(/'/g, "'\\''")}'`;
  const cmd = `${q(process.execPath)} ${q(CLI_PATH)} history --json --limit 3000 --db-path ${q(dbPath)}; echo "exit=$?" >&2`;
  const child = spawn('sh', ['-c', `(${cmd}) | (sleep 1; cat)`], { stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => chunks.push(c));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  await new Promise<void>((resolve) => child.on('close', () => resolve()));
  const code = /exit=(\d+)/.exec(stderr)?.[1];
  const out = Buffer.concat(chunks).toString('utf8');
  assert.equal(code, '0', stderr);
  assert.ok(out.length > 65_536, `only ${out.length} bytes arrived`);
  const parsed = JSON.parse(out) as unknown;
  const entries = Array.isArray(parsed) ? parsed : (parsed as { entries: unknown[] }).entries;
  assert.equal(entries.length, 3000);
});

// `repairman healthcheck` and `repairman status` against a real HTTP server over a fake state, called
// in-process (exit codes, output) and through the CLI binary (what an image HEALTHCHECK runs).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { run as healthcheck } from '../../src/commands/healthcheck.js';
import { run as status } from '../../src/commands/status.js';
import type { CommandRun } from '../../src/commands/types.js';
import { silentLogger } from '../../src/log.js';
import { startHttpServer, type RunningHttpServer } from '../../src/http/server.js';
import { FakeState, ODD_NAME } from '../helpers/fake-state.js';

const execFileP = promisify(execFile);
const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli.js');
const NOW = Date.UTC(2024, 6, 1, 10, 0, 0);

async function call(cmd: CommandRun, argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string; ms: number }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const t0 = Date.now();
  const code = await cmd({ argv, env, stdout, stderr, signal: new AbortController().signal });
  return { code, out, err, ms: Date.now() - t0 };
}

/** A port nothing listens on. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('repairman healthcheck', () => {
  let up: RunningHttpServer;
  let down: RunningHttpServer;
  before(async () => {
    up = await startHttpServer({ address: '0.0.0.0', port: 0, prefix: '/a.b(c)+', state: new FakeState({ nowMs: NOW }), log: silentLogger });
    const sick = new FakeState({ nowMs: NOW });
    sick.engineDown('engine not answering for 42 s');
    down = await startHttpServer({ address: '127.0.0.1', port: 0, prefix: '', state: sick, log: silentLogger });
  });
  after(async () => {
    await up.close();
    await down.close();
  });

  it('exits 0 when /healthz answers 200 (0.0.0.0 reached as 127.0.0.1, prefix from the environment)', async () => {
    const r = await call(healthcheck, [], { HTTP_ADDRESS: '0.0.0.0', HTTP_PORT: String(up.port), HTTP_PREFIX: '/a.b(c)+' });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^healthy: http:\/\/127\.0\.0\.1:\d+\/a\.b\(c\)\+\/healthz answered 200$/m);
  });

  it('exits 0 on a degraded 200 and says what is degraded, terminal-safe', async () => {
    const part = new FakeState({ nowMs: NOW });
    part.degrade('the journal /data/r.db cannot be written (disk full)\u001b[2J');
    const srv = await startHttpServer({ address: '127.0.0.1', port: 0, prefix: '', state: part, log: silentLogger });
    try {
      const r = await call(healthcheck, ['--http-address', '127.0.0.1', '--http-port', String(srv.port)]);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /^healthy, degraded: http:\/\/127\.0\.0\.1:\d+\/healthz answered 200: the journal \/data\/r\.db cannot be written \(disk full\)\\u001b\[2J$/m);
    } finally {
      await srv.close();
    }
  });

  it('exits 1 with the reason on 503', async () => {
    const r = await call(healthcheck, ['--http-address', '127.0.0.1', '--http-port', String(down.port)]);
    assert.equal(r.code, 1);
    assert.match(r.err, /answered 503: engine not answering for 42 s/);
  });

  it('exits 1 on a wrong prefix (404), a closed port, a disabled server and a bad setting', async () => {
    const wrong = await call(healthcheck, ['--http-port', String(up.port), '--http-prefix', '/aXb(c)+']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.err, /answered 404/);
    const closed = await call(healthcheck, ['--http-port', String(await freePort())]);
    assert.equal(closed.code, 1);
    assert.match(closed.err, /no answer from .*ECONNREFUSED/);
    assert.ok(closed.ms < 2000);
    const off = await call(healthcheck, ['--http-port', '0']);
    assert.equal(off.code, 1);
    assert.match(off.err, /disabled/);
    const bad = await call(healthcheck, [], { HTTP_PORT: 'eighty' });
    assert.equal(bad.code, 1, 'Docker reserves exit code 2');
    assert.match(bad.err, /HTTP_PORT/);
  });

  it('gives up after its timeout on a server that never answers', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    try {
      const r = await call(healthcheck, ['--http-port', String((silent.address() as { port: number }).port)]);
      assert.equal(r.code, 1);
      assert.match(r.err, /no answer within 2000 ms/);
      // The upper bound only tells "gave up" from "hung": a loaded machine starts node slowly.
      assert.ok(r.ms >= 1900 && r.ms < 8000, `${r.ms} ms`);
    } finally {
      silent.close();
    }
  });

  it('works through the CLI binary, fast, as an image HEALTHCHECK runs it', async () => {
    const env = { ...process.env, HTTP_PORT: String(up.port), HTTP_PREFIX: '/a.b(c)+', DOCKER_HOST: 'unix:///nonexistent.sock' };
    const t0 = Date.now();
    const ok = await execFileP(process.execPath, [CLI, 'healthcheck'], { env, timeout: 10_000 });
    assert.match(ok.stdout, /healthy/);
    assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
    await assert.rejects(execFileP(process.execPath, [CLI, 'healthcheck', '--http-port', String(down.port)], { env, timeout: 10_000 }),
      (e: { code?: number }) => e.code === 1);
  });
});

describe('repairman status', () => {
  let srv: RunningHttpServer;
  let state: FakeState;
  before(async () => {
    state = new FakeState({ nowMs: NOW });
    const first = state.containerList[0];
    assert.ok(first);
    state.containerList.push({ ...structuredClone(first), name: 'esc\u001b[31mred\u0007', budget: { ...first.budget, state: 'ok' } });
    srv = await startHttpServer({ address: '127.0.0.1', port: 0, prefix: '/p', state, log: silentLogger, now: () => NOW });
  });
  after(() => srv.close());

  it('prints a table: health, budget with until-times in TZ, restarts in frame, streak, last event', async () => {
    const r = await call(status, ['--http-port', String(srv.port), '--http-prefix', '/p'], { TZ: 'Europe/Warsaw' });
    assert.equal(r.code, 0, r.err);
    const lines = r.out.split('\n');
    assert.match(lines[0] ?? '', /^Repairman 9\.9\.9-test at http:\/\/127\.0\.0\.1:\d+\/p\/: engine OK; up 3h 2m; times in Europe\/Warsaw$/);
    const header = lines.findIndex((l) => l.startsWith('NAME'));
    assert.match(lines[header] ?? '', /^NAME +HEALTH +BUDGET +IN FRAME +STREAK +LAST EVENT$/);
    const row = (name: string): string => lines.find((l) => l.startsWith(`${name} `)) ?? '';
    assert.match(row('queue'), /^queue +exited +given up +0 +50 +-$/);
    assert.match(row('db'), /^db +unhealthy +longer wait until 12:09:00 \(in 9m 0s\) +2 +2 +11:59:59 Container was restarted \(0\)$/);
    assert.match(row('web'), /^web +unhealthy +waiting until 12:00:12 \(in 12s\) +1 +1 /);
    assert.match(row('cache'), /^cache +healthy +ok +1 \(max before\) +0 /);
    assert.ok(lines.indexOf(row('queue')) < lines.indexOf(row('api')), 'most urgent first');
    assert.ok(r.out.includes(ODD_NAME), 'names are printed as they are');
    // eslint-disable-next-line no-control-regex
    assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f]/.test(r.out), 'no terminal control characters from names');
    assert.ok(r.out.includes('esc?[31mred?'));
    assert.match(r.out, /Not watched: swarm-task \(managed by Swarm\)/);
    const watched = state.containerList.filter((c) => c.watched).length;
    assert.equal(lines[1], `Containers: ${state.containerList.length} (${watched} watched, ${state.containerList.length - watched} not watched)`);
    assert.match(r.out, /f6e5d4c3b2a1_db \(duplicate of db\): held back: younger than 60 seconds/);
    assert.match(r.out, /notifier: org\.riotkit\.repairman\.notify_url="https:\/\/hooks\.slack\.com\/\*\*\*"/);
    assert.ok(!r.out.includes('SECRETTOKEN'));
    assert.match(r.out, /Global status: FAILING \(queue, db, cache\)\n$/);
  });

  it('shows what is degraded under the first line, terminal-safe', async () => {
    const part = new FakeState({ nowMs: NOW });
    part.degrade('the journal cannot be written\u001b[31m (disk full)');
    const s2 = await startHttpServer({ address: '127.0.0.1', port: 0, prefix: '', state: part, log: silentLogger, now: () => NOW });
    try {
      const r = await call(status, ['--http-port', String(s2.port)]);
      assert.equal(r.code, 0, r.err);
      const lines = r.out.split('\n');
      assert.match(lines[0] ?? '', /: engine OK, DEGRADED; up /);
      assert.equal(lines[1], '  degraded: the journal cannot be written?[31m (disk full)');
    } finally {
      await s2.close();
    }
  });

  it('prints times in another TZ when asked', async () => {
    const r = await call(status, ['--http-port', String(srv.port), '--http-prefix', '/p'], { TZ: 'America/New_York' });
    assert.match(r.out, /longer wait until 06:09:00/);
  });

  it('--json prints what the instance serves; --url takes the root with or without a slash', async () => {
    for (const url of [`http://127.0.0.1:${srv.port}/p`, `http://127.0.0.1:${srv.port}/p/`, `http://localhost:${srv.port}/p?x=1`]) {
      const r = await call(status, ['--json', '--url', url]);
      assert.equal(r.code, 0, `${url}: ${r.err}`);
      const body = JSON.parse(r.out) as { containers: { name: string }[]; health: { ok: boolean } };
      assert.equal(body.containers.length, state.containerList.length);
      assert.equal(body.health.ok, true);
    }
  });

  it('says clearly when no instance answers, and exits 1', async () => {
    const port = await freePort();
    const r = await call(status, ['--http-port', String(port)]);
    assert.equal(r.code, 1);
    assert.match(r.err, /no running Repairman answered \[RM_STATE_UNAVAILABLE\]/);
    assert.match(r.err, new RegExp(`http://127\\.0\\.0\\.1:${port}/api/containers: ECONNREFUSED`));
    assert.match(r.err, /--url/);
    const wrong = await call(status, ['--url', `http://127.0.0.1:${srv.port}/elsewhere`]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.err, /answered 404: is --http-prefix/);
    const notUrl = await call(status, ['--url', 'not a url']);
    assert.equal(notUrl.code, 1);
    assert.match(notUrl.err, /not a URL/);
  });

  it('refuses stray arguments and bad settings with exit 2', async () => {
    assert.equal((await call(status, ['extra'])).code, 2);
    assert.equal((await call(status, ['--bogus'])).code, 2);
  });
});

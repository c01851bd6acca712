// The built binary (dist/src/cli.js) end to end, without an engine: configuration errors, `config`,
// `--help`, `--version`, usage errors and signals.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SETTINGS } from '../../src/config/settings-table.js';
import { runCli, type CliResult } from '../helpers/cli.js';

/**
 * Run the binary with a clean environment: only PATH and what the test gives (never the developer's
 * DOCKER_HOST; a nonexistent socket unless the test says otherwise, so nothing real can be touched).
 */
function cli(args: string[], env: Record<string, string> = {}, opts: { onSpawn?: (pid: number) => void; timeoutMs?: number } = {}): Promise<CliResult> {
  return runCli(args, { PATH: process.env.PATH ?? '', DOCKER_HOST: 'unix:///nonexistent/repairman-test.sock', HTTP_PORT: '0', ...env }, { timeoutMs: 20_000, ...opts });
}

test('a bad environment value stops `repairman` with exit 2, naming the variable, value and expectation', async () => {
  const r = await cli([], { CHECK_INTERVAL: 'soon' });
  assert.equal(r.code, 2, r.err + r.out);
  assert.match(r.err, /interval: env CHECK_INTERVAL = "soon" is not valid; expected whole seconds/);
  assert.match(r.err, /\[RM_CONFIG_INVALID\]/);
});

test('all configuration errors at once, secrets masked, for `run` and `config` alike', async () => {
  const env = {
    DEFAULT_MAX_RESTARTS_IN_FRAME: 'x',
    DEFAULT_NOTIFY_URL: 'hooks.slack.com/services/T0/B0/SECRETTOKEN',
    HTTP_PORT: '70000',
    ENABLE_CLEANING_DUPLICATED_SERVICES: 'yes',
    DEFAULT_ENABLE_DUPLICATED_SERVICES_REMOVING: 'no',
  };
  for (const args of [['--interval', '-1', '--frobnicate'], ['config', '--interval', '-1', '--frobnicate']]) {
    const r = await cli(args, env);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /6 configuration errors/);
    for (const part of ['DEFAULT_MAX_RESTARTS_IN_FRAME', 'DEFAULT_NOTIFY_URL', 'HTTP_PORT', '--interval', '--frobnicate', 'disagree']) {
      assert.ok(r.err.includes(part), `${part} missing:\n${r.err}`);
    }
    assert.ok(!r.err.includes('SECRETTOKEN') && !r.out.includes('SECRETTOKEN'), r.err);
    assert.ok(r.err.includes('hooks.slack.com/***'), r.err);
  }
});

test('a cross-check failure exits 2 with both operands and their sources', async () => {
  const r = await cli(['--max-restarts-in-frame', '10'], { DEFAULT_FRAME_SIZE: '60' });
  assert.equal(r.code, 2);
  assert.match(r.err, /frame_size_in_seconds 60 \(env DEFAULT_FRAME_SIZE\) < max_restarts_in_frame 10 \(switch --max-restarts-in-frame\) × seconds_between_restarts 15 \(default\) = 150/);
  assert.match(r.err, /RM_CONFIG_CONFLICT/);
});

test('`config` shows every setting with its source; secrets masked', async () => {
  const r = await cli(['config', '--stop-timeout=1m', '--no-enable-autoheal'], {
    DEFAULT_SECONDS_BETWEEN_RESTARTS: '20',
    DEFAULT_ENABLE_DUPLICATED_SERVICES_REMOVING: 'on',
    DEFAULT_NOTIFY_URL: 'https://hooks.slack.com/services/T0/B0/SECRETTOKEN',
  });
  assert.equal(r.code, 0, r.err);
  assert.ok(!r.out.includes('SECRETTOKEN'));
  const rows = new Map(r.out.trim().split('\n').slice(1).map((l) => [l.split(/\s+/)[0], l] as const));
  assert.equal(rows.size, SETTINGS.length);
  assert.match(rows.get('stop_timeout')!, /\s60\s+switch --stop-timeout$/);
  assert.match(rows.get('enable_autoheal')!, /\sfalse\s+switch --no-enable-autoheal$/);
  assert.match(rows.get('seconds_between_restarts')!, /\s20\s+env DEFAULT_SECONDS_BETWEEN_RESTARTS$/);
  assert.match(rows.get('enable_cleaning_duplicated_services')!, /\strue\s+env DEFAULT_ENABLE_DUPLICATED_SERVICES_REMOVING$/);
  assert.match(rows.get('notify_url')!, /https:\/\/hooks\.slack\.com\/\*\*\*\s+env DEFAULT_NOTIFY_URL$/);
  assert.match(rows.get('max_restarts_in_frame')!, /\s2\s+default$/);
  assert.match(rows.get('http_port')!, /\s0\s+env HTTP_PORT$/);

  const json = await cli(['config', '--json'], { NAMESPACE: 'x_' });
  const doc = JSON.parse(json.out) as { settings: Record<string, { value: unknown; source: string; from?: string }> };
  assert.deepEqual(doc.settings.namespace, { value: 'x_', source: 'env', from: 'NAMESPACE' });
});

test('`--help` lists every switch with its environment variables and default', async () => {
  // `run` reads every setting; other commands list only theirs (command-reads.test.ts).
  for (const args of [['--help'], ['help'], ['run', '--help']]) {
    const r = await cli(args);
    assert.equal(r.code, 0, r.err);
    for (const row of SETTINGS) {
      if (!row.switch) {
        // Environment-only rows by their variable; label-only rows (depends_on) by their label.
        const name = row.env[0] ?? ('label' in row ? row.label : undefined);
        assert.ok(name && r.out.includes(name), `${row.key}: ${String(name)} missing from ${args.join(' ')}`);
        continue;
      }
      const start = r.out.indexOf(`\n  ${row.switch}`);
      assert.ok(start !== -1, `${row.switch} missing from ${args.join(' ')}`);
      const block = r.out.slice(start, r.out.indexOf('\n  -', start + 4));
      for (const env of row.env) assert.ok(block.includes(env), `${row.switch}: ${env} missing`);
      assert.ok(block.includes(`default ${row.defaultText}`), `${row.switch}: default missing in\n${block}`);
    }
  }
  const labels = await cli(['check-labels', '--help']);
  assert.equal(labels.code, 0, labels.err);
  assert.ok(labels.out.includes('\n  --namespace'), 'check-labels reads --namespace');
  assert.ok(!labels.out.includes('\n  --http-port'), 'check-labels does not read --http-port');
});

test('--version, unknown commands and switches', async () => {
  const v = await cli(['--version']);
  assert.equal(v.code, 0);
  assert.match(v.out, /^repairman \d+\.\d+\.\d+/);
  const u = await cli(['chek-labels']);
  assert.equal(u.code, 2);
  assert.match(u.err, /unknown command "chek-labels" \(did you mean check-labels\?\)/);
  const s = await cli(['config', '--dry-rn']);
  assert.equal(s.code, 2);
  assert.match(s.err, /unknown switch --dry-rn \(did you mean --dry-run\?\)/);
});

test('SIGTERM while a command waits on the engine: exit 0 within a second', async () => {
  // An "engine" that accepts connections and never answers.
  const dir = mkdtempSync(join(tmpdir(), 'rm-cli-'));
  const sock = join(dir, 'docker.sock');
  const sockets: Socket[] = [];
  const server = createServer((s) => sockets.push(s));
  server.listen(sock);
  await once(server, 'listening');
  try {
    let connected!: () => void;
    const gotConnection = new Promise<void>((r) => (connected = r));
    server.on('connection', () => connected());
    let pid = 0;
    const done = cli(['check-labels'], { DOCKER_HOST: `unix://${sock}` }, { onSpawn: (p) => (pid = p) });
    await gotConnection;
    const t0 = Date.now();
    process.kill(pid, 'SIGTERM');
    const r = await done;
    assert.equal(r.code, 0, `${r.err}${r.out}`);
    assert.ok(Date.now() - t0 < 1500, `took ${Date.now() - t0} ms`);
  } finally {
    for (const s of sockets) s.destroy();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('check-labels with an unreachable engine: exit 1 and a reason', async () => {
  const r = await cli(['check-labels']);
  assert.equal(r.code, 1);
  assert.match(r.err, /check-labels: cannot list containers: .*nonexistent/);
});

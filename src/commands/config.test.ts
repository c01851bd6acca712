import { test } from 'node:test';
import assert from 'node:assert/strict';
import { callCommand, type CommandResult } from '../../test/helpers/command-call.js';
import { SETTINGS } from '../config/settings-table.js';
import { run } from './config.js';

const call = (argv: string[], env: NodeJS.ProcessEnv = {}): Promise<CommandResult> => callCommand(run, argv, env);

test('config: every setting with its value and source, secrets masked', async () => {
  const secret = 'https://hooks.slack.com/services/T0/B0/SECRETTOKEN';
  const r = await call(['--interval', '2m', '--no-heal-exited'], { DEFAULT_NOTIFY_URL: secret, NAMESPACE: 'proj_' });
  assert.equal(r.code, 0, r.err);
  assert.ok(!r.out.includes('SECRETTOKEN'), r.out);
  const line = (key: string): string => r.out.split('\n').find((l) => l.startsWith(`${key} `)) ?? '';
  for (const row of SETTINGS) assert.ok(line(row.key), `${row.key} missing`);
  assert.match(line('interval'), /^interval\s+120\s+switch --interval$/);
  assert.match(line('heal_exited'), /^heal_exited\s+false\s+switch --no-heal-exited$/);
  assert.match(line('namespace'), /^namespace\s+proj_\s+env NAMESPACE$/);
  assert.match(line('notify_url'), /^notify_url\s+https:\/\/hooks\.slack\.com\/\*\*\*\s+env DEFAULT_NOTIFY_URL$/);
  assert.match(line('stop_timeout'), /^stop_timeout\s+10\s+default$/);
});

test('config --json', async () => {
  const r = await call(['--json'], { DEFAULT_NOTIFY_URL: 'https://a.example/SECRET', DEFAULT_FRAME_SIZE: '1h', TZ: 'UTC' });
  assert.equal(r.code, 0, r.err);
  const doc = JSON.parse(r.out) as { settings: Record<string, { value: unknown; source: string; from?: string }> };
  assert.deepEqual(doc.settings.frame_size_in_seconds, { value: 3600, source: 'env', from: 'DEFAULT_FRAME_SIZE' });
  assert.deepEqual(doc.settings.notify_url, { value: ['https://a.example/***'], source: 'env', from: 'DEFAULT_NOTIFY_URL' });
  assert.deepEqual(doc.settings.debug, { value: false, source: 'default' });
  assert.deepEqual(doc.settings.tz, { value: 'UTC', source: 'env', from: 'TZ' });
  assert.equal(Object.keys(doc.settings).length, SETTINGS.length);
});

test('config: bad settings exit 2 with every error on stderr, nothing on stdout', async () => {
  const r = await call(['--http-port=http'], { CHECK_INTERVAL: 'soon', DEFAULT_NOTIFY_URL: 'ftp://x.example/SECRET' });
  assert.equal(r.code, 2);
  assert.equal(r.out, '');
  assert.match(r.err, /3 configuration errors/);
  assert.match(r.err, /CHECK_INTERVAL = "soon"/);
  assert.match(r.err, /--http-port = "http"/);
  assert.ok(!r.err.includes('SECRET'));
});

test('config: a stray argument is a usage error', async () => {
  const r = await call(['--debug', 'false']);
  assert.equal(r.code, 2);
  assert.match(r.err, /unexpected argument "false".*--name=false/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { openSettings } from './open-settings.js';
import type { CommandContext } from './types.js';

function context(argv: string[], env: NodeJS.ProcessEnv = {}): { ctx: CommandContext; err: () => string } {
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (c) => (err += String(c)));
  return { ctx: { argv, env, stdout: new PassThrough(), stderr, signal: new AbortController().signal }, err: () => err };
}

test('openSettings: the settings with the command\'s own switches, nothing printed', () => {
  const { ctx, err } = context(['--json', '--interval', '2m', 'web'], { NAMESPACE: 'proj_' });
  const loaded = openSettings(ctx, 'status');
  assert.notEqual(typeof loaded, 'number');
  if (typeof loaded === 'number') return;
  assert.equal(loaded.settings.intervalSec, 120);
  assert.equal(loaded.settings.namespace, 'proj_');
  assert.deepEqual(loaded.options, { json: true });
  assert.deepEqual(loaded.positionals, ['web']);
  assert.equal(err(), '');
});

test('openSettings: errors printed to stderr (masked), exit code 2, or the one the command asks for', () => {
  const bad = context(['--interval=soon'], { DEFAULT_NOTIFY_URL: 'ftp://hooks.example/SECRET' });
  assert.equal(openSettings(bad.ctx, 'config'), 2);
  assert.match(bad.err(), /^repairman: 2 configuration errors; nothing was changed:\n/);
  assert.match(bad.err(), /--interval.*\[RM_CONFIG_INVALID\]/);
  assert.ok(!bad.err().includes('SECRET'), bad.err());
  // A switch of another command is a usage error here.
  const usage = context(['--json']);
  assert.equal(openSettings(usage.ctx, 'reset'), 2);
  assert.match(usage.err(), /^repairman: a command-line error:\n.*--json.*\[RM_USAGE\]/);
  const health = context(['--interval=soon']);
  assert.equal(openSettings(health.ctx, 'healthcheck', { errorExit: 1 }), 1);
  assert.match(health.err(), /\[RM_CONFIG_INVALID\]/);
});

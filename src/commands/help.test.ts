import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { run as help } from './help.js';
import { packageVersion, run as version } from './version.js';

async function call(fn: typeof help, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => (out += String(c)));
  stderr.on('data', (c) => (err += String(c)));
  const code = await fn({ argv, env: {}, stdout, stderr, signal: new AbortController().signal });
  return { code, out, err };
}

test('help, help for a command, help for an unknown command', async () => {
  const all = await call(help, []);
  assert.equal(all.code, 0);
  assert.match(all.out, /Usage: repairman \[COMMAND\] \[SWITCHES\]/);
  const one = await call(help, ['check-labels']);
  assert.match(one.out, /^Usage: repairman check-labels \[NAME\.\.\.\]/);
  const bad = await call(help, ['chek-labels']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /did you mean check-labels\?/);
});

test('version comes from package.json', async () => {
  assert.match(packageVersion(), /^\d+\.\d+\.\d+/);
  const r = await call(version, []);
  assert.equal(r.out, `repairman ${packageVersion()}\n`);
});

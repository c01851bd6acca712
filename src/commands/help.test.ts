import { test } from 'node:test';
import assert from 'node:assert/strict';
import { callCommand, type CommandResult } from '../../test/helpers/command-call.js';
import { run as help } from './help.js';
import { packageVersion, run as version } from './version.js';

const call = (fn: typeof help, argv: string[]): Promise<CommandResult> => callCommand(fn, argv);

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

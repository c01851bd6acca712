import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dispatch } from './dispatch.js';

test('no command means run', () => {
  assert.deepEqual(dispatch([]), { command: 'run', argv: [] });
  assert.deepEqual(dispatch(['--debug', '--interval', '5']), { command: 'run', argv: ['--debug', '--interval', '5'] });
});

test('the first word that is not a switch value is the command', () => {
  assert.deepEqual(dispatch(['check-labels', 'web', 'db']), { command: 'check-labels', argv: ['web', 'db'] });
  assert.deepEqual(dispatch(['--namespace', 'proj', 'check-labels', 'web']), { command: 'check-labels', argv: ['--namespace', 'proj', 'web'] });
  assert.deepEqual(dispatch(['--namespace=proj', 'config']), { command: 'config', argv: ['--namespace=proj'] });
  assert.deepEqual(dispatch(['--debug', 'history', 'web']), { command: 'history', argv: ['--debug', 'web'] });
  assert.deepEqual(dispatch(['run', '--', 'x']), { command: 'run', argv: ['--', 'x'] });
});

test('help and version', () => {
  assert.deepEqual(dispatch(['--help']), { command: 'help', argv: [] });
  assert.deepEqual(dispatch(['-h']), { command: 'help', argv: [] });
  assert.deepEqual(dispatch(['help']), { command: 'help', argv: [] });
  assert.deepEqual(dispatch(['help', 'config']), { command: 'help', argv: ['config'] });
  assert.deepEqual(dispatch(['config', '--help']), { command: 'help', argv: ['config'] });
  assert.deepEqual(dispatch(['--debug', 'status', '-h']), { command: 'help', argv: ['status'] });
  assert.deepEqual(dispatch(['--version']), { command: 'version', argv: [] });
  assert.deepEqual(dispatch(['-V']), { command: 'version', argv: [] });
  assert.deepEqual(dispatch(['version']), { command: 'version', argv: [] });
  // after --, --help is an argument
  assert.deepEqual(dispatch(['history', '--', '--help']), { command: 'history', argv: ['--', '--help'] });
});

test('an unknown command is an error with a suggestion', () => {
  const d = dispatch(['stauts']);
  assert.ok('error' in d);
  assert.match(d.error, /unknown command "stauts" \(did you mean status\?\)/);
  const e = dispatch(['--debug', 'frobnicate']);
  assert.ok('error' in e && !e.error.includes('did you mean'));
});

test('a misspelt switch before any command gets the same "did you mean" as after run (issue 22)', async () => {
  assert.deepEqual(dispatch(['--intervl', '5']), { command: 'run', argv: ['--intervl', '5'] });
  assert.deepEqual(dispatch(['--limt', '5', 'history']), { command: 'history', argv: ['--limt', '5'] });
  // What the user reads: the same message with and without `run`.
  const { spawnSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const cli = fileURLToPath(new URL('../cli.js', import.meta.url));
  const env = { ...process.env, DOCKER_HOST: 'tcp://127.0.0.1:1' };
  for (const argv of [['--intervl', '5'], ['run', '--intervl', '5']]) {
    const r = spawnSync(process.execPath, [cli, ...argv], { encoding: 'utf8', env, timeout: 10_000 });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /unknown switch --intervl \(did you mean --interval\?\)/);
    assert.doesNotMatch(r.stderr, /unknown command/);
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEnvTypo, findEnvTypos } from './env-typos.js';

test('misspelt variables get a "did you mean" (issue 22), the rest of the environment is left alone', () => {
  const typos = findEnvTypos({
    DEFAULT_MAX_RESTART_IN_FRAME: '3',
    CHECK_INTERVALL: '10',
    DEFAULT_NOTIFY_URLS: 'https://hooks.example/x',
    DEFAULT_WHATEVER_THIS_IS: '1',
    AUTOHEAL_INTERVL: '5',
    PATH: '/usr/bin', HOME: '/root', HOSTNAME: 'box', TERM: 'xterm', HTTP_PROXY: 'http://proxy:3128', NO_PROXY: '*',
    NODE_ENV: 'production', PWD: '/', SHLVL: '1', LANG: 'C.UTF-8',
    // Known names, table or compatible ones: never reported.
    CHECK_INTERVAL: '5', DEFAULT_MAX_RESTARTS_IN_FRAME: '2', AUTOHEAL_CONTAINER_LABEL: 'all', AUTOHEAL_INTERVAL: '5',
    AUTOHEAL_START_PERIOD: '0', AUTOHEAL_DEFAULT_STOP_TIMEOUT: '10', AUTOHEAL_ONLY_MONITOR_RUNNING: 'false',
    WEBHOOK_URL: '', DOCKER_HOST: 'unix:///x', DOCKER_SOCK: '/x', CURL_TIMEOUT: '30', TZ: 'UTC',
  });
  assert.deepEqual(typos.map(describeEnvTypo), [
    'environment variable AUTOHEAL_INTERVL is not one Repairman reads (did you mean AUTOHEAL_INTERVAL?); it is ignored',
    'environment variable CHECK_INTERVALL is not one Repairman reads (did you mean CHECK_INTERVAL?); it is ignored',
    'environment variable DEFAULT_MAX_RESTART_IN_FRAME is not one Repairman reads (did you mean DEFAULT_MAX_RESTARTS_IN_FRAME?); it is ignored',
    'environment variable DEFAULT_NOTIFY_URLS is not one Repairman reads (did you mean DEFAULT_NOTIFY_URL?); it is ignored',
    'environment variable DEFAULT_WHATEVER_THIS_IS is not one Repairman reads; it is ignored (see repairman --help)',
  ]);
});

test('what a user reads at start: the typo warning and the engine address whole (issue 22)', async () => {
  const { spawn } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const cli = fileURLToPath(new URL('../cli.js', import.meta.url));
  const child = spawn(process.execPath, [cli, '--http-port', '0'], {
    env: { ...process.env, CHECK_INTERVALL: '10', DOCKER_HOST: 'tcp://127.0.0.1:1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no engine warning within 15 s:\n${out}`)), 15_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('engine not reachable')) {
        clearTimeout(timer);
        resolve();
      }
    });
  }).finally(() => child.kill('SIGTERM'));
  assert.match(out, /environment variable CHECK_INTERVALL is not one Repairman reads \(did you mean CHECK_INTERVAL\?\)/);
  assert.match(out, /cannot reach the Docker engine at tcp:\/\/127\.0\.0\.1:1: connection refused/);
});

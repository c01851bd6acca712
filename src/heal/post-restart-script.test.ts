import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { PassThrough } from 'node:stream';
import { join } from 'node:path';
import { createLogger } from '../log.js';
import { postRestartArgv, runPostRestartScript } from './post-restart-script.js';

const log = createLogger({ out: new PassThrough(), format: 'json', level: 'debug' });

test("willfarrell's arguments: /NAME, 12-digit id, state, stop timeout; the value is split on spaces", () => {
  assert.deepEqual(postRestartArgv('/hooks/after.sh --quiet', { name: 'web', id: 'abcdef0123456789abcdef', state: 'running', stopTimeoutSec: 20 }),
    ['/hooks/after.sh', '--quiet', '/web', 'abcdef012345', 'running', '20']);
});

test('the script runs with them; a slow one is killed at the limit', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rm-prs-'));
  const script = join(dir, 'after.sh');
  writeFileSync(script, `#!/bin/sh\necho "$@" > ${dir}/args\n[ "$1" = sleep ] && sleep 30\nexit 0\n`);
  chmodSync(script, 0o755);
  const ctl = new AbortController();
  assert.equal(await runPostRestartScript(script, { name: 'web', id: '0123456789abcdef', state: 'running', stopTimeoutSec: 10 }, log, ctl.signal), 0);
  assert.equal(readFileSync(join(dir, 'args'), 'utf8').trim(), '/web 0123456789ab running 10');
  const t0 = Date.now();
  assert.equal(await runPostRestartScript(`${script} sleep`, { name: 'w', id: '0123456789abcdef', state: 'running', stopTimeoutSec: 1 }, log, ctl.signal, 300), null);
  assert.ok(Date.now() - t0 < 5000);
  assert.equal(await runPostRestartScript(join(dir, 'missing'), { name: 'w', id: 'x', state: 'running', stopTimeoutSec: 1 }, log, ctl.signal), null);
});

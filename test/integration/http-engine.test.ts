// /healthz of a real Repairman follows its engine (docs/behaviour.md §6, issue 7): 503 with the reason within a few
// seconds of the engine stopping, 200 again after it comes back; `repairman healthcheck` agrees.
// The shared private engine must never be stopped, so this test starts an engine of its own
// (REPAIRMAN_ENGINE_DIR=/tmp/rm-httpeng) and downs it at the end.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { hasTestEngine, uniqueNamespace } from '../helpers/engine.js';
import { httpRequest } from '../helpers/http.js';
import { CLI_PATH, startRepairman, type RepairmanProcess } from '../helpers/repairman.js';

const execFileP = promisify(execFile);
const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const ENGINE_DIR = '/tmp/rm-httpeng';
const OWN_HOST = `unix://${ENGINE_DIR}/docker.sock`;

async function engine(action: 'up' | 'down'): Promise<void> {
  await execFileP('bash', [join(REPO, 'scripts', 'test-engine.sh'), action], {
    env: { ...process.env, REPAIRMAN_ENGINE_DIR: ENGINE_DIR, REPAIRMAN_ENGINE_BROWSER: '0' },
    timeout: 180_000,
  });
}

async function healthz(port: number): Promise<{ status: number; body: { status?: string; reason?: string } }> {
  try {
    const r = await httpRequest(port, '/hz.x(1)/healthz', { timeoutMs: 2000 });
    return { status: r.status, body: JSON.parse(r.body) as { status?: string; reason?: string } };
  } catch {
    return { status: 0, body: {} };
  }
}

/** Poll until /healthz answers `status`; resolves with the elapsed ms and the last body. */
async function waitForHealthz(port: number, status: number, timeoutMs: number): Promise<{ ms: number; body: { status?: string; reason?: string } }> {
  const t0 = Date.now();
  let last = await healthz(port);
  while (last.status !== status) {
    if (Date.now() - t0 > timeoutMs) assert.fail(`/healthz still ${last.status} ${JSON.stringify(last.body)} after ${timeoutMs} ms (waiting for ${status})`);
    await new Promise((r) => setTimeout(r, 200));
    last = await healthz(port);
  }
  return { ms: Date.now() - t0, body: last.body };
}

describe('/healthz follows the engine', { skip: hasTestEngine() ? false : 'REPAIRMAN_TEST_DOCKER_HOST is not set' }, () => {
  let rm: RepairmanProcess | undefined;

  before(async () => {
    await engine('up');
  });
  after(async () => {
    await rm?.stop();
    await engine('down');
  });

  it('turns 503 with the reason when the engine stops, and 200 again when it is back', async (t) => {
    rm = await startRepairman({
      namespace: uniqueNamespace('httpeng'),
      http: true,
      intervalSec: 2,
      args: ['--http-prefix', '/hz.x(1)'],
      env: { DOCKER_HOST: OWN_HOST },
    });
    const port = rm.httpPort;
    assert.ok(port);
    const cli = (): Promise<number> =>
      execFileP(process.execPath, [CLI_PATH, 'healthcheck', '--http-port', String(port), '--http-prefix', '/hz.x(1)'], { timeout: 10_000 })
        .then(() => 0, (e: { code?: number }) => e.code ?? -1);

    await waitForHealthz(port, 200, 10_000);
    assert.equal(await cli(), 0);

    await engine('down');
    const down = await waitForHealthz(port, 503, 10_000);
    assert.equal(down.body.status, 'unavailable');
    assert.match(down.body.reason ?? '', /engine/i);
    assert.ok(down.ms < 8000, `503 after ${down.ms} ms`);
    assert.equal(await cli(), 1);
    // The rest keeps answering meanwhile.
    assert.equal((await httpRequest(port, '/hz.x(1)/api/containers')).status, 200);

    await engine('up');
    const back = await waitForHealthz(port, 200, 30_000);
    assert.deepEqual(back.body, { status: 'ok' });
    assert.equal(await cli(), 0);
    t.diagnostic(`503 ${down.ms} ms after the engine stopped (${down.body.reason ?? ''}); 200 ${back.ms} ms after it was back`);
  });
});

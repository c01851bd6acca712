// `npm run demo` (scripts/demo.sh) as a newcomer runs it: it starts its own private engine and
// containers, says "ready" with the page's address, the unhealthy container gets healed (seen through
// the page's JSON), and SIGINT (Ctrl-C) removes everything: Repairman, the containers, the engine, its
// folder and the temporary folder, within seconds.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { hasTestEngine, waitFor } from '../helpers/engine.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
// Short (a unix socket path is limited to 107 bytes) and unique: other runs may hold their own.
const DIR = `/tmp/rmd-${process.pid}`;

interface Api { containers: { name: string; state: string; health: string | null; stoppedByHand?: boolean }[] }

function pidsOf(pattern: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(pattern)) out.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

describe('npm run demo', { skip: !hasTestEngine() && 'REPAIRMAN_TEST_DOCKER_HOST is not set (no private engine can run here)' }, () => {
  let child: ChildProcess | undefined;
  let out = '';

  after(async () => {
    // A failed test must not leave an engine behind.
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child?.once('exit', r));
    }
  });

  it('starts, heals the unhealthy container, shows the one stopped by hand, and cleans up on SIGINT', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, REPAIRMAN_DEMO_DIR: DIR, REPAIRMAN_DEMO_PORT: '0' };
    delete env.DOCKER_HOST;
    child = spawn('bash', [join(REPO, 'scripts', 'demo.sh')], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((r) => child?.once('exit', (code) => r(code)));

    const ready = await waitFor('the ready line', () => /^demo: ready: (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(out), 120_000, 200);
    const url = ready?.[1] ?? '';
    assert.match(out, /demo-web +turns unhealthy/);
    assert.match(out, /stopped by hand, left alone/);
    assert.ok(existsSync(`${DIR}/docker.sock`), 'its own engine socket');

    const api = async (): Promise<Api> => (await (await fetch(`${url}api/containers`)).json()) as Api;
    const events = async (name: string): Promise<{ kind: string; message: string }[]> =>
      ((await (await fetch(`${url}api/events?container=${name}`)).json()) as { events: { kind: string; message: string }[] }).events;
    // Healed: restarted because unhealthy, then healthy again.
    await waitFor('demo-web restarted and healthy', async () => {
      const restarted = (await events('demo-web')).some((e) => e.kind === 'restart');
      const web = (await api()).containers.find((c) => c.name === 'demo-web');
      return restarted && web?.health === 'healthy';
    }, 90_000, 500);
    const cron = (await api()).containers.find((c) => c.name === 'demo-cron');
    assert.equal(cron?.state, 'exited');
    assert.equal(cron?.stoppedByHand, true);

    assert.ok(pidsOf(`--pidfile ${DIR}/docker.pid`).length > 0, 'dockerd runs');
    const t0 = Date.now();
    child.kill('SIGINT');
    const code = await exited;
    const tookMs = Date.now() - t0;
    assert.equal(code, 0, out.slice(-2000));
    assert.ok(tookMs < 20_000, `cleanup took ${tookMs} ms`);
    const removed = /removed Repairman, the containers, the engine in (\S+) and (\S+)/.exec(out);
    assert.ok(removed, out.slice(-2000));
    assert.equal(existsSync(DIR), false, 'the engine folder is gone');
    assert.equal(existsSync(removed[2] as string), false, 'the temporary folder is gone');
    assert.deepEqual(pidsOf(`${DIR}/`), [], 'no dockerd, containerd or shim of the demo left');
    await assert.rejects(fetch(`${url}healthz`, { signal: AbortSignal.timeout(2000) }), 'Repairman is gone');
    console.log(`# demo: ready, healed, cleaned up in ${tookMs} ms`);
  });
});

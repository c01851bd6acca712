// Rootless Podman, live (issue 23): a `podman system service` run by a non-root user
// (scripts/test-podman-rootless.sh: its own user with subuid/subgid, XDG_RUNTIME_DIR, storage), and
// Repairman with DOCKER_HOST unset finding its socket $XDG_RUNTIME_DIR/podman/podman.sock, connecting
// and healing there. The default sockets (Docker's and rootful Podman's) are given as
// paths that do not exist: the test never looks at the real ones, whatever this machine has. Repairman
// runs in this process (startApp) with the engine client the CLI would build, from those paths.
// Run by `npm test` in its Podman part, which starts the rootless service; skipped elsewhere.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { startApp, type App } from '../../src/app.js';
import { loadSettings } from '../../src/config/load.js';
import { DockerClient } from '../../src/docker/client.js';
import { resolveEndpoint } from '../../src/docker/endpoint.js';
import { createLogger } from '../../src/log.js';
import { driveHealthChecks, stopHealthChecks, TEST_IMAGE, uniqueNamespace, waitFor } from '../helpers/engine.js';
import { QUICK_STOP_CMD, type LogLine } from '../helpers/repairman.js';

const execFileP = promisify(execFile);
const XDG = process.env.REPAIRMAN_TEST_ROOTLESS_XDG_RUNTIME_DIR;
const USER_NAME = process.env.REPAIRMAN_TEST_ROOTLESS_USER;
const skip = (!XDG || !USER_NAME) && 'no rootless Podman: REPAIRMAN_TEST_ROOTLESS_XDG_RUNTIME_DIR is set by `npm test` (scripts/test-podman-rootless.sh)';

describe('rootless Podman: found with DOCKER_HOST unset, healed there', { skip }, () => {
  const ns = uniqueNamespace('rootless');
  const sock = `${XDG}/podman/podman.sock`;
  const url = `unix://${sock}`;
  const dir = mkdtempSync(join(tmpdir(), 'repairman-rootless-'));
  // Paths that do not exist, in place of the default Docker and rootful Podman sockets.
  const sockets = { docker: join(dir, 'no-docker.sock'), rootfulPodman: join(dir, 'no-rootful-podman.sock') };
  const env: NodeJS.ProcessEnv = { XDG_RUNTIME_DIR: XDG, PATH: process.env.PATH, TZ: 'UTC' };
  const lines: LogLine[] = [];
  const stopCtl = new AbortController();
  let app: App | undefined;

  const podman = async (args: string[]): Promise<string> => (await execFileP('podman', ['--remote', '--url', url, ...args], { timeout: 60_000 })).stdout.trim();
  const inspect = (name: string, format: string): Promise<string> => podman(['inspect', '--format', format, name]);
  const waitForLog = (what: string, match: (l: LogLine) => boolean, timeoutMs = 20_000): Promise<LogLine> =>
    waitFor(what, () => lines.find(match), timeoutMs, 100).then((l) => l!);

  before(async () => {
    assert.equal(existsSync(sockets.docker) || existsSync(sockets.rootfulPodman), false);
    const endpoint = resolveEndpoint(env, existsSync, sockets);
    assert.deepEqual(endpoint, { kind: 'unix', socketPath: sock, display: url }, 'DOCKER_HOST unset: the rootless socket');
    const loaded = loadSettings(['--namespace', ns, '--interval', '2', '--http-port', '0', '--seconds-between-restarts', '1'], env);
    if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join('\n'));
    const out = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of String(chunk).split('\n')) if (l.trim()) lines.push(JSON.parse(l) as LogLine);
        cb();
      },
    });
    const log = createLogger({ out, format: 'json' });
    app = await startApp({ settings: loaded.settings, env, log, signal: stopCtl.signal, engine: new DockerClient(endpoint, { logger: log.child({ component: 'docker' }) }) });
    await waitForLog('watching', (l) => l.msg === 'watching');
  });
  after(async () => {
    stopCtl.abort();
    await app?.done;
    for (const n of ['sick', 'crash']) stopHealthChecks(`${ns}${n}`);
    const ids = await podman(['ps', '-aq', '--filter', `name=^${ns}`]).catch(() => '');
    if (ids) await podman(['rm', '-f', '-t', '0', ...ids.split('\n')]).catch(() => '');
    rmSync(dir, { recursive: true, force: true });
  });

  it('the service is rootless: Podman says so, and a container runs as the non-root user on the host', async () => {
    assert.equal(await podman(['info', '--format', '{{.Host.Security.Rootless}}']), 'true');
    assert.ok(lines.some((l) => l.msg === 'engine reachable'), 'Repairman connected');
    await podman(['run', '-d', '--name', `${ns}probe`, TEST_IMAGE, 'sh', '-c', QUICK_STOP_CMD]);
    const pid = await inspect(`${ns}probe`, '{{.State.Pid}}');
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    const { stdout } = await execFileP('id', ['-u', USER_NAME!]);
    assert.equal(uid, stdout.trim(), "the container's root is the rootless user outside");
    assert.notEqual(uid, '0');
  });

  it('an unhealthy container is restarted, and a crashed one started', async () => {
    const sick = `${ns}sick`;
    const crash = `${ns}crash`;
    await podman(['run', '-d', '--name', sick, '--health-cmd', 'test -f /tmp/ok', '--health-interval', '1s', '--health-retries', '1', '--health-timeout', '2s', TEST_IMAGE, 'sh', '-c', QUICK_STOP_CMD]);
    driveHealthChecks(sick, 1, url);
    await waitFor(`${sick} healthy`, async () => (await inspect(sick, '{{.State.Health.Status}}')) === 'healthy', 20_000);
    const before = await inspect(sick, '{{.State.StartedAt}}');
    await podman(['exec', sick, 'rm', '-f', '/tmp/ok']);
    const restarted = await waitForLog('restarted', (l) => l.msg === 'restarted' && l.container === sick);
    assert.equal(restarted.reason, 'unhealthy');
    assert.notEqual(await inspect(sick, '{{.State.StartedAt}}'), before);
    await waitFor(`${sick} healthy again`, async () => (await inspect(sick, '{{.State.Health.Status}}')) === 'healthy', 20_000);

    await podman(['run', '-d', '--name', crash, TEST_IMAGE, 'sh', '-c', 'sleep 1; exit 3']);
    const started = await waitForLog('started', (l) => l.msg === 'started' && l.container === crash);
    assert.equal(started.reason, 'crashed with exit code 3');
  });
});

// Access to the PRIVATE test engine started by scripts/test-engine.sh (dockerd) or
// scripts/test-podman.sh (Podman, with REPAIRMAN_TEST_ENGINE=podman). Tests never use the default
// engine: a tool that restarts and removes containers must not touch a developer's real containers.
// Both engines are driven with the docker CLI (Podman serves the same API); what differs is here.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { DEFAULT_DOCKER_SOCKET } from '../../src/docker/endpoint.js';

const execFileP = promisify(execFile);

export const TEST_IMAGE = process.env.REPAIRMAN_TEST_IMAGE ?? 'repairman-test:latest';

/** The engine of this run: the same test files run against both (the test matrix). */
export const TEST_ENGINE: 'docker' | 'podman' = process.env.REPAIRMAN_TEST_ENGINE === 'podman' ? 'podman' : 'docker';

/** DOCKER_HOST of the private engine; throws when missing or pointing at the default socket. */
export function testDockerHost(): string {
  const host = process.env.REPAIRMAN_TEST_DOCKER_HOST;
  if (!host) throw new Error('REPAIRMAN_TEST_DOCKER_HOST is not set: run tests with `npm test` (it starts the private engine)');
  if (host.includes(DEFAULT_DOCKER_SOCKET) || host === 'unix:///run/docker.sock') {
    throw new Error(`refusing to test against the default engine (${host})`);
  }
  return host;
}

export function hasTestEngine(): boolean {
  return Boolean(process.env.REPAIRMAN_TEST_DOCKER_HOST);
}

/** Environment for child processes (docker CLI, repairman) that talk to the private engine only. */
export function engineEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: testDockerHost(), ...extra };
  delete env.DOCKER_TLS_VERIFY;
  delete env.DOCKER_CERT_PATH;
  delete env.DOCKER_CONTEXT;
  return env;
}

/** Run the docker CLI against the private engine; resolves with trimmed stdout. */
export async function docker(args: string[], opts: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<string> {
  const { stdout } = await execFileP('docker', args, {
    env: engineEnv(opts.env),
    timeout: opts.timeoutMs ?? 60_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout.trim();
}

/** A fresh name prefix so test files running side by side never see each other's containers. */
export function uniqueNamespace(prefix: string): string {
  return `rmt-${prefix}-${randomBytes(3).toString('hex')}-`;
}

export interface RunOpts {
  cmd?: string; // shell command run by sh -c
  labels?: Record<string, string>;
  /** A health check command (sh -c); interval 1 s, retries 1 unless given. */
  health?: { cmd: string; intervalSec?: number; retries?: number; startPeriodSec?: number };
  restart?: string; // no | always | on-failure:N | unless-stopped
  extra?: string[]; // more `docker run` arguments
  detach?: boolean;
}

/** The `docker run` arguments of a busybox container, for any engine. */
export function runArgs(name: string, opts: RunOpts = {}): string[] {
  const args = ['run', '--name', name];
  if (opts.detach !== false) args.push('-d');
  for (const [k, v] of Object.entries(opts.labels ?? {})) args.push('--label', `${k}=${v}`);
  if (opts.health) {
    args.push('--health-cmd', opts.health.cmd, '--health-interval', `${opts.health.intervalSec ?? 1}s`,
      '--health-retries', String(opts.health.retries ?? 1), '--health-timeout', '2s');
    if (opts.health.startPeriodSec !== undefined) args.push('--health-start-period', `${opts.health.startPeriodSec}s`);
  }
  if (opts.restart) args.push('--restart', opts.restart);
  args.push(...(opts.extra ?? []), TEST_IMAGE, 'sh', '-c', opts.cmd ?? 'sleep 100000');
  return args;
}

/** `docker run -d` a busybox container; returns its id. */
export async function runContainer(name: string, opts: RunOpts = {}): Promise<string> {
  const id = await docker(runArgs(name, opts));
  if (TEST_ENGINE === 'podman' && opts.health) driveHealthChecks(name, opts.health.intervalSec ?? 1);
  return id;
}

/** A name filter for names starting with prefix: Docker matches "/name", Podman "name". */
export function namePrefixFilter(prefix: string): string {
  return TEST_ENGINE === 'podman' ? `name=^${prefix}` : `name=^/${prefix}`;
}

/** Remove every container whose name starts with the namespace. */
export async function removeNamespace(namespace: string): Promise<void> {
  for (const name of [...healthDrivers.keys()]) if (name.startsWith(namespace)) stopHealthChecks(name);
  // Podman refuses to remove a container whose namespace another one shares ("has dependent
  // containers which must be removed before it"): each round removes what it can, dependents first.
  for (let round = 0; round < (TEST_ENGINE === 'podman' ? 4 : 1); round++) {
    const ids = await docker(['ps', '-aq', '--filter', namePrefixFilter(namespace)]);
    if (!ids) return;
    if (TEST_ENGINE !== 'podman') await docker(['rm', '-f', '-v', ...ids.split('\n')]).catch(() => undefined);
    else for (const id of ids.split('\n')) await docker(['rm', '-f', '-v', id]).catch(() => undefined);
  }
}

// Podman schedules health checks with systemd timers; without systemd nothing runs them. The test
// does what the timer would: `podman healthcheck run NAME` every interval, through the service.
const healthDrivers = new Map<string, AbortController>();

/** Run the container's health check every intervalSec until stopHealthChecks or removeNamespace (url: another Podman's). */
export function driveHealthChecks(name: string, intervalSec: number, url = testDockerHost()): void {
  stopHealthChecks(name);
  const ctl = new AbortController();
  healthDrivers.set(name, ctl);
  void (async () => {
    while (!ctl.signal.aborted) {
      const started = Date.now();
      try {
        await execFileP('podman', ['--remote', '--url', url, 'healthcheck', 'run', name], { timeout: 30_000, signal: ctl.signal });
      } catch (err) {
        // Exit 1 is "unhealthy"; a container that is gone ends the loop; a stopped one waits.
        if (/no such container|no container with name/i.test(String((err as { stderr?: string }).stderr ?? ''))) break;
      }
      const waitMs = Math.max(0, intervalSec * 1000 - (Date.now() - started));
      await new Promise<void>((resolve) => {
        const onAbort = (): void => {
          clearTimeout(timer);
          resolve();
        };
        // The listener goes with the wait: one per wait would pile up on the loop's signal.
        const timer = setTimeout(() => {
          ctl.signal.removeEventListener('abort', onAbort);
          resolve();
        }, waitMs);
        timer.unref();
        ctl.signal.addEventListener('abort', onAbort, { once: true });
      });
    }
    if (healthDrivers.get(name) === ctl) healthDrivers.delete(name);
  })();
}

export function stopHealthChecks(name: string): void {
  healthDrivers.get(name)?.abort();
  healthDrivers.delete(name);
}

export async function inspectField(name: string, format: string): Promise<string> {
  return docker(['inspect', '--format', format, name]);
}

/** Poll until fn returns a truthy value or the time runs out (then throws with the last value). */
export async function waitFor<T>(what: string, fn: () => Promise<T> | T, timeoutMs = 15_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)}${lastErr ? `, error: ${String(lastErr)}` : ''})`);
}

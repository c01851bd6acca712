// A private Docker engine that ONE reliability test may stop, restart and purge without disturbing
// anybody: scripts/test-engine.sh with its own REPAIRMAN_ENGINE_DIR (/tmp/rm-rel-<name>). The shared
// engine at /tmp/repairman-engine is used by every other test at the same time and is never touched.
//
//   const eng = await ownEngine('outage', { liveRestore: true });   // up, empty, image ready
//   await eng.docker(['run', '-d', ...]);
//   await eng.down(); ... await eng.up();                            // an engine outage
//   await eng.cleanup();                                             // containers removed, engine purged
//
// liveRestore (dockerd --live-restore): containers keep running while dockerd is down, as on a
// production host where dockerd is restarted for an upgrade; without it stopping dockerd would stop
// every container (a deliberate stop that must not be healed) and nothing could crash "during" it.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runArgs, TEST_IMAGE, type RunOpts } from '../../helpers/engine.js';

const execFileP = promisify(execFile);

/** scripts/test-engine.sh, from dist/test/reliability/helpers/own-engine.js. */
export const ENGINE_SCRIPT = fileURLToPath(new URL('../../../../scripts/test-engine.sh', import.meta.url));

export interface OwnEngine {
  name: string;
  dir: string;
  socketPath: string;
  /** unix://<dir>/docker.sock */
  host: string;
  /** Start dockerd (idempotent); resolves once it answers and the test image exists. */
  up(): Promise<void>;
  /** Stop dockerd (containers keep running with liveRestore). */
  down(): Promise<void>;
  answers(): Promise<boolean>;
  /** The docker CLI against this engine only; trimmed stdout. */
  docker(args: string[], timeoutMs?: number): Promise<string>;
  /** `docker run -d` a busybox container here (same options as runContainer of test/helpers/engine.ts); its id. */
  run(name: string, opts?: RunOpts): Promise<string>;
  /** Environment for a Repairman (or anything) that must talk to this engine only. */
  env(extra?: Record<string, string>): Record<string, string>;
  /** Remove every container (starting the engine if it is down), stop the engine, delete its folder. */
  cleanup(): Promise<void>;
}

export interface OwnEngineOptions {
  liveRestore?: boolean;
  /** Start it now (default true). */
  start?: boolean;
}

function scriptEnv(dir: string, liveRestore: boolean): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, REPAIRMAN_ENGINE_DIR: dir, REPAIRMAN_ENGINE_BROWSER: '0' };
  if (liveRestore) env.REPAIRMAN_ENGINE_DOCKERD_ARGS = '--live-restore';
  else delete env.REPAIRMAN_ENGINE_DOCKERD_ARGS;
  delete env.DOCKER_HOST;
  return env;
}

/**
 * A private engine named /tmp/rm-rel-<name> (short: unix socket paths are limited to 107 bytes).
 * REPAIRMAN_REL_ENGINE_PREFIX replaces `/tmp/rm-rel-`, so that two runs of the suite on one machine
 * (a CI check beside a developer's run) do not stop each other's engines.
 */
export async function ownEngine(name: string, opts: OwnEngineOptions = {}): Promise<OwnEngine> {
  if (!/^[a-z0-9-]{1,24}$/.test(name)) throw new Error(`engine name must be short kebab-case, got ${name}`);
  const dir = `${process.env.REPAIRMAN_REL_ENGINE_PREFIX || '/tmp/rm-rel-'}${name}`;
  const socketPath = `${dir}/docker.sock`;
  const host = `unix://${socketPath}`;
  const env = scriptEnv(dir, opts.liveRestore === true);
  const script = async (cmd: 'up' | 'down' | 'purge' | 'status', timeoutMs = 120_000): Promise<void> => {
    await execFileP('bash', [ENGINE_SCRIPT, cmd], { env, timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 });
  };
  const docker = async (args: string[], timeoutMs = 60_000): Promise<string> => {
    const denv: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: host };
    delete denv.DOCKER_TLS_VERIFY;
    delete denv.DOCKER_CERT_PATH;
    delete denv.DOCKER_CONTEXT;
    const { stdout } = await execFileP('docker', args, { env: denv, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
    return stdout.trim();
  };
  const answers = async (): Promise<boolean> =>
    script('status', 15_000).then(
      () => true,
      () => false,
    );
  const removeAll = async (): Promise<void> => {
    const ids = await docker(['ps', '-aq']);
    if (ids) await docker(['rm', '-f', '-v', ...ids.split('\n')], 120_000);
  };
  const eng: OwnEngine = {
    name,
    dir,
    socketPath,
    host,
    up: () => script('up'),
    down: () => script('down'),
    answers,
    docker,
    env: (extra = {}) => ({ DOCKER_HOST: host, ...extra }),
    run: (cname, ro = {}) => docker(runArgs(cname, ro)),
    cleanup: async () => {
      try {
        if (existsSync(dir)) {
          // With --live-restore, containers outlive dockerd: remove them through it first.
          if (!(await answers())) await script('up');
          await removeAll();
        }
      } finally {
        await script('purge');
      }
    },
  };
  if (opts.start !== false) {
    // A killed earlier run may have left the engine up (with other dockerd switches) or its
    // containers behind: start from nothing.
    if (existsSync(dir)) await eng.cleanup();
    await script('up');
    await docker(['image', 'inspect', TEST_IMAGE]);
  }
  return eng;
}

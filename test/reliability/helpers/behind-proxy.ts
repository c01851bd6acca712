// A Repairman that talks to the shared private engine through a faulty proxy, with three containers
// of its own namespace: `calm` (healthy, must never be touched), `sick` (turns unhealthy when the
// test raises its flag) and `crash` (exits 3 when the test raises its flag). The engine itself is
// never stopped, so the shared engine is fine here.
import { docker, removeNamespace, runContainer, testDockerHost, uniqueNamespace, waitFor } from '../../helpers/engine.js';
import { startRepairman, type RepairmanOptions, type RepairmanProcess } from '../../helpers/repairman.js';
import { crashOnFlag, flagDir, CALM_EXTRA, CALM_HEALTH, HEALTH_OK, sickOnFlag, type FlagDir } from './containers.js';
import { startFaultyProxy, type FaultyProxy } from './faulty-proxy.js';

export interface BehindProxy {
  ns: string;
  px: FaultyProxy;
  rm: RepairmanProcess;
  flags: FlagDir;
  calm: string;
  sick: string;
  crash: string;
  /** Make `sick` unhealthy (once) / `crash` exit 3 (once). */
  breakSick(): void;
  breakCrash(): void;
  /** Every POST that changes a container (restart, start, stop, kill, delete) Repairman sent since `sinceMs`. */
  actionsSince(sinceMs: number): { method: string; path: string; atMs: number }[];
  waitHealthy(name: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** The engine's socket path, from REPAIRMAN_TEST_DOCKER_HOST (unix:// only). */
export function sharedSocketPath(): string {
  const host = testDockerHost();
  if (!host.startsWith('unix://')) throw new Error(`the faulty proxy needs a unix:// engine, not ${host}`);
  return host.slice('unix://'.length);
}

export const PATHS = {
  ping: /^\/_ping/,
  list: /^\/containers\/json/,
  inspect: /^\/containers\/[^/]+\/json/,
  restart: /^\/containers\/[^/]+\/restart/,
  start: /^\/containers\/[^/]+\/start/,
  logs: /^\/containers\/[^/]+\/logs/,
  events: /^\/events/,
  acting: /^\/containers\/[^/]+\/(restart|start|stop|kill)|^\/containers\/[^/?]+(\?|$)/,
};

export async function behindProxy(name: string, opts: Omit<RepairmanOptions, 'namespace'> = {}): Promise<BehindProxy> {
  const ns = uniqueNamespace(name);
  const flags = flagDir();
  const px = await startFaultyProxy({ upstream: sharedSocketPath() });
  const calm = `${ns}calm`;
  const sick = `${ns}sick`;
  const crash = `${ns}crash`;
  const waitHealthy = async (c: string, timeoutMs = 60_000): Promise<void> => {
    await waitFor(`${c} healthy`, async () => (await docker(['inspect', '--format', '{{.State.Health.Status}}', c])) === 'healthy', timeoutMs, 200);
  };
  let rm: RepairmanProcess | undefined;
  try {
    await runContainer(calm, { cmd: sickOnFlag('never'), health: CALM_HEALTH, extra: [...flags.mount, ...CALM_EXTRA] });
    await runContainer(sick, { cmd: sickOnFlag(`${ns}sick`), health: { cmd: HEALTH_OK }, extra: flags.mount });
    await runContainer(crash, { cmd: crashOnFlag(`${ns}crash`), extra: flags.mount });
    await waitHealthy(calm);
    await waitHealthy(sick);
    rm = await startRepairman({ ...opts, namespace: ns, env: { ...opts.env, DOCKER_HOST: px.host } });
  } catch (err) {
    await px.close();
    await removeNamespace(ns);
    flags.remove();
    throw err;
  }
  const proc = rm;
  return {
    ns,
    px,
    rm: proc,
    flags,
    calm,
    sick,
    crash,
    breakSick: () => flags.raise(`${ns}sick`),
    breakCrash: () => flags.raise(`${ns}crash`),
    actionsSince: (sinceMs) => px.log.filter((c) => c.method !== 'GET' && c.atMs >= sinceMs && PATHS.acting.test(c.path)),
    waitHealthy,
    close: async () => {
      // Every step, whatever the one before did: a test's leftovers must not outlive it.
      try {
        await proc.stop();
      } finally {
        try {
          await px.close();
        } finally {
          try {
            await removeNamespace(ns);
          } finally {
            flags.remove();
          }
        }
      }
    },
  };
}

// Container commands for reliability tests whose trouble the TEST decides, through files in a host
// folder bind-mounted at /flag: touching /flag/<name> makes the container unhealthy or crash, and
// the container consumes the file, so one touch is one incident (a restart then cures it). This works
// while the engine is down, too (with --live-restore the container keeps running without dockerd).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Healthy (health cmd HEALTH_OK) until /flag/<flag> appears, then unhealthy until restarted. */
export function sickOnFlag(flag: string): string {
  return `touch /tmp/ok; trap "exit 0" TERM; (while [ ! -f /flag/${flag} ]; do sleep 0.2; done; rm -f /flag/${flag} /tmp/ok) & sleep 100000 & wait`;
}

/** Runs until /flag/<flag> appears, then exits with code 3 (a crash). */
export function crashOnFlag(flag: string, code = 3): string {
  return `trap "exit 0" TERM; while [ ! -f /flag/${flag} ]; do sleep 0.2; done; rm -f /flag/${flag}; exit ${code}`;
}

export const HEALTH_OK = 'test -f /tmp/ok';

/**
 * For containers that must STAY healthy whatever the machine does: on a loaded 2-core machine a
 * health check exec can take longer than the usual 2 s timeout, and Docker then (rightly) calls the
 * container unhealthy. Use as `health: CALM_HEALTH`, `extra: [...CALM_EXTRA]`.
 */
export const CALM_HEALTH = { cmd: HEALTH_OK, retries: 3 };
export const CALM_EXTRA = ['--health-timeout', '30s'];

export interface FlagDir {
  dir: string;
  /** `docker run` arguments that mount it at /flag. */
  mount: string[];
  raise(flag: string): void;
  remove(): void;
}

export function flagDir(): FlagDir {
  const dir = mkdtempSync(join(tmpdir(), 'rm-rel-flags-'));
  return {
    dir,
    mount: ['-v', `${dir}:/flag`],
    raise: (flag) => writeFileSync(join(dir, flag), ''),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Like sickOnFlag, but deaf to SIGTERM: a restart takes the whole stop timeout, then a SIGKILL. */
export function sickSlowStopOnFlag(flag: string): string {
  return `touch /tmp/ok; trap "" TERM; (while [ ! -f /flag/${flag} ]; do sleep 0.2; done; rm -f /flag/${flag} /tmp/ok) & while true; do sleep 1; done`;
}

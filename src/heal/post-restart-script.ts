// willfarrell/docker-autoheal's POST_RESTART_SCRIPT (docs/behaviour.md §11): after each restart, the
// program runs with that tool's four arguments: the engine's name (with its leading slash), the
// 12-digit id, the container's state and the stop timeout. Like willfarrell, the value is split on
// spaces (no shell) and the script runs in the background: it never delays a repair. It is killed
// after a time limit and when Repairman stops, so nothing it starts outlives the supervisor's watch.
import { spawn } from 'node:child_process';
import type { Logger } from '../log.js';

export const POST_RESTART_SCRIPT_LIMIT_MS = 60_000;

export interface PostRestartArgs {
  name: string;
  id: string;
  state: string;
  stopTimeoutSec: number;
}

/** The argv willfarrell passes: `/NAME SHORT_ID STATE TIMEOUT`. */
export function postRestartArgv(command: string, a: PostRestartArgs): string[] {
  const words = command.trim().split(/\s+/).filter((w) => w !== '');
  return [...words, `/${a.name}`, a.id.slice(0, 12), a.state, String(a.stopTimeoutSec)];
}

/** Start the script; resolves with its exit code (null when it could not start or was killed). */
export function runPostRestartScript(command: string, a: PostRestartArgs, log: Logger, signal: AbortSignal, limitMs = POST_RESTART_SCRIPT_LIMIT_MS): Promise<number | null> {
  const [program, ...args] = postRestartArgv(command, a);
  if (!program) return Promise.resolve(null);
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn(program, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    } catch (err) {
      log.warn('post-restart script could not start', { container: a.name, program, error: (err as Error).message });
      resolve(null);
      return;
    }
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < 2000) stderr += d.toString('utf8');
    });
    const kill = (): void => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(kill, limitMs);
    timer.unref();
    signal.addEventListener('abort', kill, { once: true });
    child.on('error', (err) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', kill);
      log.warn('post-restart script could not start', { container: a.name, program, error: err.message });
      resolve(null);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', kill);
      if (code === 0) log.info('post-restart script done', { container: a.name, program });
      else log.warn('post-restart script failed', { container: a.name, program, exitCode: code, stderr: stderr.trim().slice(-500) });
      resolve(code);
    });
  });
}

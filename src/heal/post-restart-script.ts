// willfarrell/docker-autoheal's POST_RESTART_SCRIPT (docs/behaviour.md §11): after each restart, the
// program runs with that tool's four arguments: the engine's name (with its leading slash), the
// 12-digit id, the container's state and the stop timeout. Like willfarrell, the value is split on
// spaces (no shell) and the script runs in the background: it never delays a repair. It is killed
// after a time limit and when Repairman stops (src/util/external-command.ts), so nothing it starts
// outlives the supervisor's watch.
import type { Logger } from '../log.js';
import { runExternalCommand, type ExternalCommand } from '../util/external-command.js';

export const POST_RESTART_SCRIPT_LIMIT_MS = 60_000;
/** Stderr lines kept for the log of a failed script (at most the last 500 characters are logged). */
const STDERR_LINES = 10;

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

/** The command as it runs: a program with arguments (where post_action_command has variables); null for an empty value. */
export function postRestartCommand(command: string, a: PostRestartArgs): ExternalCommand | null {
  const [program, ...args] = postRestartArgv(command, a);
  if (!program || command.trim() === '') return null;
  return { file: program, args, capture: 'stderr' };
}

/** Start the script; resolves with its exit code (null when it could not start or was killed). */
export async function runPostRestartScript(command: string, a: PostRestartArgs, log: Logger, signal: AbortSignal, limitMs = POST_RESTART_SCRIPT_LIMIT_MS): Promise<number | null> {
  const cmd = postRestartCommand(command, a);
  if (!cmd) return null;
  const program = cmd.file;
  const end = await runExternalCommand(cmd, { limitMs, signal, tailLines: STDERR_LINES });
  if (end.error !== undefined) {
    log.warn('post-restart script could not start', { container: a.name, program, error: end.error });
    return null;
  }
  if (end.exitCode === 0) log.info('post-restart script done', { container: a.name, program });
  else log.warn('post-restart script failed', { container: a.name, program, exitCode: end.exitCode, stderr: end.lines.join('\n').slice(-500) });
  return end.exitCode;
}

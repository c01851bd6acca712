// The one way Repairman runs an admin's program (post_action_command, POST_RESTART_SCRIPT): in a
// process group of its own, so the time limit and an abort kill everything it started; only the tail
// of its output is kept; it never throws (not starting is a result), so a hook can never break a heal.
// What differs between the hooks (a shell with variables, or a program with arguments) is the
// ExternalCommand each one builds.
import { spawn, type ChildProcess } from 'node:child_process';

/** The most kept of any one output line. */
export const MAX_LINE_CHARS = 500;

export interface ExternalCommand {
  /** The program, run as it is (no shell unless it is one). */
  file: string;
  args: readonly string[];
  /** Added to Repairman's own environment. */
  env?: Readonly<Record<string, string>>;
  /** The streams whose last lines are kept; the others are discarded. */
  capture: 'stdout+stderr' | 'stderr';
}

export interface RunOptions {
  /** Killed (its process group) after this long. */
  limitMs: number;
  /** Killed (its process group) when this aborts; an already aborted signal starts nothing. */
  signal: AbortSignal;
  /** How many of the last output lines are kept. */
  tailLines: number;
}

export interface CommandEnd {
  /** ok: exit 0; failed: another exit, or it did not start; timeout: killed at the limit; aborted: killed by the signal. */
  result: 'ok' | 'failed' | 'timeout' | 'aborted';
  /** The exit code; null when killed or when it did not start (a negative errno when the start failed late). */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The last non-blank output lines, oldest first. */
  lines: string[];
  /** Why it could not start. */
  error?: string;
}

/** Starts the command and resolves when it has ended; never rejects. */
export function runExternalCommand(cmd: ExternalCommand, opts: RunOptions): Promise<CommandEnd> {
  if (opts.signal.aborted) return Promise.resolve({ result: 'aborted', exitCode: null, signal: null, lines: [] });
  let child: ChildProcess;
  try {
    child = spawn(cmd.file, cmd.args, {
      env: cmd.env ? { ...process.env, ...cmd.env } : process.env,
      detached: true,
      stdio: ['ignore', cmd.capture === 'stdout+stderr' ? 'pipe' : 'ignore', 'pipe'],
    });
  } catch (err) {
    return Promise.resolve({ result: 'failed', exitCode: null, signal: null, lines: [], error: messageOf(err) });
  }
  return new Promise((resolve) => {
    const lines = new LastLines(opts.tailLines);
    child.stdout?.on('data', (chunk: Buffer) => lines.push('stdout', chunk));
    child.stderr?.on('data', (chunk: Buffer) => lines.push('stderr', chunk));
    let killedBy: 'timeout' | 'aborted' | undefined;
    const kill = (why: 'timeout' | 'aborted') => (): void => {
      killedBy ??= why;
      killGroup(child);
    };
    const onAbort = kill('aborted');
    const limit = setTimeout(kill('timeout'), opts.limitMs);
    limit.unref();
    opts.signal.addEventListener('abort', onAbort, { once: true });
    let error: string | undefined;
    child.on('error', (err) => {
      error ??= err.message;
    });
    // 'close' follows 'error' too (a failed start closes with a negative errno).
    child.on('close', (code, signal) => {
      clearTimeout(limit);
      opts.signal.removeEventListener('abort', onAbort);
      const result = killedBy ?? (code === 0 && error === undefined ? 'ok' : 'failed');
      resolve({ result, exitCode: code, signal, lines: lines.done(), ...(error !== undefined ? { error } : {}) });
    });
  });
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    // The negative pid is the process group (detached: the program leads its own group).
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

type Stream = 'stdout' | 'stderr';

/** The last n lines of the output, without keeping the rest; each stream's unfinished line is its own. */
class LastLines {
  private readonly lines: string[] = [];
  private readonly partial: Record<Stream, string> = { stdout: '', stderr: '' };

  constructor(private readonly n: number) {}

  push(stream: Stream, chunk: Buffer): void {
    const parts = (this.partial[stream] + chunk.toString('utf8')).split('\n');
    this.partial[stream] = (parts.pop() ?? '').slice(-MAX_LINE_CHARS);
    for (const line of parts) this.add(line);
  }

  done(): string[] {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.partial[stream] !== '') this.add(this.partial[stream]);
      this.partial[stream] = '';
    }
    return [...this.lines];
  }

  private add(line: string): void {
    const text = line.replace(/\r$/, '').slice(0, MAX_LINE_CHARS);
    if (text.trim() === '') return;
    this.lines.push(text);
    if (this.lines.length > this.n) this.lines.shift();
  }
}

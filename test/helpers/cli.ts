// Runs the built CLI (`repairman ARGS`) as its own process, the way a person or a script does: its
// exit, its output and how long it took, under a time limit so a hung command fails its test.
import { spawn } from 'node:child_process';
import { CLI_PATH } from './repairman.js';

export interface CliResult {
  /** null when it was killed (see signal). */
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
  ms: number;
}

/** `env` is the whole environment (nothing is inherited); SIGKILLed after timeoutMs. */
export function runCli(args: string[], env: NodeJS.ProcessEnv, opts: { timeoutMs?: number; onSpawn?: (pid: number) => void } = {}): Promise<CliResult> {
  const t0 = Date.now();
  const child = spawn(process.execPath, [CLI_PATH, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => err.push(c));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
  if (child.pid !== undefined) opts.onSpawn?.(child.pid);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out: Buffer.concat(out).toString('utf8'), err: Buffer.concat(err).toString('utf8'), ms: Date.now() - t0 });
    });
  });
}

import type { Writable } from 'node:stream';

/** What every `repairman <command>` receives; commands return an exit code and never exit. */
export interface CommandContext {
  /** Arguments after the command name (switches included), as typed. */
  argv: string[];
  env: NodeJS.ProcessEnv;
  stdout: Writable;
  stderr: Writable;
  /** Aborted on SIGTERM/SIGINT; long-running commands stop when it fires. */
  signal: AbortSignal;
}

export type CommandRun = (ctx: CommandContext) => Promise<number>;

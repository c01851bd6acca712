// Runs one `repairman <command>` in-process, as src/cli.ts would, with its stdout and stderr captured.
import { Writable } from 'node:stream';
import type { CommandRun } from '../../src/commands/types.js';

export interface CommandResult {
  code: number;
  out: string;
  err: string;
}

/** A stream that keeps what is written (decoded once at the end: a character split across writes stays whole). */
function sink(): Writable & { text: () => string } {
  const chunks: Buffer[] = [];
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(Buffer.from(chunk));
      cb();
    },
  }) as Writable & { text: () => string };
  w.text = () => Buffer.concat(chunks).toString('utf8');
  return w;
}

export async function callCommand(run: CommandRun, argv: string[], env: NodeJS.ProcessEnv = {}): Promise<CommandResult> {
  const stdout = sink();
  const stderr = sink();
  const code = await run({ argv, env, stdout, stderr, signal: new AbortController().signal });
  return { code, out: stdout.text(), err: stderr.text() };
}

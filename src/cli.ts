#!/usr/bin/env node
// The entry point and the only place that ends the process: `repairman [COMMAND] [SWITCHES]`.
// Each command lives in src/commands/<command>.ts (loaded lazily: `run` should not pay for the
// others) and returns an exit code (docs/behaviour.md §7): 0 success and after SIGTERM/SIGINT, 1 an
// unexpected failure, 2 a configuration or usage error.
import { dispatch } from './commands/dispatch.js';
import type { CommandRun } from './commands/types.js';
import { createLogger, type Logger } from './log.js';

/** After the first signal the command gets this long to finish; docs/behaviour.md §7: it stops within a second. */
export const SHUTDOWN_GRACE_MS = 950;

let fallbackLog: Logger | undefined;
const log = (): Logger => (fallbackLog ??= createLogger({ out: process.stdout }));

function unexpected(what: string, err: unknown): void {
  log().error(what, { error: err instanceof Error ? err.message : String(err), stack: err instanceof Error ? err.stack : undefined });
}

async function main(argv: string[]): Promise<number> {
  const target = dispatch(argv);
  if ('error' in target) {
    process.stderr.write(`repairman: ${target.error} [RM_USAGE]\n`);
    return 2;
  }
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) {
      log().warn('second signal: exiting now', { signal });
      process.exit(0);
    }
    controller.abort(new Error(`received ${signal}`));
    // Even as PID 1 with work in flight, stop within a second (docs/behaviour.md §7): in-flight calls are
    // abandoned, and SQLite writes are synchronous so none is cut in half.
    setTimeout(() => {
      log().warn('shutdown did not finish in time: exiting now', { signal, graceMs: SHUTDOWN_GRACE_MS });
      process.exit(0);
    }, SHUTDOWN_GRACE_MS).unref();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const mod = (await import(`./commands/${target.command}.js`)) as { run: CommandRun };
  return mod.run({ argv: target.argv, env: process.env, stdout: process.stdout, stderr: process.stderr, signal: controller.signal });
}

process.on('uncaughtException', (err) => {
  unexpected('unexpected failure', err);
  process.exit(1);
});
process.on('unhandledRejection', (err) => {
  unexpected('unexpected failure (unhandled rejection)', err);
  process.exit(1);
});

/**
 * Exit once stdout and stderr have handed everything to the OS. Writes to a pipe are asynchronous:
 * exiting at once keeps only what fit in the pipe (64 KiB), and `history --json | head` got cut JSON.
 */
function exitWhenFlushed(code: number): void {
  let waiting = 2;
  const flushed = (): void => {
    waiting -= 1;
    if (waiting === 0) process.exit(code);
  };
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.destroyed || stream.writableLength === 0) flushed();
    // The callback runs after every earlier write is out (or with an error: a reader that went away).
    else stream.write('', () => flushed());
  }
}

// A reader that goes away (`| head -c 100`) is not a failure of ours: stop writing, exit as planned.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);

main(process.argv.slice(2)).then(
  (code) => exitWhenFlushed(code),
  (err: unknown) => {
    unexpected('unexpected failure', err);
    exitWhenFlushed(1);
  },
);

#!/usr/bin/env node
// The entry point and the only place that ends the process: `repairman [command] [args]`.
// Each command lives in src/commands/<command>.ts and returns an exit code (SPEC section 7).
import type { CommandRun } from './commands/types.js';

const COMMANDS = ['run', 'status', 'history', 'check-labels', 'reset', 'notify-test', 'healthcheck', 'config', 'help', 'version'] as const;

async function loadCommand(name: string): Promise<CommandRun> {
  const mod = (await import(`./commands/${name}.js`)) as { run: CommandRun };
  return mod.run;
}

async function main(argv: string[]): Promise<number> {
  let name = 'run';
  let rest = argv;
  const first = argv[0];
  if (first === '--version' || first === '-V') { name = 'version'; rest = argv.slice(1); }
  else if (first === '--help' || first === '-h') { name = 'help'; rest = argv.slice(1); }
  else if (first !== undefined && !first.startsWith('-')) {
    if (!(COMMANDS as readonly string[]).includes(first)) {
      process.stderr.write(`repairman: unknown command "${first}" (see repairman --help)\n`);
      return 2;
    }
    name = first;
    rest = argv.slice(1);
  }
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (): void => {
    signals += 1;
    if (signals > 1) process.exit(0);
    controller.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const run = await loadCommand(name);
  return run({ argv: rest, env: process.env, stdout: process.stdout, stderr: process.stderr, signal: controller.signal });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`repairman: unexpected failure: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);

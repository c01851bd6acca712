// Placeholder: the engineer who owns `repairman notify-test` replaces this file entirely.
import type { CommandRun } from './types.js';

export const run: CommandRun = async (ctx) => {
  ctx.stderr.write('notify-test: not available yet\n');
  return 1;
};

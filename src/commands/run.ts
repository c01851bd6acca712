// Placeholder: the engineer who owns `repairman run` replaces this file entirely.
import type { CommandRun } from './types.js';

export const run: CommandRun = async (ctx) => {
  ctx.stderr.write('run: not available yet\n');
  return 1;
};

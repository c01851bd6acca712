// Placeholder: the engineer who owns `repairman history` replaces this file entirely.
import type { CommandRun } from './types.js';

export const run: CommandRun = async (ctx) => {
  ctx.stderr.write('history: not available yet\n');
  return 1;
};

// Placeholder: the engineer who owns `repairman reset` replaces this file entirely.
import type { CommandRun } from './types.js';

export const run: CommandRun = async (ctx) => {
  ctx.stderr.write('reset: not available yet\n');
  return 1;
};

// Placeholder: the engineer who owns `repairman status` replaces this file entirely.
import type { CommandRun } from './types.js';

export const run: CommandRun = async (ctx) => {
  ctx.stderr.write('status: not available yet\n');
  return 1;
};

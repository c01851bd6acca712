// Placeholder: the engineer who owns `repairman config` replaces this file entirely.
import type { CommandRun } from './types.js';

export const run: CommandRun = async (ctx) => {
  ctx.stderr.write('config: not available yet\n');
  return 1;
};

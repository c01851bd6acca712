// Placeholder: the engineer who owns `repairman healthcheck` replaces this file entirely.
import type { CommandRun } from './types.js';

export const run: CommandRun = async (ctx) => {
  ctx.stderr.write('healthcheck: not available yet\n');
  return 1;
};

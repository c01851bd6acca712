// Placeholder: the engineer who owns `repairman check-labels` replaces this file entirely.
import type { CommandRun } from './types.js';

export const run: CommandRun = async (ctx) => {
  ctx.stderr.write('check-labels: not available yet\n');
  return 1;
};

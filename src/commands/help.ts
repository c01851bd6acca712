import type { CommandRun } from './types.js';

export const run: CommandRun = async (ctx) => {
  ctx.stdout.write('repairman [run|status|history|check-labels|reset|notify-test|healthcheck|config] [switches]\n');
  return 0;
};

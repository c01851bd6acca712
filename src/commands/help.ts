// `repairman --help`, `repairman help [COMMAND]` and `repairman COMMAND --help`: generated from the
// settings table and the command list, so it cannot drift from what the program accepts.
import { COMMAND_BY_NAME } from './command-table.js';
import { closest } from '../util/suggest.js';
import { renderHelp } from './render.js';
import type { CommandRun } from './types.js';
import { packageVersion } from './version.js';

export const run: CommandRun = async (ctx) => {
  const topic = ctx.argv.find((a) => !a.startsWith('-'));
  if (topic !== undefined && !COMMAND_BY_NAME.has(topic)) {
    const guess = closest(topic, COMMAND_BY_NAME.keys());
    ctx.stderr.write(`repairman: unknown command "${topic}"${guess ? ` (did you mean ${guess}?)` : ''}; see repairman --help [RM_USAGE]\n`);
    return 2;
  }
  ctx.stdout.write(renderHelp(packageVersion(), topic));
  return 0;
};

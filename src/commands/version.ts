import { readFileSync } from 'node:fs';
import type { CommandRun } from './types.js';

export const run: CommandRun = async (ctx) => {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  ctx.stdout.write(`${pkg.version}\n`);
  return 0;
};

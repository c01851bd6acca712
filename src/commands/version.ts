// `repairman --version`: the version of the package this file was built from.
import { readFileSync } from 'node:fs';
import type { CommandRun } from './types.js';

/** From package.json, two directories above dist/src (the same in the repository and the npm package). */
export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

export const run: CommandRun = async (ctx) => {
  ctx.stdout.write(`repairman ${packageVersion()}\n`);
  return 0;
};

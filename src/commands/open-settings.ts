// The opening every command shares: its settings from argv and the environment (with the command's own
// switches from the command table), or the errors printed and the exit code to return.
import { formatConfigErrors, loadSettings, type LoadResult } from '../config/load.js';
import { commandSwitches } from './command-table.js';
import type { CommandContext } from './types.js';

export type LoadedSettings = Extract<LoadResult, { ok: true }>;

/**
 * The command's settings, or (after printing the errors to stderr) the exit code to return: 2, a
 * configuration or usage error, unless `errorExit` says otherwise (healthcheck: 1 is "unhealthy").
 */
export function openSettings(ctx: CommandContext, command: string, opts: { errorExit?: number } = {}): LoadedSettings | number {
  const loaded = loadSettings(ctx.argv, ctx.env, { commandSwitches: commandSwitches(command) });
  if (loaded.ok) return loaded;
  ctx.stderr.write(formatConfigErrors(loaded.errors));
  return opts.errorExit ?? 2;
}

// `repairman config [--json]`: the effective settings and where each one came from, secrets masked.
import type { SourceInfo } from '../config/load.js';
import { SETTINGS, type SettingRow } from '../config/settings-table.js';
import type { GlobalSettings } from '../config/types.js';
import { maskUrl } from '../util/mask.js';
import type { CommandRun } from './types.js';
import { openSettings } from './open-settings.js';

export interface ConfigEntry {
  key: string;
  /** JSON-friendly value; notify URLs masked. */
  value: unknown;
  /** As shown to people. */
  shown: string;
  source: SourceInfo['source'];
  /** `--interval` or `CHECK_INTERVAL`, when not a default. */
  from?: string;
}

function valueOf(row: SettingRow, settings: GlobalSettings, info: SourceInfo, env: NodeJS.ProcessEnv): unknown {
  if (row.scope === 'global') return settings[row.field];
  if (row.scope === 'policy') return settings.defaults[row.field];
  const name = info.name ?? row.env[0];
  return (name !== undefined ? env[name] : undefined) ?? row.default;
}

/** The effective settings as entries, in table order. */
export function describeSettings(settings: GlobalSettings, sources: Record<string, SourceInfo>, env: NodeJS.ProcessEnv): ConfigEntry[] {
  return SETTINGS.map((row) => {
    const info = sources[row.key] ?? { source: 'default' };
    const raw = valueOf(row, settings, info, env);
    const value = row.secret && Array.isArray(raw) ? raw.map((u) => maskUrl(String(u))) : raw;
    return {
      key: row.key,
      value,
      shown: row.show(raw),
      source: info.source,
      ...(info.name ? { from: info.name } : {}),
    };
  });
}

export const run: CommandRun = async (ctx) => {
  const loaded = openSettings(ctx, 'config');
  if (typeof loaded === 'number') return loaded;
  if (loaded.positionals.length) {
    ctx.stderr.write(`repairman config: unexpected argument "${loaded.positionals[0]}" (boolean switches take their value as --name=false) [RM_USAGE]\n`);
    return 2;
  }
  const entries = describeSettings(loaded.settings, loaded.sources, ctx.env);
  if (loaded.options.json === true) {
    const out: Record<string, unknown> = {};
    for (const e of entries) out[e.key] = { value: e.value, source: e.source, ...(e.from ? { from: e.from } : {}) };
    ctx.stdout.write(JSON.stringify({ settings: out }, null, 2) + '\n');
    return 0;
  }
  const keyWidth = Math.max(...entries.map((e) => e.key.length)) + 2;
  const valueWidth = Math.min(40, Math.max(...entries.map((e) => e.shown.length))) + 2;
  const lines = [`${'SETTING'.padEnd(keyWidth)}${'VALUE'.padEnd(valueWidth)}SOURCE`];
  for (const e of entries) {
    lines.push(`${e.key.padEnd(keyWidth)}${e.shown.padEnd(valueWidth)}${e.source}${e.from ? ` ${e.from}` : ''}`);
  }
  ctx.stdout.write(lines.join('\n') + '\n');
  return 0;
};

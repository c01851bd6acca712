// Global settings from the command line and the environment (docs/behaviour.md §1): switch > environment >
// default. Every problem is collected, so a user fixes all of them in one go; nothing here throws.
import { RepairmanError } from '../errors.js';
import { maskUrlList, maskUrlsInText } from '../util/mask.js';
import { CROSS_CHECKS } from './cross-checks.js';
import { BOOLEAN_EXPECTED, parseBoolean } from './parsers.js';
import { closest } from '../util/suggest.js';
import {
  POLICY_ROWS,
  ROW_BY_SWITCH,
  SETTINGS,
  defaultSettings,
  type PolicyField,
  type SettingRow,
} from './settings-table.js';
import type { GlobalSettings, SettingSource } from './types.js';

export interface SourceInfo {
  source: SettingSource;
  /** The text received (masked for secrets); absent for defaults. */
  raw?: string;
  /** Where exactly: `--interval`, `--no-debug` or `CHECK_INTERVAL`. */
  name?: string;
}

export type LoadResult =
  | {
      ok: true;
      settings: GlobalSettings;
      /** Keyed by row key (settings-table.ts), external rows (TZ, DOCKER_HOST...) included. */
      sources: Record<string, SourceInfo>;
      positionals: string[];
      /** Values of the command's own switches (LoadOptions.commandSwitches), by name without dashes. */
      options: Record<string, string | boolean>;
    }
  | { ok: false; errors: RepairmanError[] };

export interface LoadOptions {
  /** A command's own switches, e.g. `{ json: 'boolean' }` for `config --json`. */
  commandSwitches?: Record<string, 'boolean' | 'value'>;
}

interface SwitchHit {
  raw: string;
  name: string;
}

export interface ParsedArgv {
  hits: Map<SettingRow, SwitchHit>;
  options: Record<string, string | boolean>;
  positionals: string[];
  errors: RepairmanError[];
}

const KNOWN_SWITCHES = [...ROW_BY_SWITCH.keys()];

function usage(message: string, details: Record<string, unknown> = {}): RepairmanError {
  return new RepairmanError('RM_USAGE', message, { details });
}

function valueShown(row: SettingRow | undefined, raw: string): string {
  return row?.secret ? maskUrlList(raw) : raw;
}

/** Split argv into setting switches, a command's own switches and positionals (`--` ends switches). */
export function parseArgv(argv: readonly string[], opts: LoadOptions = {}): ParsedArgv {
  const commandSwitches = opts.commandSwitches ?? {};
  const hits = new Map<SettingRow, SwitchHit>();
  const options: Record<string, string | boolean> = {};
  const positionals: string[] = [];
  const errors: RepairmanError[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (token === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!token.startsWith('-') || token === '-') {
      positionals.push(token);
      continue;
    }
    const eq = token.indexOf('=');
    let name = eq === -1 ? token : token.slice(0, eq);
    let inline = eq === -1 ? undefined : token.slice(eq + 1);
    let negated = false;
    let row = ROW_BY_SWITCH.get(name);
    let commandKind = name.startsWith('--') ? commandSwitches[name.slice(2)] : undefined;
    if (!row && commandKind === undefined && name.startsWith('--no-')) {
      const base = '--' + name.slice(5);
      const baseRow = ROW_BY_SWITCH.get(base);
      const baseCommand = commandSwitches[base.slice(2)];
      if (baseRow?.kind === 'boolean' || baseCommand === 'boolean') {
        if (inline !== undefined) {
          errors.push(usage(`${name} takes no value (got "${valueShown(baseRow, inline)}"); write ${base}=<true|false> instead`, { switch: name }));
          continue;
        }
        negated = true;
        row = baseRow;
        commandKind = baseCommand;
        inline = 'false';
        name = base;
      }
    }
    if (!row && commandKind === undefined) {
      const known = [...KNOWN_SWITCHES, ...Object.keys(commandSwitches).map((s) => `--${s}`), '--help'];
      const guess = closest(name, known);
      errors.push(usage(`unknown switch ${name}${guess ? ` (did you mean ${guess}?)` : ''}; see repairman --help`, { switch: name, suggestion: guess }));
      continue;
    }
    const kind = row ? row.kind : commandKind;
    let raw: string;
    if (inline !== undefined) raw = inline;
    else if (kind === 'boolean') raw = 'true';
    else {
      const next = argv[i + 1];
      // A value that looks like the next switch is almost certainly a forgotten value; `--x=--y` still works.
      if (next === undefined || next.startsWith('--')) {
        errors.push(usage(`${name} needs a value${row ? `: ${row.expected}` : ''}`, { switch: name }));
        continue;
      }
      raw = next;
      i++;
    }
    const shownName = negated ? `--no-${name.slice(2)}` : name;
    if (row) hits.set(row, { raw, name: shownName });
    else if (kind === 'boolean') {
      const parsed = parseBoolean(raw);
      if (parsed.ok) options[name.slice(2)] = parsed.value;
      else errors.push(usage(`${name} expects ${BOOLEAN_EXPECTED}, got "${raw}"`, { switch: name }));
    } else options[name.slice(2)] = raw;
  }
  return { hits, options, positionals, errors };
}

function describe(info: SourceInfo): string {
  if (info.source === 'default') return 'default';
  return `${info.source} ${info.name ?? ''}`.trim();
}

function invalid(row: SettingRow, info: SourceInfo, reason: string | undefined): RepairmanError {
  // A URL in a setting that is not a secret one is still a secret (a webhook typed into the wrong
  // variable): an error shows it as scheme and host only.
  const shown = maskUrlsInText(info.raw ?? '');
  return new RepairmanError(
    'RM_CONFIG_INVALID',
    `${row.key}: ${describe(info)} = "${shown}" is not valid${reason ? ` (${maskUrlsInText(reason)})` : ''}; expected ${row.expected}`,
    { details: { setting: row.key, source: info.source, name: info.name, value: shown, expected: row.expected } },
  );
}

/** Read one row from the environment; several variables (aliases) must agree. */
function fromEnv(row: SettingRow, env: NodeJS.ProcessEnv, errors: RepairmanError[]): { value: unknown; info: SourceInfo } | undefined {
  let found: { value: unknown; info: SourceInfo; shownValue: string } | undefined;
  for (const name of row.env) {
    const raw = env[name];
    if (raw === undefined) continue;
    const info: SourceInfo = { source: 'env', raw: valueShown(row, raw), name };
    const parsed = row.parse(raw);
    if (!parsed.ok) {
      errors.push(invalid(row, info, parsed.reason));
      continue;
    }
    const shownValue = row.show(parsed.value);
    if (found && shownValue !== found.shownValue) {
      errors.push(new RepairmanError(
        'RM_CONFIG_CONFLICT',
        `${row.key}: env ${found.info.name} = "${found.info.raw}" and env ${name} = "${info.raw}" disagree; expected only one of them, or both with the same value`,
        { details: { setting: row.key, source: 'env', name: [found.info.name, name], value: [found.info.raw, info.raw], expected: 'one value' } },
      ));
      continue;
    }
    found ??= { value: parsed.value, info, shownValue };
  }
  return found;
}

/** Another tool's variable (docs/behaviour.md §11), read only when the row's own switch and variables are absent. */
function fromCompat(row: SettingRow, env: NodeJS.ProcessEnv, errors: RepairmanError[]): { value: unknown; info: SourceInfo } | undefined {
  const hit = row.compat?.read(env);
  if (!hit) return undefined;
  const info: SourceInfo = { source: 'compat env', raw: valueShown(row, hit.raw), name: hit.name };
  const parsed = row.parse(hit.raw);
  if (!parsed.ok) {
    errors.push(invalid(row, info, parsed.reason));
    return undefined;
  }
  return { value: parsed.value, info };
}

/**
 * The effective global settings from argv (after the command name) and the environment.
 * All problems are returned at once; nothing is read from anywhere else.
 */
export function loadSettings(argv: string[], env: NodeJS.ProcessEnv, opts: LoadOptions = {}): LoadResult {
  const { hits, options, positionals, errors } = parseArgv(argv, opts);
  const settings = defaultSettings();
  const target = settings as unknown as Record<string, unknown>;
  const policy = settings.defaults as unknown as Record<string, unknown>;
  const sources: Record<string, SourceInfo> = {};
  const broken = new Set<string>();

  for (const row of SETTINGS) {
    let value: unknown = row.default;
    let info: SourceInfo = { source: 'default' };
    const hit = hits.get(row);
    if (hit) {
      info = { source: 'switch', raw: valueShown(row, hit.raw), name: hit.name };
      const parsed = row.parse(hit.raw);
      if (parsed.ok) value = parsed.value;
      else {
        errors.push(invalid(row, info, parsed.reason));
        broken.add(row.key);
      }
    } else {
      const before = errors.length;
      const got = fromEnv(row, env, errors) ?? fromCompat(row, env, errors);
      if (errors.length > before) broken.add(row.key);
      if (got) ({ value, info } = got);
    }
    sources[row.key] = info;
    if (row.scope === 'global') target[row.field] = value;
    else if (row.scope === 'policy') policy[row.field] = value;
  }

  const sourceOfField = (field: PolicyField): SourceInfo => {
    const row = POLICY_ROWS.find((r) => r.field === field);
    return (row && sources[row.key]) ?? { source: 'default' };
  };
  for (const check of CROSS_CHECKS) {
    const keys = check.fields.map((f) => POLICY_ROWS.find((r) => r.field === f)?.key ?? f);
    if (keys.some((k) => broken.has(k))) continue; // the value itself is already reported
    if (check.holds(settings.defaults)) continue;
    const operand = (field: PolicyField): string => {
      const info = sourceOfField(field);
      return `${String(settings.defaults[field])} (${describe(info)})`;
    };
    const primary = sourceOfField(check.fields[0] as PolicyField);
    errors.push(new RepairmanError(
      'RM_CONFIG_CONFLICT',
      `${check.explain(settings.defaults, operand)}; expected ${check.rule}, i.e. ${check.expected}`,
      {
        details: {
          setting: check.key,
          source: primary.source,
          name: primary.name,
          value: String(settings.defaults[check.fields[0] as PolicyField]),
          expected: check.rule,
          involves: keys,
        },
      },
    ));
  }

  if (errors.length) return { ok: false, errors };
  return { ok: true, settings, sources, positionals, options };
}

/** Every error on its own line, ready for stderr. */
export function formatConfigErrors(errors: RepairmanError[]): string {
  const usageOnly = errors.every((e) => e.code === 'RM_USAGE');
  const head = usageOnly
    ? `repairman: ${errors.length === 1 ? 'a command-line error' : `${errors.length} command-line errors`}:`
    : `repairman: ${errors.length === 1 ? 'a configuration error' : `${errors.length} configuration errors`}; nothing was changed:`;
  return [head, ...errors.map((e) => `  - ${maskUrlsInText(e.message)} [${e.code}]`), 'See repairman --help for every setting.', ''].join('\n');
}

// Text derived from the settings table and the error catalogue: `--help` and the README's reference
// tables. README.md holds the generated copies between markers; `npm run docs` rewrites them and
// src/commands/docs.test.ts fails when they drift.
import { ERROR_CATALOGUE } from '../errors.js';
import { COMMANDS, COMMAND_BY_NAME, PER_CONTAINER, type CommandReads } from './command-table.js';
import { BOOLEAN_EXPECTED } from '../config/parsers.js';
import { LABEL_PREFIX, SETTINGS, type SettingRow } from '../config/settings-table.js';

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (text: string): string => (text === '' ? '' : `\`${text}\``);

function describeRow(row: SettingRow): string {
  let text = row.description;
  if (row.extension) text += ` (Extension: ${row.extension}.)`;
  if (row.compat) text += ` Also read from ${row.compat.env.join(', ')} (${row.compat.peer}; see docs/migrating.md), below the variables above.`;
  return text;
}

export function renderSettingsMarkdown(): string {
  const lines = [
    `Precedence, highest first: label (per container, \`${LABEL_PREFIX}<key>\`) > switch > environment > compatible environment (willfarrell/docker-autoheal, deunhealth: see docs/migrating.md) > default.`,
    `Booleans: ${BOOLEAN_EXPECTED}; a boolean switch alone means true, \`--no-<name>\` or \`--<name>=false\` false.`,
    'Durations: whole seconds, or `90s`, `5m`, `1h30m`. `repairman config` shows the effective values and their sources;',
    '`repairman check-labels` checks the labels of running containers.',
    '',
    '| Key (label suffix) | Switch | Environment | Default | Accepted values | Meaning |',
    '|---|---|---|---|---|---|',
  ];
  for (const row of SETTINGS) {
    lines.push(
      `| ${row.scope === 'policy' ? code(row.key) : '—'} | ${row.switch ? code(row.switch) : '—'} | ${row.env.length ? row.env.map(code).join(', ') : '—'}${row.compat ? `; compatible: ${row.compat.env.map(code).join(', ')}` : ''} | ${code(row.defaultText)} | ${cell(row.expected)} | ${cell(describeRow(row))} |`,
    );
  }
  return lines.join('\n');
}

export function renderErrorsMarkdown(): string {
  const lines = [
    'Every error Repairman reports carries one of these codes. A configuration error (`RM_CONFIG_*`, `RM_USAGE`) exits',
    'with code 2 before anything is touched; an unexpected failure exits with 1; SIGTERM/SIGINT exit with 0.',
    '',
    '| Code | Meaning |',
    '|---|---|',
  ];
  for (const [name, meaning] of Object.entries(ERROR_CATALOGUE)) lines.push(`| \`${name}\` | ${cell(meaning)} |`);
  return lines.join('\n');
}

/** Replace the text between `<!-- name:start -->` and `<!-- name:end -->`. */
export function replaceSection(document: string, name: string, body: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const from = document.indexOf(start);
  const to = document.indexOf(end);
  if (from === -1 || to === -1 || to < from) throw new Error(`README.md lacks the ${start} ... ${end} markers`);
  return `${document.slice(0, from + start.length)}\n${body}\n${document.slice(to)}`;
}

export function regenerateReadme(readme: string): string {
  return replaceSection(replaceSection(readme, 'settings', renderSettingsMarkdown()), 'errors', renderErrorsMarkdown());
}

function wrap(text: string, indent: string, width = 100): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      out.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(indent + line);
  return out;
}

/** The rows of the settings table a command reads (command-table.ts), in the table's order. */
export function settingsReadBy(reads: CommandReads): SettingRow[] {
  if (reads === 'all') return [...SETTINGS];
  return SETTINGS.filter((r) => reads.includes(r.key) || (reads.includes(PER_CONTAINER) && r.scope === 'policy'));
}

function settingBlock(row: SettingRow): string[] {
  const lines = [`  ${row.switch}${row.valueName ? ` ${row.valueName}` : ''}`, ...wrap(describeRow(row), '      ')];
  lines.push(`      env ${row.env.length ? row.env.join(' or ') : '(none)'}; default ${row.defaultText}`);
  if (row.scope === 'policy') lines.push(`      label ${row.label}`);
  return lines;
}

function renderSettingsHelp(reads: CommandReads): string[] {
  const rows = settingsReadBy(reads);
  if (rows.length === 0) return [];
  const all = reads === 'all';
  const lines = [
    all
      ? 'Settings. Precedence: label > switch > environment > compatible environment > default.'
      : 'Settings this command reads (it accepts every setting; repairman help run lists them all).',
    ...(all ? [`Per-container settings can be overridden by a label ${LABEL_PREFIX}<key> on the container.`] : []),
    `Booleans: ${BOOLEAN_EXPECTED}; --<name> alone = true, --no-<name> = false.`,
    'Durations: whole seconds, or 90s, 5m, 1h30m. Both --name value and --name=value work.',
    '',
  ];
  // A command that reads every per-container default (check-labels) names them; their blocks are in `help run`.
  const grouped = !all && reads.includes(PER_CONTAINER);
  for (const row of rows) {
    if (!row.switch || (grouped && row.scope === 'policy')) continue;
    lines.push(...settingBlock(row));
  }
  if (grouped) {
    const switches = rows.filter((r) => r.scope === 'policy' && r.switch).map((r) => r.switch as string);
    lines.push('  Every per-container default (the value a label falls back to):', ...wrap(switches.join(' '), '      '));
  }
  const envOnly = rows.filter((r) => !r.switch && r.env.length > 0);
  if (envOnly.length > 0) lines.push('', 'Environment only:');
  for (const row of envOnly) lines.push(`  ${row.env.join(', ')}`, ...wrap(`${describeRow(row)} Default: ${row.defaultText}.`, '      '));
  const labelOnly = rows.filter((r) => !r.switch && r.env.length === 0 && !(grouped && r.scope === 'policy'));
  if (labelOnly.length > 0) lines.push('', 'Labels only:');
  for (const row of labelOnly) {
    lines.push(`  ${row.scope === 'policy' ? row.label : row.key}`, ...wrap(`${describeRow(row)} Default: ${row.defaultText}.`, '      '));
  }
  return lines;
}

export function renderHelp(version: string, command?: string): string {
  const info = command ? COMMAND_BY_NAME.get(command) : undefined;
  const lines: string[] = [];
  if (info) {
    lines.push(`Usage: ${info.usage}`, '', ...wrap(info.summary, ''));
    if (info.options?.length) {
      lines.push('', 'Options:');
      for (const o of info.options) lines.push(`  ${o.switch}${o.valueName ? ` ${o.valueName}` : ''}`, ...wrap(o.description, '      '));
    }
    lines.push('');
  } else {
    lines.push(
      `Repairman ${version}: Kubernetes-like self-repair for plain Docker hosts.`,
      '',
      'Usage: repairman [COMMAND] [SWITCHES]',
      '',
      'Commands:',
    );
    for (const c of COMMANDS) {
      const [first, ...more] = wrap(c.summary, ' '.repeat(16));
      lines.push(`  ${c.name.padEnd(14)}${(first ?? '').trimStart()}`, ...more);
    }
    lines.push('', 'Run repairman COMMAND --help for a command\'s own options.', '');
  }
  const settingsHelp = renderSettingsHelp(info ? info.reads : 'all');
  if (settingsHelp.length) lines.push(...settingsHelp, '');
  lines.push('Exit codes: 0 success (and after SIGTERM/SIGINT), 1 failure, 2 configuration or usage error.', '');
  return lines.join('\n');
}

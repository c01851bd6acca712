import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_CATALOGUE } from '../errors.js';
import { COMMANDS } from './command-table.js';
import { renderErrorsMarkdown, renderHelp, renderSettingsMarkdown, replaceSection } from './render.js';
import { SETTINGS } from '../config/settings-table.js';

test('--help lists every command and every switch with its env names, label and default', () => {
  const help = renderHelp('1.2.3');
  assert.match(help, /Repairman 1\.2\.3/);
  for (const c of COMMANDS) assert.ok(help.includes(`  ${c.name} `), c.name);
  for (const row of SETTINGS) {
    if (row.switch) {
      const at = help.indexOf(`  ${row.switch}${row.valueName ? ` ${row.valueName}` : ''}\n`);
      assert.ok(at !== -1, `${row.switch} missing`);
      const block = help.slice(at, help.indexOf('\n  --', at + 3) === -1 ? undefined : help.indexOf('\n  --', at + 3));
      for (const env of row.env) assert.ok(block.includes(env), `${row.switch}: ${env} missing`);
      assert.ok(block.includes(`default ${row.defaultText}`), `${row.switch}: default missing`);
      if (row.scope === 'policy') assert.ok(block.includes(row.label), `${row.switch}: label missing`);
    } else {
      for (const env of row.env) assert.ok(help.includes(`  ${env}`), env);
    }
  }
});

test('command help shows its usage and options, then the settings', () => {
  const help = renderHelp('1.2.3', 'config');
  assert.match(help, /^Usage: repairman config/);
  assert.match(help, /--json/);
  assert.match(help, /--interval <seconds>/);
});

test('README tables have a row per setting and per error code', () => {
  const md = renderSettingsMarkdown();
  for (const row of SETTINGS) {
    // A label-only row (no switch, no environment) is found by its key.
    const mark = row.switch ?? row.env[0] ?? row.key;
    const line = md.split('\n').find((l) => l.includes(`\`${mark}\``));
    assert.ok(line, row.key);
    for (const env of row.env) assert.ok(line.includes(env));
    assert.ok(line.includes(`\`${row.defaultText}\``), `${row.key} default`);
  }
  const errors = renderErrorsMarkdown();
  for (const code of Object.keys(ERROR_CATALOGUE)) assert.ok(errors.includes(`| \`${code}\` |`), code);
});

test('replaceSection replaces between markers only, and insists on them', () => {
  const doc = 'a\n<!-- x:start -->\nold\n<!-- x:end -->\nb\n';
  assert.equal(replaceSection(doc, 'x', 'new'), 'a\n<!-- x:start -->\nnew\n<!-- x:end -->\nb\n');
  assert.equal(replaceSection(replaceSection(doc, 'x', 'new'), 'x', 'new'), replaceSection(doc, 'x', 'new'));
  assert.throws(() => replaceSection('no markers', 'x', 'y'), /lacks/);
});

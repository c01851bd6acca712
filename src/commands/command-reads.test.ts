// `help <command>` lists only the settings that command reads, derived from the command table's
// `reads` (no longer the whole settings table, ~100 lines, under every command: issue 22). The lists
// are kept honest against the commands' sources: every setting a command's file reads is declared.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { SETTINGS } from '../config/settings-table.js';
import { COMMANDS, COMMAND_BY_NAME, PER_CONTAINER } from './command-table.js';
import { renderHelp, settingsReadBy } from './render.js';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'src', 'commands');
const KEYS = new Set(SETTINGS.map((r) => r.key));
const KEY_OF_FIELD = new Map<string, string>(SETTINGS.flatMap((r) => (r.scope === 'external' ? [] : [[`${r.scope === 'policy' ? 'defaults.' : ''}${r.field}`, r.key] as const])));
/** Helpers that read settings on a command's behalf. */
const HELPERS: Record<string, string[]> = {
  'instanceRootUrl(': ['http_address', 'http_port', 'http_prefix'],
  'openMaintenanceJournal(': ['db_path'],
  'createDockerClient(ctx.env': ['docker_host', 'docker_tls_verify', 'docker_cert_path'],
  'ctx.env.TZ': ['tz'],
};

/** The setting keys a command's source reads: settings.<field>, settings.defaults.<field>, and HELPERS. */
function keysReadIn(file: string): Set<string> {
  const text = readFileSync(join(SRC, file), 'utf8');
  const keys = new Set<string>();
  for (const m of text.matchAll(/\bsettings\.((?:defaults\.)?[a-zA-Z]+)/g)) {
    const key = KEY_OF_FIELD.get(m[1] as string);
    if (key) keys.add(key);
  }
  for (const [call, ks] of Object.entries(HELPERS)) if (text.includes(call)) for (const k of ks) keys.add(k);
  return keys;
}

const switchesIn = (help: string): string[] => [...help.matchAll(/^ {2}(--[a-z-]+)/gm)].map((m) => m[1] as string);

describe('help <command>: only the settings it reads', () => {
  it('every declared key is a setting', () => {
    for (const c of COMMANDS) {
      if (c.reads === 'all') continue;
      for (const k of c.reads) assert.ok(KEYS.has(k) || k === PER_CONTAINER, `${c.name}: ${k}`);
    }
  });

  it('every setting a command file reads is declared (run and config read them all)', () => {
    const files: Record<string, string[]> = {
      status: ['status.ts', 'status-file.ts'], explain: ['explain.ts'], history: ['history.ts'], 'check-labels': ['check-labels.ts'], reset: ['reset.ts'],
      pause: ['pause.ts', 'maintenance.ts'], resume: ['resume.ts', 'maintenance.ts'], 'notify-test': ['notify-test.ts'], healthcheck: ['healthcheck.ts'],
    };
    for (const [name, list] of Object.entries(files)) {
      const reads = COMMAND_BY_NAME.get(name)?.reads;
      assert.ok(reads && reads !== 'all', name);
      const declared = new Set(settingsReadBy(reads).map((r) => r.key));
      for (const f of list) for (const k of keysReadIn(f)) assert.ok(declared.has(k), `${name} reads ${k} (${f}) but its help would not list it`);
    }
  });

  it('help status: its options and the settings of its two sources (the instance over HTTP; the engine and --db-path), in two screenfuls', () => {
    const help = renderHelp('1.2.3', 'status');
    assert.deepEqual(switchesIn(help), [
      '--url', '--json', '--namespace', '--label-notify-origins', '--http-address', '--http-port', '--http-prefix', '--http-token-file', '--db-path', '--autoheal-label',
    ]);
    assert.match(help, /^ {2}TZ$/m);
    assert.match(help, /^ {2}DOCKER_HOST$/m);
    assert.match(help, /Every per-container default/);
    assert.doesNotMatch(help, /DEFAULT_NOTIFY_URL|--interval|--post-action-command|--parallelism/);
    assert.ok(help.split('\n').length <= 110, `${help.split('\n').length} lines`);
  });

  it('every command lists the switches of the settings it reads, and no other', () => {
    for (const c of COMMANDS) {
      const help = renderHelp('1.2.3', c.name);
      const own = (c.options ?? []).map((o) => o.switch);
      const rows = settingsReadBy(c.reads);
      const grouped = c.reads !== 'all' && c.reads.includes(PER_CONTAINER);
      const expected = rows.filter((r) => r.switch && !(grouped && r.scope === 'policy')).map((r) => r.switch as string);
      assert.deepEqual(switchesIn(help), [...own, ...expected], c.name);
    }
    // check-labels names every per-container default in one paragraph instead of 20 blocks.
    const labels = renderHelp('1.2.3', 'check-labels');
    assert.match(labels, /Every per-container default/);
    assert.ok(labels.includes('--max-restarts-in-frame') && labels.includes('--namespace'));
    assert.ok(labels.split('\n').length < 70, `${labels.split('\n').length} lines`);
    assert.doesNotMatch(renderHelp('1.2.3', 'reset'), /--http-port/);
    assert.doesNotMatch(renderHelp('1.2.3', 'version'), /Settings/);
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SEED_ENV } from '../../test/helpers/seed-env.js';
import { formatConfigErrors, loadSettings, parseArgv, type LoadResult } from './load.js';
import { GLOBAL_ROWS, POLICY_ROWS, SETTINGS, defaultSettings, type SettingRow } from './settings-table.js';
import type { GlobalSettings } from './types.js';

/** For every setting: a valid raw value with its parsed value, and an invalid raw value (if any exists). */
const SAMPLES: Record<string, { valid: [string, unknown]; other: [string, unknown]; invalid?: string }> = {
  debug: { valid: ['yes', true], other: ['off', false], invalid: 'maybe' },
  interval: { valid: ['45', 45], other: ['2m', 120], invalid: '0' },
  namespace: { valid: ['proj_', 'proj_'], other: ['', ''] },
  seconds_between_restarts: { valid: ['20', 20], other: ['1m', 60], invalid: '-3' },
  frame_size_in_seconds: { valid: ['600', 600], other: ['1h', 3600], invalid: '1.5' },
  max_restarts_in_frame: { valid: ['3', 3], other: ['0', 0], invalid: 'three' },
  seconds_between_next_frame: { valid: ['1500', 1500], other: ['1h30m', 5400], invalid: '5x' },
  max_checks_to_give_up: { valid: ['0', 0], other: ['10', 10], invalid: '5m' },
  max_historic_entries: { valid: ['10', 10], other: ['500', 500], invalid: '' },
  enable_cleaning_duplicated_services: { valid: ['true', true], other: ['No', false], invalid: 'sometimes' },
  enable_autoheal: { valid: ['off', false], other: ['Y', true], invalid: '2' },
  heal_exited: { valid: ['0', false], other: ['on', true], invalid: 'nah' },
  heal_exited_lookback: { valid: ['600', 600], other: ['5m', 300], invalid: '-1' },
  stop_timeout: { valid: ['30', 30], other: ['0', 0], invalid: '-1' },
  notify_url: { valid: ['https://hooks.example/a', ['https://hooks.example/a']], other: ['', []], invalid: 'ftp://files.example/t0ken' },
  notify_level: { valid: ['debug', 'DEBUG'], other: ['error', 'WARNING'], invalid: 'loud' },
  depends_on: { valid: ['vpn', ['vpn']], other: ['', []], invalid: 'a b$' },
  recreate_dependents: { valid: ['false', false], other: ['yes', true], invalid: 'perhaps' },
  http_address: { valid: ['0.0.0.0', '0.0.0.0'], other: ['::', '::'], invalid: 'not an address' },
  http_port: { valid: ['0', 0], other: ['9000', 9000], invalid: '70000' },
  http_token_file: { valid: ['/run/secrets/repairman-token', '/run/secrets/repairman-token'], other: ['', ''] },
  http_hosts: { valid: ['repairman.lan, Status.Example.org', ['repairman.lan', 'status.example.org']], other: ['', []], invalid: 'not a host!' },
  label_notify_origins: { valid: ['https://chat.example.org, http://apprise:8000/', ['https://chat.example.org', 'http://apprise:8000']], other: ['', []], invalid: 'chat.example.org' },
  http_prefix: { valid: ['/SgbaCaVyewq/', '/SgbaCaVyewq'], other: ['/', ''], invalid: '/a b' },
  db_path: { valid: ['/tmp/r.db', '/tmp/r.db'], other: [':memory:', ':memory:'], invalid: '' },
  dry_run: { valid: ['true', true], other: ['false', false], invalid: 'perhaps' },
  parallelism: { valid: ['4', 4], other: ['1', 1], invalid: '0' },
  duplicate_grace: { valid: ['2m', 120], other: ['0', 0], invalid: '-5' },
  autoheal_label: { valid: ['autoheal', 'autoheal'], other: ['all', 'all'] },
  start_period: { valid: ['1m', 60], other: ['0', 0], invalid: 'soon' },
  api_timeout: { valid: ['30', 30], other: ['2m', 120], invalid: '0' },
  post_restart_script: { valid: ['/usr/local/bin/on-restart.sh', '/usr/local/bin/on-restart.sh'], other: ['', ''] },
  on_unhealthy: { valid: ['kill', 'kill'], other: ['NOTIFY', 'notify'], invalid: 'pause' },
  unhealthy_for: { valid: ['90', 90], other: ['5m', 300], invalid: '-1' },
  budget_mode: { valid: ['backoff', 'backoff'], other: ['frames', 'frames'], invalid: 'exponential' },
  post_action_command: { valid: ['/usr/local/bin/after.sh', '/usr/local/bin/after.sh'], other: ['', ''] },
  post_action_timeout: { valid: ['10', 10], other: ['2m', 120], invalid: '0' },
};

const CONFIGURABLE = SETTINGS.filter((r) => r.scope !== 'external');

function effective(settings: GlobalSettings, row: SettingRow): unknown {
  if (row.scope === 'global') return settings[row.field];
  if (row.scope === 'policy') return settings.defaults[row.field];
  throw new Error('external');
}

function ok(r: LoadResult): Extract<LoadResult, { ok: true }> {
  assert.ok(r.ok, r.ok ? '' : formatConfigErrors(r.errors));
  return r;
}

function errorsOf(r: LoadResult): string[] {
  assert.equal(r.ok, false, 'expected configuration errors');
  return r.ok ? [] : r.errors.map((e) => e.message);
}

test('every configurable row has samples (a new row needs them here)', () => {
  for (const row of CONFIGURABLE) assert.ok(SAMPLES[row.key], `no sample for ${row.key}`);
});

test('nothing configured: every default, every source "default"', () => {
  const r = ok(loadSettings([], {}));
  assert.deepEqual(r.settings, defaultSettings());
  for (const row of SETTINGS) assert.deepEqual(r.sources[row.key], { source: 'default' }, row.key);
  assert.deepEqual(r.positionals, []);
});

test('every row: from the environment (each variable name), both values', () => {
  for (const row of CONFIGURABLE) {
    const s = SAMPLES[row.key]!;
    for (const name of row.env) {
      for (const [raw, want] of [s.valid, s.other]) {
        const r = ok(loadSettings([], { [name]: raw }));
        assert.deepEqual(effective(r.settings, row), want, `${name}=${raw}`);
        assert.equal(r.sources[row.key]?.source, 'env');
        assert.equal(r.sources[row.key]?.name, name);
      }
    }
  }
});

test('every row: from the switch, as --x value and --x=value', () => {
  for (const row of CONFIGURABLE) {
    if (!row.switch) continue;
    const s = SAMPLES[row.key]!;
    for (const [raw, want] of [s.valid, s.other]) {
      const forms: string[][] = row.kind === 'boolean' ? [[`${row.switch}=${raw}`]] : [[row.switch, raw], [`${row.switch}=${raw}`]];
      for (const argv of forms) {
        const r = ok(loadSettings(argv, {}));
        assert.deepEqual(effective(r.settings, row), want, argv.join(' '));
        assert.equal(r.sources[row.key]?.source, 'switch');
        assert.equal(r.sources[row.key]?.name, row.switch);
      }
    }
  }
});

test('every row: switch beats environment beats default', () => {
  for (const row of CONFIGURABLE) {
    if (!row.switch || row.env.length === 0) continue;
    const s = SAMPLES[row.key]!;
    const env = Object.fromEntries(row.env.map((n) => [n, s.other[0]]));
    const r = ok(loadSettings([`${row.switch}=${s.valid[0]}`], env));
    assert.deepEqual(effective(r.settings, row), s.valid[1], row.key);
    assert.equal(r.sources[row.key]?.source, 'switch');
    const fromEnv = ok(loadSettings([], env));
    assert.deepEqual(effective(fromEnv.settings, row), s.other[1], row.key);
  }
});

test('every row: an invalid value names the setting, the source, the value and what is expected', () => {
  for (const row of CONFIGURABLE) {
    const s = SAMPLES[row.key]!;
    if (s.invalid === undefined) continue;
    const shown = row.secret ? 'ftp://files.example/***' : s.invalid;
    for (const name of row.env) {
      const r = loadSettings([], { [name]: s.invalid });
      assert.equal(r.ok, false, `${name}=${s.invalid}`);
      if (r.ok) continue;
      assert.equal(r.errors.length, 1, r.errors.map((e) => e.message).join('\n'));
      const e = r.errors[0]!;
      assert.equal(e.code, 'RM_CONFIG_INVALID');
      assert.ok(e.message.includes(row.key), e.message);
      assert.ok(e.message.includes(`env ${name}`), e.message);
      assert.ok(e.message.includes(`"${shown}"`), e.message);
      assert.ok(e.message.includes(row.expected), e.message);
      assert.deepEqual(
        { setting: e.details.setting, source: e.details.source, name: e.details.name, value: e.details.value },
        { setting: row.key, source: 'env', name, value: shown },
      );
    }
    if (row.switch) {
      const r = loadSettings([`${row.switch}=${s.invalid}`], {});
      const [msg] = errorsOf(r);
      assert.ok(msg?.includes(`switch ${row.switch}`) && msg.includes(`"${shown}"`), msg);
    }
  }
});

test('secrets: a bad notify URL is shown as scheme and host only, everywhere', () => {
  const secret = 'https://hooks.slack.com/services/T000/B000/XXXXSECRET';
  const r = loadSettings(['--notify-url', `${secret},ftp://files.example/SECRET2`], {});
  const text = formatConfigErrors(r.ok ? [] : r.errors);
  assert.ok(!text.includes('SECRET'), text);
  assert.ok(text.includes('https://hooks.slack.com/***'), text);
  assert.ok(text.includes('ftp://files.example/***'), text);
  // and a good one is masked in sources
  const good = ok(loadSettings([], { DEFAULT_NOTIFY_URL: secret }));
  assert.equal(good.sources.notify_url?.raw, 'https://hooks.slack.com/***');
  assert.deepEqual(good.settings.defaults.notifyUrls, [secret]);
  // a scheme-less URL keeps only its host
  const bare = loadSettings([], { DEFAULT_NOTIFY_URL: 'hooks.slack.com/services/SECRET' });
  const bareText = formatConfigErrors(bare.ok ? [] : bare.errors);
  assert.ok(!bareText.includes('SECRET') && bareText.includes('hooks.slack.com/***'), bareText);
});

test('all errors at once', () => {
  const r = loadSettings(['--interval=x', '--http-port', '99999', '--bogus'], { DEFAULT_STOP_TIMEOUT: '-1', DEFAULT_NOTIFY_LEVEL: 'loud' });
  const msgs = errorsOf(r);
  assert.equal(msgs.length, 5, msgs.join('\n'));
  for (const part of ['--interval', '--http-port', '--bogus', 'DEFAULT_STOP_TIMEOUT', 'DEFAULT_NOTIFY_LEVEL']) {
    assert.ok(msgs.some((m) => m.includes(part)), `${part} missing from\n${msgs.join('\n')}`);
  }
  const text = formatConfigErrors(r.ok ? [] : r.errors);
  assert.match(text, /^repairman: 5 configuration errors/);
  assert.equal(text.split('\n').filter((l) => l.startsWith('  - ')).length, 5);
});

test('booleans: alone = true, --no-x = false, --x=false = false, last one wins', () => {
  for (const row of SETTINGS.filter((r) => r.kind === 'boolean')) {
    const sw = row.switch!;
    const neg = `--no-${sw.slice(2)}`;
    const env = Object.fromEntries(row.env.map((n) => [n, 'true']));
    assert.equal(effective(ok(loadSettings([sw], {})).settings, row), true, sw);
    assert.equal(effective(ok(loadSettings([neg], env)).settings, row), false, neg);
    assert.equal(ok(loadSettings([neg], env)).sources[row.key]?.name, neg);
    assert.equal(effective(ok(loadSettings([`${sw}=false`], env)).settings, row), false);
    assert.equal(effective(ok(loadSettings([`${sw}=FALSE`], env)).settings, row), false);
    assert.equal(effective(ok(loadSettings([neg, sw], {})).settings, row), true);
  }
  // A boolean switch does not swallow the next word.
  const r = ok(loadSettings(['--debug', 'web'], {}));
  assert.equal(r.settings.debug, true);
  assert.deepEqual(r.positionals, ['web']);
  // --no- of a value setting is not a thing; --no-x=value neither.
  assert.match(errorsOf(loadSettings(['--no-interval'], {}))[0]!, /unknown switch --no-interval/);
  assert.match(errorsOf(loadSettings(['--no-debug=true'], {}))[0]!, /takes no value/);
  // an empty boolean value is an error
  assert.match(errorsOf(loadSettings(['--debug='], {}))[0]!, /debug: switch --debug = "" is not valid/);
});

test('duplicate cleaning: both environment names, agreeing or not', () => {
  const row = 'enable_cleaning_duplicated_services';
  assert.equal(ok(loadSettings([], { DEFAULT_ENABLE_DUPLICATED_SERVICES_REMOVING: 'true' })).settings.defaults.enableCleaningDuplicatedServices, true);
  assert.equal(ok(loadSettings([], { ENABLE_CLEANING_DUPLICATED_SERVICES: 'yes' })).settings.defaults.enableCleaningDuplicatedServices, true);
  const both = ok(loadSettings([], { ENABLE_CLEANING_DUPLICATED_SERVICES: 'yes', DEFAULT_ENABLE_DUPLICATED_SERVICES_REMOVING: 'TRUE' }));
  assert.equal(both.settings.defaults.enableCleaningDuplicatedServices, true);
  assert.equal(both.sources[row]?.name, 'ENABLE_CLEANING_DUPLICATED_SERVICES');
  const conflict = loadSettings([], { ENABLE_CLEANING_DUPLICATED_SERVICES: 'yes', DEFAULT_ENABLE_DUPLICATED_SERVICES_REMOVING: 'no' });
  assert.equal(conflict.ok, false);
  if (!conflict.ok) {
    assert.equal(conflict.errors[0]?.code, 'RM_CONFIG_CONFLICT');
    assert.match(conflict.errors[0]!.message, /ENABLE_CLEANING_DUPLICATED_SERVICES = "yes" and env DEFAULT_ENABLE_DUPLICATED_SERVICES_REMOVING = "no" disagree/);
  }
  // the switch overrides both
  const sw = ok(loadSettings(['--no-enable-cleaning-duplicated-services'], { ENABLE_CLEANING_DUPLICATED_SERVICES: 'yes', DEFAULT_ENABLE_DUPLICATED_SERVICES_REMOVING: 'no' }));
  assert.equal(sw.settings.defaults.enableCleaningDuplicatedServices, false);
});

test('cross-check: frame_size_in_seconds >= max_restarts_in_frame × seconds_between_restarts', () => {
  ok(loadSettings(['--frame-size-in-seconds=30', '--max-restarts-in-frame=2', '--seconds-between-restarts=15'], {})); // equal: fine
  ok(loadSettings(['--frame-size-in-seconds=0', '--max-restarts-in-frame=0'], {})); // no limit
  const r = loadSettings(['--frame-size-in-seconds=29'], { DEFAULT_MAX_RESTARTS_IN_FRAME: '2' });
  const msgs = errorsOf(r);
  assert.equal(msgs.length, 1);
  assert.equal(!r.ok && r.errors[0]?.code, 'RM_CONFIG_CONFLICT');
  assert.ok(msgs[0]!.includes('frame_size_in_seconds 29 (switch --frame-size-in-seconds)'), msgs[0]);
  assert.ok(msgs[0]!.includes('max_restarts_in_frame 2 (env DEFAULT_MAX_RESTARTS_IN_FRAME)'), msgs[0]);
  assert.ok(msgs[0]!.includes('seconds_between_restarts 15 (default)'), msgs[0]);
  assert.ok(msgs[0]!.includes('= 30'), msgs[0]);
  assert.ok(msgs[0]!.includes('expected frame_size_in_seconds >= max_restarts_in_frame × seconds_between_restarts'), msgs[0]);
});

test('cross-check: max_checks_to_give_up is 0 or >= max_restarts_in_frame', () => {
  ok(loadSettings(['--max-checks-to-give-up=0', '--max-restarts-in-frame=5', '--frame-size-in-seconds=600'], {}));
  ok(loadSettings(['--max-checks-to-give-up=5', '--max-restarts-in-frame=5', '--frame-size-in-seconds=600'], {}));
  const msgs = errorsOf(loadSettings(['--max-checks-to-give-up=1'], {}));
  assert.equal(msgs.length, 1);
  assert.ok(msgs[0]!.includes('max_checks_to_give_up 1 (switch --max-checks-to-give-up) < max_restarts_in_frame 2 (default)'), msgs[0]);
  // both broken at once: both reported
  assert.equal(errorsOf(loadSettings(['--max-checks-to-give-up=1', '--max-restarts-in-frame=30'], {})).length, 2);
});

test('a cross-check is not reported on top of an invalid value it reads', () => {
  const msgs = errorsOf(loadSettings(['--max-restarts-in-frame=lots'], { DEFAULT_FRAME_SIZE: '1' }));
  assert.equal(msgs.length, 1, msgs.join('\n'));
});

test('unknown switches: usage error with a suggestion', () => {
  const r = loadSettings(['--intervall=5', '--max-restart-in-frame', '3', '--zzzzzzzz'], {});
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.ok(r.errors.every((e) => e.code === 'RM_USAGE'));
  assert.match(r.errors[0]!.message, /unknown switch --intervall \(did you mean --interval\?\)/);
  assert.match(r.errors[1]!.message, /did you mean --max-restarts-in-frame\?/);
  assert.doesNotMatch(r.errors[2]!.message, /did you mean/);
  assert.match(formatConfigErrors(r.errors), /command-line errors/);
  // '3' after an unknown switch stays a positional; the unknown switch is an error anyway
});

test('a value switch without its value is a usage error', () => {
  assert.match(errorsOf(loadSettings(['--interval'], {}))[0]!, /--interval needs a value/);
  assert.match(errorsOf(loadSettings(['--namespace', '--debug'], {}))[0]!, /--namespace needs a value/);
  // but --x=--y is explicit
  assert.equal(ok(loadSettings(['--namespace=--odd'], {})).settings.namespace, '--odd');
  // and a negative number is taken as the value (then refused by the parser)
  assert.match(errorsOf(loadSettings(['--interval', '-5'], {}))[0]!, /interval: switch --interval = "-5" is not valid/);
});

test('positionals, -- and command switches', () => {
  const r = ok(loadSettings(['web', '--json', 'db', '--', '--debug'], {}, { commandSwitches: { json: 'boolean' } }));
  assert.deepEqual(r.positionals, ['web', 'db', '--debug']);
  assert.equal(r.options.json, true);
  assert.equal(r.settings.debug, false);
  assert.equal(ok(loadSettings(['--no-json'], {}, { commandSwitches: { json: 'boolean' } })).options.json, false);
  assert.equal(ok(loadSettings(['--limit', '5'], {}, { commandSwitches: { limit: 'value' } })).options.limit, '5');
  assert.match(errorsOf(loadSettings(['--json'], {}))[0]!, /unknown switch --json/);
  const p = parseArgv(['-x'], {});
  assert.match(p.errors[0]!.message, /unknown switch -x/);
});

test('environment: empty values are values (and numbers refuse them)', () => {
  const r = ok(loadSettings([], { NAMESPACE: '', DEFAULT_NOTIFY_URL: '', HTTP_PREFIX: '' }));
  assert.equal(r.settings.namespace, '');
  assert.equal(r.sources.namespace?.source, 'env');
  assert.deepEqual(r.settings.defaults.notifyUrls, []);
  assert.match(errorsOf(loadSettings([], { CHECK_INTERVAL: '' }))[0]!, /CHECK_INTERVAL = "" is not valid/);
});

test('external rows are reported with their source but not parsed', () => {
  const r = ok(loadSettings([], { TZ: 'Europe/Warsaw', DOCKER_HOST: 'tcp://10.0.0.1:2376' }));
  assert.deepEqual(r.sources.tz, { source: 'env', raw: 'Europe/Warsaw', name: 'TZ' });
  assert.equal(r.sources.docker_host?.raw, 'tcp://10.0.0.1:2376');
});

test('the seed compose example loads as written', () => {
  const r = ok(loadSettings([], { NAMESPACE: 'aarchive', ...SEED_ENV }));
  assert.equal(r.settings.namespace, 'aarchive');
  assert.equal(r.settings.defaults.frameSizeSec, 450);
  assert.equal(r.settings.defaults.enableCleaningDuplicatedServices, true);
  assert.equal(r.settings.defaults.notifyLevel, 'DEBUG');
});

test('loadSettings never reads process.env behind the caller\'s back', () => {
  process.env.CHECK_INTERVAL = 'garbage';
  try {
    ok(loadSettings([], {}));
  } finally {
    delete process.env.CHECK_INTERVAL;
  }
});

test('rows cover GlobalSettings and ContainerPolicy exactly', () => {
  const d = defaultSettings();
  assert.deepEqual(new Set(GLOBAL_ROWS.map((r) => r.field)), new Set(Object.keys(d).filter((k) => k !== 'defaults')));
  assert.deepEqual(new Set(POLICY_ROWS.map((r) => r.field)), new Set(Object.keys(d.defaults)));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_DOCKER_HOST } from '../docker/endpoint.js';
import { CROSS_CHECKS } from './cross-checks.js';
import { LABEL_PREFIX, POLICY_ROWS, ROW_BY_SWITCH, SETTINGS, defaultSettings } from './settings-table.js';

// docs/behaviour.md §1, transcribed: [key or switch, switch, env names, default as documented].
const CONTRACT_ROWS: [string | null, string | null, string[], string][] = [
  [null, '--debug', [], 'false'],
  [null, '--interval', ['CHECK_INTERVAL'], '30'],
  [null, '--namespace', ['NAMESPACE'], '""'],
  ['seconds_between_restarts', '--seconds-between-restarts', ['DEFAULT_SECONDS_BETWEEN_RESTARTS'], '15'],
  ['frame_size_in_seconds', '--frame-size-in-seconds', ['DEFAULT_FRAME_SIZE'], '300'],
  ['max_restarts_in_frame', '--max-restarts-in-frame', ['DEFAULT_MAX_RESTARTS_IN_FRAME'], '2'],
  ['seconds_between_next_frame', '--seconds-between-next-frame', ['DEFAULT_SECONDS_BETWEEN_NEXT_FRAME'], '600'],
  ['max_checks_to_give_up', '--max-checks-to-give-up', ['DEFAULT_MAX_CHECKS_TO_GIVE_UP'], '50'],
  ['max_historic_entries', '--max-historic-entries', ['DEFAULT_MAX_HISTORIC_ENTRIES'], '50'],
  ['enable_cleaning_duplicated_services', '--enable-cleaning-duplicated-services', ['ENABLE_CLEANING_DUPLICATED_SERVICES', 'DEFAULT_ENABLE_DUPLICATED_SERVICES_REMOVING'], 'false'],
  ['enable_autoheal', '--enable-autoheal', ['DEFAULT_ENABLE_AUTO_HEAL'], 'true'],
  ['heal_exited', '--heal-exited', ['DEFAULT_HEAL_EXITED'], 'true'],
  [null, '--heal-exited-lookback', ['DEFAULT_HEAL_EXITED_LOOKBACK'], '300'],
  ['stop_timeout', '--stop-timeout', ['DEFAULT_STOP_TIMEOUT'], '10'],
  ['notify_url', '--notify-url', ['DEFAULT_NOTIFY_URL'], '""'],
  ['notify_level', '--notify-level', ['DEFAULT_NOTIFY_LEVEL'], 'INFO'],
  ['on_unhealthy', '--on-unhealthy', ['DEFAULT_ON_UNHEALTHY'], 'restart'],
  ['unhealthy_for', '--unhealthy-for', ['DEFAULT_UNHEALTHY_FOR'], '0'],
  ['budget_mode', '--budget-mode', ['DEFAULT_BUDGET_MODE'], 'frames'],
  [null, '--post-action-command', ['POST_ACTION_COMMAND'], '""'],
  [null, '--http-address', ['HTTP_ADDRESS'], '127.0.0.1'], // docs/behaviour.md §1: the image sets 0.0.0.0,
  [null, '--http-port', ['HTTP_PORT'], '8080'],
  [null, '--http-prefix', ['HTTP_PREFIX'], '""'],
  [null, '--db-path', ['DB_PATH'], ':memory:'],
  [null, '--dry-run', ['DRY_RUN'], 'false'],
  [null, null, ['TZ'], 'system'],
  [null, null, ['DOCKER_HOST'], DEFAULT_DOCKER_HOST], // the docker CLI's default (src/docker/endpoint.ts)
];

test('every docs/behaviour.md §1 row is in the table, with its switch, env names, label and default', () => {
  for (const [key, sw, env, def] of CONTRACT_ROWS) {
    const row = sw ? ROW_BY_SWITCH.get(sw) : SETTINGS.find((r) => r.env[0] === env[0]);
    assert.ok(row, `missing ${sw ?? env[0]}`);
    assert.deepEqual([...row.env], env, `${sw}: env`);
    assert.equal(row.defaultText, def, `${sw}: default`);
    if (key) {
      assert.equal(row.scope, 'policy');
      assert.equal(row.key, key);
      assert.equal(row.scope === 'policy' && row.label, LABEL_PREFIX + key);
    } else assert.notEqual(row.scope, 'policy', `${sw ?? env[0]} must not be a label`);
  }
  const extra = SETTINGS.filter((r) => !CONTRACT_ROWS.some(([, sw, env]) => (sw ? r.switch === sw : r.env[0] === env[0])));
  // Beyond docs/behaviour.md §1 only declared extensions and the DOCKER_* companions of DOCKER_HOST.
  for (const r of extra) assert.ok(r.extension || r.key.startsWith('docker_'), `${r.key} is neither in docs/behaviour.md §1 nor marked as an extension`);
  assert.equal(ROW_BY_SWITCH.get('--parallelism')?.defaultText, '8');
});

test('keys, switches, env names and labels are unique', () => {
  const all = (xs: (string | undefined)[]): void => {
    const present = xs.filter((x): x is string => x !== undefined);
    assert.equal(new Set(present).size, present.length, present.join(', '));
  };
  all(SETTINGS.map((r) => r.key));
  all(SETTINGS.map((r) => r.switch));
  all(SETTINGS.flatMap((r) => [...r.env]));
  all(POLICY_ROWS.map((r) => r.label));
});

test('every default parses back from its documented text, and the defaults pass the cross-checks', () => {
  for (const row of SETTINGS) {
    if (row.scope === 'external') continue;
    const text = row.defaultText === '""' ? '' : row.defaultText;
    const parsed = row.parse(text);
    assert.ok(parsed.ok, row.key);
    assert.deepEqual(parsed.ok && parsed.value, row.default, row.key);
    assert.ok(row.description.length > 0 && row.expected.length > 0);
  }
  for (const check of CROSS_CHECKS) assert.ok(check.holds(defaultSettings().defaults), check.rule);
});

test('defaultSettings returns fresh objects', () => {
  const a = defaultSettings();
  a.defaults.notifyUrls.push('https://x.example/');
  assert.deepEqual(defaultSettings().defaults.notifyUrls, []);
});

test('only notify_url is secret, and it masks itself when shown', () => {
  assert.deepEqual(SETTINGS.filter((r) => r.secret).map((r) => r.key), ['notify_url']);
  const row = SETTINGS.find((r) => r.key === 'notify_url')!;
  assert.equal(row.show(['https://hooks.slack.com/services/T/B/SECRET', 'https://b.example/x?token=SECRET']), 'https://hooks.slack.com/***, https://b.example/***');
});

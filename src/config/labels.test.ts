import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeLabels } from './labels.js';
import { LABEL_PREFIX, POLICY_ROWS, defaultSettings } from './settings-table.js';
import type { ContainerPolicy } from './types.js';

const L = (key: string): string => LABEL_PREFIX + key;
const globals = (): ContainerPolicy => ({ ...defaultSettings().defaults, notifyUrls: ['https://global.example/hook/SECRET'] });

/** A valid label value per key, its parsed value, and an invalid one. */
const SAMPLES: Record<string, { valid: [string, unknown]; invalid: string }> = {
  seconds_between_restarts: { valid: ['1m', 60], invalid: '-1' },
  frame_size_in_seconds: { valid: ['1h', 3600], invalid: 'long' },
  max_restarts_in_frame: { valid: ['3', 3], invalid: '3.5' },
  seconds_between_next_frame: { valid: ['900', 900], invalid: '' },
  max_checks_to_give_up: { valid: ['0', 0], invalid: 'never' },
  max_historic_entries: { valid: ['5', 5], invalid: '1e9' },
  enable_cleaning_duplicated_services: { valid: ['yes', true], invalid: 'ja' },
  enable_autoheal: { valid: ['FALSE', false], invalid: 'tru' },
  heal_exited: { valid: ['off', false], invalid: 'yes please' },
  stop_timeout: { valid: ['2m', 120], invalid: '-10' },
  // On the global URL's origin: a label may pick another channel on a server the admin trusts (docs/behaviour.md §5).
  notify_url: { valid: ['https://global.example/x, https://global.example/y', ['https://global.example/x', 'https://global.example/y']], invalid: 'ftp://c.example/SECRET' },
  notify_level: { valid: ['warning', 'WARNING'], invalid: 'all' },
  depends_on: { valid: ['vpn, /db db', ['vpn', 'db']], invalid: 'vpn,$(rm -rf)' },
  recreate_dependents: { valid: ['no', false], invalid: 'maybe' },
  on_unhealthy: { valid: [' Stop ', 'stop'], invalid: 'reboot' },
  unhealthy_for: { valid: ['2m', 120], invalid: 'a while' },
  budget_mode: { valid: ['BACKOFF', 'backoff'], invalid: 'kubernetes' },
};

test('every per-container row has a label and samples here', () => {
  for (const row of POLICY_ROWS) {
    assert.equal(row.label, L(row.key));
    assert.ok(SAMPLES[row.key], `no sample for ${row.key}`);
  }
});

test('no labels, null, undefined or foreign labels: the global policy, no problems', () => {
  const g = globals();
  for (const labels of [null, undefined, {}, <Record<string, string>>{ 'com.docker.compose.project': 'x', 'org.riotkit.other': 'y', 'org.riotkit.repairmanx': '1' }]) {
    const d = decodeLabels('web', labels, g);
    assert.deepEqual(d.policy, g);
    assert.deepEqual(d.problems, []);
    assert.deepEqual(d.fromLabels, []);
  }
});

test('every row: a valid label overrides the global value', () => {
  for (const row of POLICY_ROWS) {
    const s = SAMPLES[row.key]!;
    const d = decodeLabels('web', { [row.label]: s.valid[0] }, globals());
    assert.deepEqual(d.problems, [], row.key);
    assert.deepEqual(d.policy[row.field], s.valid[1], row.key);
    assert.deepEqual(d.fromLabels, [row.field]);
    // nothing else changed
    for (const other of POLICY_ROWS) if (other !== row) assert.deepEqual(d.policy[other.field], globals()[other.field]);
  }
});

test('every row: a bad label keeps the global value (false for enable_autoheal and heal_exited), with a problem', () => {
  for (const row of POLICY_ROWS) {
    const s = SAMPLES[row.key]!;
    const d = decodeLabels('web', { [row.label]: s.invalid }, globals());
    assert.equal(d.problems.length, 1, row.key);
    const p = d.problems[0]!;
    const falseOnError = row.key === 'enable_autoheal' || row.key === 'heal_exited';
    assert.deepEqual(d.policy[row.field], falseOnError ? false : globals()[row.field], row.key);
    assert.equal(p.code, 'RM_LABEL_INVALID');
    assert.equal(p.container, 'web');
    assert.equal(p.label, row.label);
    assert.ok(p.expected.startsWith(row.expected), p.expected);
    assert.equal(p.fallback, falseOnError ? 'false' : `${row.show(globals()[row.field])} (global)`);
    if (row.secret) {
      assert.equal(p.value, 'ftp://c.example/***');
      assert.ok(!JSON.stringify(d.problems).includes('SECRET'), JSON.stringify(d.problems));
      assert.equal(p.fallback, 'https://global.example/*** (global)');
    } else {
      assert.equal(p.value, s.invalid);
    }
    assert.deepEqual(d.fromLabels, []);
  }
});

test('opt-in mode: global false + label true heals; a bad label never turns healing on', () => {
  const g = { ...globals(), enableAutoheal: false, healExited: false };
  assert.equal(decodeLabels('a', { [L('enable_autoheal')]: 'true' }, g).policy.enableAutoheal, true);
  assert.equal(decodeLabels('a', { [L('enable_autoheal')]: ' Yes ' }, g).policy.enableAutoheal, true);
  assert.equal(decodeLabels('a', { [L('enable_autoheal')]: 'truee' }, g).policy.enableAutoheal, false);
  assert.equal(decodeLabels('a', { [L('enable_autoheal')]: 'truee' }, globals()).policy.enableAutoheal, false);
  assert.equal(decodeLabels('a', { [L('heal_exited')]: '' }, globals()).policy.healExited, false);
});

test('an empty notify_url label silences that container; a bad one keeps the global URLs', () => {
  assert.deepEqual(decodeLabels('a', { [L('notify_url')]: '' }, globals()).policy.notifyUrls, []);
  assert.deepEqual(decodeLabels('a', { [L('notify_url')]: 'nope' }, globals()).policy.notifyUrls, globals().notifyUrls);
});

test('unknown keys: reported with a did-you-mean, otherwise ignored', () => {
  const d = decodeLabels('web', {
    [L('enable_autohael')]: 'true',
    [L('autoheal')]: 'true',
    [L('max-restarts-in-frame')]: '3',
    [L('Enable_Autoheal')]: 'true',
    [L('completely_unrelated_thing')]: 'x',
    [L('')]: 'x',
  }, globals());
  assert.deepEqual(d.policy, globals());
  const by = Object.fromEntries(d.problems.map((p) => [p.label, p]));
  assert.equal(d.problems.length, 6);
  for (const p of d.problems) {
    assert.equal(p.code, 'RM_LABEL_UNKNOWN');
    assert.equal(p.fallback, 'ignored');
  }
  assert.equal(by[L('enable_autohael')]?.suggestion, L('enable_autoheal'));
  assert.match(by[L('enable_autohael')]!.expected, /did you mean org\.riotkit\.repairman\.enable_autoheal\?/);
  assert.equal(by[L('autoheal')]?.suggestion, L('enable_autoheal'));
  assert.equal(by[L('max-restarts-in-frame')]?.suggestion, L('max_restarts_in_frame'));
  assert.equal(by[L('Enable_Autoheal')]?.suggestion, L('enable_autoheal'));
  assert.equal(by[L('completely_unrelated_thing')]?.suggestion, undefined);
});

test('an unknown key (a typo of notify_url) never shows the URL it holds', () => {
  const d = decodeLabels('web', { [L('notify_urll')]: 'https://hooks.slack.com/services/T0/B0/s3cretT0ken' }, globals());
  assert.equal(d.problems.length, 1);
  assert.equal(d.problems[0]!.suggestion, L('notify_url'));
  assert.equal(d.problems[0]!.value, 'https://hooks.slack.com/***');
  assert.doesNotMatch(JSON.stringify(d.problems), /s3cretT0ken/);
});

test('global-only keys on a label say where to set them', () => {
  const d = decodeLabels('web', { [L('interval')]: '5', [L('http_port')]: '1' }, globals());
  assert.equal(d.problems.length, 2);
  assert.match(d.problems[0]!.expected, /interval is a global setting.*--interval or CHECK_INTERVAL/);
  assert.equal(d.problems[0]!.code, 'RM_LABEL_UNKNOWN');
});

test('cross-check on the merged policy: the offending labels fall back to the global values', () => {
  // 30 restarts × 15 s > 300 s frame
  let d = decodeLabels('web', { [L('max_restarts_in_frame')]: '30', [L('stop_timeout')]: '3' }, globals());
  assert.equal(d.policy.maxRestartsInFrame, 2);
  assert.equal(d.policy.stopTimeoutSec, 3, 'unrelated labels still apply');
  assert.deepEqual(d.fromLabels, ['stopTimeoutSec']);
  assert.equal(d.problems.length, 1);
  assert.equal(d.problems[0]!.label, L('max_restarts_in_frame'));
  assert.equal(d.problems[0]!.value, '30');
  assert.equal(d.problems[0]!.fallback, '2 (global)');
  assert.match(d.problems[0]!.expected, /frame_size_in_seconds 300 \(global\) < max_restarts_in_frame 30 \(label\) × seconds_between_restarts 15 \(global\) = 450/);

  // all three from labels, together inconsistent: all three fall back
  d = decodeLabels('web', { [L('max_restarts_in_frame')]: '3', [L('seconds_between_restarts')]: '60', [L('frame_size_in_seconds')]: '120' }, globals());
  assert.deepEqual([d.policy.maxRestartsInFrame, d.policy.secondsBetweenRestarts, d.policy.frameSizeSec], [2, 15, 300]);
  assert.equal(d.problems.length, 3);

  // consistent labels are fine
  d = decodeLabels('web', { [L('max_restarts_in_frame')]: '10', [L('frame_size_in_seconds')]: '150' }, globals());
  assert.deepEqual(d.problems, []);
  assert.equal(d.policy.maxRestartsInFrame, 10);

  // max_checks_to_give_up below max_restarts_in_frame
  d = decodeLabels('web', { [L('max_checks_to_give_up')]: '1' }, globals());
  assert.equal(d.policy.maxChecksToGiveUp, 50);
  assert.match(d.problems[0]!.expected, /max_checks_to_give_up is 0 or >= max_restarts_in_frame; here max_checks_to_give_up 1 \(label\) < max_restarts_in_frame 2 \(global\)/);

  // reverting for one rule may break the other: checked again until consistent
  d = decodeLabels('web', { [L('max_restarts_in_frame')]: '1', [L('max_checks_to_give_up')]: '1', [L('frame_size_in_seconds')]: '10' }, globals());
  assert.deepEqual([d.policy.maxRestartsInFrame, d.policy.maxChecksToGiveUp, d.policy.frameSizeSec], [2, 50, 300]);
  assert.equal(d.problems.length, 3);
});

test('globals that already break a rule are not blamed on the labels', () => {
  const g = { ...globals(), frameSizeSec: 1 };
  const d = decodeLabels('web', { [L('stop_timeout')]: '3' }, g);
  assert.deepEqual(d.problems, []);
});

test('the defaults object is never modified', () => {
  const g = globals();
  const copy = structuredClone(g);
  decodeLabels('web', { [L('max_restarts_in_frame')]: '10', [L('enable_autoheal')]: 'bad', [L('notify_url')]: 'https://x.example/1' }, g);
  assert.deepEqual(g, copy);
});

test('odd input never throws: non-string values, huge values, prototype keys', () => {
  const labels = JSON.parse('{"__proto__": "x", "org.riotkit.repairman.__proto__": "1", "org.riotkit.repairman.constructor": "1"}') as Record<string, string>;
  (labels as Record<string, unknown>)[L('stop_timeout')] = 5;
  (labels as Record<string, unknown>)[L('enable_autoheal')] = { toString: () => { throw new Error('boom'); } };
  labels[L('notify_level')] = 'x'.repeat(100_000);
  const d = decodeLabels('web', labels, globals());
  assert.equal(d.policy.stopTimeoutSec, 5);
  assert.equal(d.policy.enableAutoheal, false);
  const long = d.problems.find((p) => p.label === L('notify_level'));
  assert.ok(long && long.value.length <= 201);
});

test('notify_url labels: only origins the admin trusts, never the engine\'s host, at most 5 URLs (docs/behaviour.md §5)', () => {
  const g = globals(); // global URL on https://global.example
  const urlLabel = (v: string, ctx = {}) => decodeLabels('web', { [L('notify_url')]: v }, g, ctx);
  // Refused: anywhere Repairman can reach that the admin did not name.
  for (const bad of [
    'http://169.254.169.254/latest/meta-data/',
    'http://[::1]:2375/v1.41/containers/victim/kill',
    'http://0x7f000001:2375/v1.41/containers/victim/kill',
    'http://socket-proxy:2375/v1.41/containers/victim/kill',
    'https://global.example:8443/x', // another port is another origin
    'http://global.example/x', // another scheme too
    'json+https://evil.example/x',
  ]) {
    const d = urlLabel(bad);
    assert.deepEqual(d.policy.notifyUrls, g.notifyUrls, bad);
    assert.equal(d.problems.length, 1, bad);
    assert.match(d.problems[0]!.expected, /origin/, bad);
    assert.deepEqual(d.fromLabels, []);
  }
  // Allowed: the global URLs' origin (any path, a format prefix), or one in --label-notify-origins.
  assert.deepEqual(urlLabel('json+https://global.example/other/channel').policy.notifyUrls, ['json+https://global.example/other/channel']);
  assert.deepEqual(urlLabel('http://apprise:8000/notify/team', { notifyOrigins: ['http://apprise:8000'] }).problems, []);
  // Never the Docker endpoint's host, even when allowed otherwise.
  const onEngine = urlLabel('http://docker-proxy:8000/notify/x', { notifyOrigins: ['http://docker-proxy:8000'], engineHost: 'docker-proxy' });
  assert.match(onEngine.problems[0]?.expected ?? '', /Docker endpoint/);
  // At most 5 URLs in one label.
  const six = Array.from({ length: 6 }, (_, i) => `https://global.example/h${i}`).join(',');
  assert.match(urlLabel(six).problems[0]?.expected ?? '', /at most 5 URLs/);
  assert.equal(urlLabel(six.split(',').slice(0, 5).join(',')).policy.notifyUrls.length, 5);
  // A bad label never receives the configuration-error notification: the container keeps the global URLs.
  assert.deepEqual(urlLabel('http://169.254.169.254/x').policy.notifyUrls, ['https://global.example/hook/SECRET']);
});

test('engineHostOf: the host of a tcp:// or ssh:// DOCKER_HOST, null for a socket', async () => {
  const { engineHostOf } = await import('./labels.js');
  assert.equal(engineHostOf('tcp://socket-proxy:2375'), 'socket-proxy');
  assert.equal(engineHostOf('ssh://deploy@builder.example:22'), 'builder.example');
  assert.equal(engineHostOf('tcp://[::1]:2375'), '::1');
  assert.equal(engineHostOf('unix:///tmp/engine/docker.sock'), null);
  assert.equal(engineHostOf(undefined), null);
});

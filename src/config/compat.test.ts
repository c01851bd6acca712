// docs/behaviour.md §11: willfarrell/docker-autoheal's and deunhealth's variables and labels, as lower
// sources of Repairman's own settings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeLabels } from './labels.js';
import { formatConfigErrors, loadSettings, type LoadResult } from './load.js';

function ok(r: LoadResult): Extract<LoadResult, { ok: true }> {
  assert.ok(r.ok, r.ok ? '' : formatConfigErrors(r.errors));
  return r;
}

test('no AUTOHEAL_* variable: willfarrell rules off, Repairman defaults', () => {
  const r = ok(loadSettings([], {}));
  assert.equal(r.settings.autohealLabel, '');
  assert.equal(r.settings.defaults.enableAutoheal, true);
  assert.equal(r.sources.enable_autoheal?.source, 'default');
});

test('any AUTOHEAL_* variable: label mode with the default label autoheal (global opt-in)', () => {
  const r = ok(loadSettings([], { AUTOHEAL_INTERVAL: '5' }));
  assert.equal(r.settings.autohealLabel, 'autoheal');
  assert.equal(r.settings.defaults.enableAutoheal, false);
  assert.deepEqual(r.sources.enable_autoheal, { source: 'compat env', raw: 'false', name: 'AUTOHEAL_* (label default autoheal)' });
  assert.equal(r.settings.intervalSec, 5);
  assert.deepEqual(r.sources.interval, { source: 'compat env', raw: '5', name: 'AUTOHEAL_INTERVAL' });
});

test('AUTOHEAL_CONTAINER_LABEL=all heals every container by default', () => {
  const r = ok(loadSettings([], { AUTOHEAL_CONTAINER_LABEL: 'all' }));
  assert.equal(r.settings.autohealLabel, 'all');
  assert.equal(r.settings.defaults.enableAutoheal, true);
});

test("Repairman's own names win over the compatible ones", () => {
  const env = {
    AUTOHEAL_CONTAINER_LABEL: 'all', DEFAULT_ENABLE_AUTO_HEAL: 'false', AUTOHEAL_INTERVAL: '5', CHECK_INTERVAL: '40',
    AUTOHEAL_DEFAULT_STOP_TIMEOUT: '20', CURL_TIMEOUT: '45', AUTOHEAL_START_PERIOD: '7',
  };
  const r = ok(loadSettings(['--stop-timeout', '3'], env));
  assert.equal(r.settings.defaults.enableAutoheal, false);
  assert.equal(r.sources.enable_autoheal?.source, 'env');
  assert.equal(r.settings.intervalSec, 40);
  assert.equal(r.settings.defaults.stopTimeoutSec, 3);
  assert.equal(r.sources.stop_timeout?.source, 'switch');
  assert.equal(r.settings.apiTimeoutSec, 45);
  assert.equal(r.settings.startPeriodSec, 7);
  const r2 = ok(loadSettings([], { ...env, API_TIMEOUT: '12', START_PERIOD: '0' }));
  assert.equal(r2.settings.apiTimeoutSec, 12);
  assert.equal(r2.settings.startPeriodSec, 0);
});

test('AUTOHEAL_ONLY_MONITOR_RUNNING: anything but false means crashed containers are not started', () => {
  assert.equal(ok(loadSettings([], { AUTOHEAL_ONLY_MONITOR_RUNNING: 'true' })).settings.defaults.healExited, false);
  assert.equal(ok(loadSettings([], { AUTOHEAL_ONLY_MONITOR_RUNNING: 'false' })).settings.defaults.healExited, true);
  assert.equal(ok(loadSettings([], { AUTOHEAL_ONLY_MONITOR_RUNNING: 'true', DEFAULT_HEAL_EXITED: 'true' })).settings.defaults.healExited, true);
});

test('WEBHOOK_URL (+ WEBHOOK_JSON_KEY, default content) and APPRISE_URL become notify URLs; shown masked', () => {
  const r = ok(loadSettings([], { WEBHOOK_URL: 'https://discord.example/api/webhooks/1/SECRET', APPRISE_URL: 'http://apprise:8000/notify/KEY' }));
  assert.deepEqual(r.settings.defaults.notifyUrls, ['field.content+https://discord.example/api/webhooks/1/SECRET', 'apprise+http://apprise:8000/notify/KEY']);
  assert.equal(r.sources.notify_url?.source, 'compat env');
  assert.equal(r.sources.notify_url?.name, 'WEBHOOK_URL, APPRISE_URL');
  // willfarrell sends one message per restart: restarts are DEBUG notifications here.
  assert.equal(r.settings.defaults.notifyLevel, 'DEBUG');
  assert.equal(ok(loadSettings([], { WEBHOOK_URL: 'https://x.example/h', DEFAULT_NOTIFY_LEVEL: 'warning' })).settings.defaults.notifyLevel, 'WARNING');
  assert.ok(!JSON.stringify(r.sources).includes('SECRET') && !JSON.stringify(r.sources).includes('KEY'));
  const k = ok(loadSettings([], { WEBHOOK_URL: 'https://chat.example/hook', WEBHOOK_JSON_KEY: 'text' }));
  assert.deepEqual(k.settings.defaults.notifyUrls, ['field.text+https://chat.example/hook']);
  const own = ok(loadSettings([], { WEBHOOK_URL: 'https://chat.example/hook', DEFAULT_NOTIFY_URL: 'https://mine.example/x' }));
  assert.deepEqual(own.settings.defaults.notifyUrls, ['https://mine.example/x']);
});

test('deunhealth LOG_LEVEL=debug turns debug on; HEALTH_SERVER_ADDRESS is accepted', () => {
  const r = ok(loadSettings([], { LOG_LEVEL: 'debug', HEALTH_SERVER_ADDRESS: '127.0.0.1:9999' }));
  assert.equal(r.settings.debug, true);
  assert.deepEqual(r.sources.health_server_address, { source: 'env', raw: '127.0.0.1:9999', name: 'HEALTH_SERVER_ADDRESS' });
  assert.equal(ok(loadSettings([], { LOG_LEVEL: 'info' })).settings.debug, false);
});

test('a bad compatible value is a configuration error naming the variable', () => {
  const r = loadSettings([], { AUTOHEAL_INTERVAL: 'often' });
  assert.equal(r.ok, false);
  assert.match(formatConfigErrors(r.ok ? [] : r.errors), /interval: compat env AUTOHEAL_INTERVAL = "often" is not valid/);
});

const defaults = () => ok(loadSettings([], {})).settings.defaults;
const optIn = () => ({ ...defaults(), enableAutoheal: false });

test('label mode: autoheal=true heals (any case, quoted too); absent or false does not', () => {
  const c = { autohealLabel: 'autoheal' };
  for (const v of ['true', 'True', 'TRUE', '"true"', ' true ']) assert.equal(decodeLabels('a', { autoheal: v }, optIn(), c).policy.enableAutoheal, true, v);
  assert.equal(decodeLabels('a', {}, optIn(), c).policy.enableAutoheal, false);
  assert.equal(decodeLabels('a', { autoheal: 'false' }, optIn(), c).policy.enableAutoheal, false);
  assert.deepEqual(decodeLabels('a', { autoheal: 'true' }, optIn(), c).compatFrom, { enableAutoheal: 'autoheal' });
});

test('a custom AUTOHEAL_CONTAINER_LABEL is the one read', () => {
  const c = { autohealLabel: 'heal.me' };
  assert.equal(decodeLabels('a', { 'heal.me': 'true' }, optIn(), c).policy.enableAutoheal, true);
  assert.equal(decodeLabels('a', { autoheal: 'true' }, optIn(), c).policy.enableAutoheal, false);
});

test('all: every container but those with autoheal=false in any case', () => {
  const c = { autohealLabel: 'all' };
  const g = defaults();
  assert.equal(decodeLabels('a', {}, g, c).policy.enableAutoheal, true);
  for (const v of ['false', 'False', 'FALSE', "'false'", 'no', '0']) assert.equal(decodeLabels('a', { autoheal: v }, g, c).policy.enableAutoheal, false, v);
  assert.equal(decodeLabels('a', { autoheal: 'true' }, g, c).policy.enableAutoheal, true);
});

test('a bad willfarrell label value never heals, and is a label problem', () => {
  const d = decodeLabels('a', { autoheal: 'flase' }, defaults(), { autohealLabel: 'all' });
  assert.equal(d.policy.enableAutoheal, false);
  assert.equal(d.problems.length, 1);
  assert.equal(d.problems[0]?.label, 'autoheal');
  assert.equal(d.problems[0]?.fallback, 'false');
});

test('autoheal=false is honoured even without any AUTOHEAL_* variable; autoheal=true then changes nothing', () => {
  assert.equal(decodeLabels('a', { autoheal: 'False' }, defaults()).policy.enableAutoheal, false);
  assert.equal(decodeLabels('a', { autoheal: 'true' }, optIn()).policy.enableAutoheal, false);
  assert.equal(decodeLabels('a', { autoheal: 'whatever' }, defaults()).problems.length, 0);
});

test("our own enable_autoheal label wins over willfarrell's and deunhealth's", () => {
  const own = 'org.riotkit.repairman.enable_autoheal';
  assert.equal(decodeLabels('a', { [own]: 'true', autoheal: 'false' }, defaults(), { autohealLabel: 'all' }).policy.enableAutoheal, true);
  assert.equal(decodeLabels('a', { [own]: 'false', 'deunhealth.restart.on.unhealthy': 'true' }, defaults()).policy.enableAutoheal, false);
});

test('deunhealth.restart.on.unhealthy=true opts in whatever the global setting; an explicit autoheal=false wins', () => {
  const d = decodeLabels('a', { 'deunhealth.restart.on.unhealthy': 'true' }, optIn());
  assert.equal(d.policy.enableAutoheal, true);
  assert.deepEqual(d.compatFrom, { enableAutoheal: 'deunhealth.restart.on.unhealthy' });
  assert.equal(decodeLabels('a', { 'deunhealth.restart.on.unhealthy': 'true' }, optIn(), { autohealLabel: 'autoheal' }).policy.enableAutoheal, true);
  assert.equal(decodeLabels('a', { 'deunhealth.restart.on.unhealthy': 'false' }, optIn()).policy.enableAutoheal, false);
  assert.equal(decodeLabels('a', { 'deunhealth.restart.on.unhealthy': 'true', autoheal: 'false' }, defaults(), { autohealLabel: 'all' }).policy.enableAutoheal, false);
});

test('autoheal.stop.timeout sets the stop timeout below our own stop_timeout label', () => {
  assert.equal(decodeLabels('a', { 'autoheal.stop.timeout': '30' }, defaults()).policy.stopTimeoutSec, 30);
  assert.equal(decodeLabels('a', { 'autoheal.stop.timeout': '30', 'org.riotkit.repairman.stop_timeout': '5' }, defaults()).policy.stopTimeoutSec, 5);
  const bad = decodeLabels('a', { 'autoheal.stop.timeout': 'ten' }, defaults());
  assert.equal(bad.policy.stopTimeoutSec, 10);
  assert.equal(bad.problems[0]?.label, 'autoheal.stop.timeout');
});

test('repairman config: each compatible variable read is shown with its source, secrets masked', async () => {
  const { describeSettings } = await import('../commands/config.js');
  const env = { AUTOHEAL_CONTAINER_LABEL: 'all', WEBHOOK_URL: 'https://chat.example/hooks/SECRET', DOCKER_SOCK: '/run/docker.sock', CURL_TIMEOUT: '40' };
  const r = ok(loadSettings([], env));
  const entries = describeSettings(r.settings, r.sources, env);
  const of = (key: string) => entries.find((e) => e.key === key);
  assert.deepEqual([of('autoheal_label')?.source, of('autoheal_label')?.from, of('autoheal_label')?.shown], ['compat env', 'AUTOHEAL_CONTAINER_LABEL', 'all']);
  assert.deepEqual([of('api_timeout')?.source, of('api_timeout')?.from], ['compat env', 'CURL_TIMEOUT']);
  assert.deepEqual([of('docker_host')?.source, of('docker_host')?.from], ['compat env', 'DOCKER_SOCK']);
  assert.deepEqual([of('notify_url')?.source, of('notify_url')?.from], ['compat env', 'WEBHOOK_URL']);
  assert.ok(!JSON.stringify(entries).includes('SECRET'));
});

test('a field.<key>+ URL on a label is held to the same origins as any other label URL', () => {
  const g = { ...defaults(), notifyUrls: ['https://global.example/hook'] };
  const bad = decodeLabels('web', { 'org.riotkit.repairman.notify_url': 'field.text+https://evil.example/x' }, g);
  assert.deepEqual(bad.policy.notifyUrls, g.notifyUrls);
  assert.match(bad.problems[0]?.expected ?? '', /origin/);
  const good = decodeLabels('web', { 'org.riotkit.repairman.notify_url': 'field.text+https://global.example/other' }, g);
  assert.deepEqual(good.policy.notifyUrls, ['field.text+https://global.example/other']);
});

// Level filtering and per-container routing over real HTTP: requests arrive only where they are due.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeLabels } from '../../src/config/labels.js';
import { loadSettings } from '../../src/config/load.js';
import type { NotifyLevel } from '../../src/notify/levels.js';
import type { JournalKind } from '../../src/journal/types.js';
import { silentLogger } from '../../src/log.js';
import { MetricsRegistry } from '../../src/metrics/registry.js';
import { severityOf } from '../../src/notify/levels.js';
import { createNotifier } from '../../src/notify/notifier.js';
import type { NotifyEvent } from '../../src/notify/types.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

// docs/behaviour.md §5: event, sent at DEBUG / INFO / WARNING.
const TABLE: [JournalKind, boolean, boolean, boolean][] = [
  ['restart', true, false, false],
  ['duplicate_removed', true, false, false],
  ['multiple_failures', true, true, false],
  ['recovered', true, true, false],
  ['longer_wait', true, true, true],
  ['give_up', true, true, true],
  ['restart_failed', true, true, true],
  ['config_error', true, true, true],
];

function event(kind: JournalKind, container: string, urls: string[], level: NotifyLevel | string): NotifyEvent {
  return { kind, severity: severityOf(kind), container, host: 'h', atMs: Date.now(), summary: `${kind} of ${container}`, reason: `row ${kind}`, urls, level: level as NotifyLevel };
}

function kindsIn(rx: Receiver): string[] {
  return rx.requests.map((r) => /\*\*What happened:\*\* (\w+) of/.exec((r.json() as { text: string }).text)?.[1] ?? '?');
}

test('the level table of docs/behaviour.md §5, row by row, against three receivers (one per level)', async (t) => {
  const rx = { DEBUG: await startReceiver(), INFO: await startReceiver(), WARNING: await startReceiver() };
  const n = createNotifier({ log: silentLogger, metrics: new MetricsRegistry() });
  t.after(async () => {
    await n.close();
    for (const r of Object.values(rx)) await r.close();
  });
  for (const [kind, atDebug, atInfo, atWarning] of TABLE) {
    await t.test(`${kind}: DEBUG=${atDebug} INFO=${atInfo} WARNING=${atWarning}`, async () => {
      const before = { DEBUG: rx.DEBUG.requests.length, INFO: rx.INFO.requests.length, WARNING: rx.WARNING.requests.length };
      // Levels in any case (and ERROR for WARNING) as labels may write them.
      n.send(event(kind, 'c1', [rx.DEBUG.url('/hooks/d')], 'debug'));
      n.send(event(kind, 'c1', [rx.INFO.url('/hooks/i')], 'Info'));
      n.send(event(kind, 'c1', [rx.WARNING.url('/hooks/w')], 'ERROR'));
      await n.idle();
      assert.equal(rx.DEBUG.requests.length - before.DEBUG, atDebug ? 1 : 0, 'DEBUG');
      assert.equal(rx.INFO.requests.length - before.INFO, atInfo ? 1 : 0, 'INFO');
      assert.equal(rx.WARNING.requests.length - before.WARNING, atWarning ? 1 : 0, 'WARNING');
    });
  }
  assert.deepEqual(kindsIn(rx.WARNING), ['longer_wait', 'give_up', 'restart_failed', 'config_error']);
});

test('per-container routing from labels: each container\'s URLs and level, the global ones for the rest', async (t) => {
  const global = await startReceiver();
  const teamA = await startReceiver();
  const teamB = await startReceiver();
  const n = createNotifier({ log: silentLogger, metrics: new MetricsRegistry() });
  t.after(async () => {
    await n.close();
    for (const r of [global, teamA, teamB]) await r.close();
  });
  const loaded = loadSettings(['--notify-url', global.url('/hooks/global'), '--notify-level', 'WARNING'], {});
  assert.ok(loaded.ok);
  const defaults = loaded.settings.defaults;
  // The teams' servers are origins the admin allows for labels (docs/behaviour.md §5).
  const ctx = { notifyOrigins: [new URL(teamA.url('/')).origin, new URL(teamB.url('/')).origin] };
  // What the healer does: decode the labels, route with the container's resolved policy.
  const policies = {
    'app-a': decodeLabels('app-a', { 'org.riotkit.repairman.notify_url': teamA.url('/hooks/a'), 'org.riotkit.repairman.notify_level': 'debug' }, defaults, ctx).policy,
    'app-b': decodeLabels('app-b', {
      'org.riotkit.repairman.notify_url': `${teamB.url('/hooks/b')}, ${global.url('/hooks/global')}`,
      'org.riotkit.repairman.notify_level': 'INFO',
    }, defaults, ctx).policy,
    plain: decodeLabels('plain', {}, defaults).policy,
  };
  for (const [name, p] of Object.entries(policies)) {
    for (const kind of ['restart', 'recovered', 'give_up'] as const) n.send(event(kind, name, p.notifyUrls, p.notifyLevel));
  }
  await n.idle();
  const seen = (rx: Receiver): string[] => rx.requests.map((r) => /\*\*What happened:\*\* (\w+ of [\w-]+)/.exec((r.json() as { text: string }).text)?.[1] ?? '?').sort();
  assert.deepEqual(seen(teamA), ['give_up of app-a', 'recovered of app-a', 'restart of app-a']);
  assert.deepEqual(seen(teamB), ['give_up of app-b', 'recovered of app-b']);
  assert.deepEqual(seen(global), ['give_up of app-b', 'give_up of plain', 'recovered of app-b']);
  assert.ok(teamA.requests.every((r) => r.path === '/hooks/a'));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultSettings } from '../config/settings-table.js';
import type { ContainerSummary, EngineApi } from '../docker/types.js';
import { checkLabels, containerName, formatReport, reportJson } from './check-labels.js';

const P = 'org.riotkit.repairman.';

function summary(name: string, labels: Record<string, string>, extra: Partial<ContainerSummary> = {}): ContainerSummary {
  return { Id: `${name.replace(/[^a-f0-9]/g, 'a')}${'0'.repeat(64)}`.slice(0, 64), Names: [`/${name}`], Image: 'x', Created: 0, State: 'running', Status: 'Up', Labels: labels, ...extra };
}

function fakeEngine(list: ContainerSummary[]): Pick<EngineApi, 'listContainers'> & { calls: unknown[] } {
  const calls: unknown[] = [];
  return {
    calls,
    listContainers: async (opts) => {
      calls.push(opts);
      return list;
    },
  };
}

const defaults = { ...defaultSettings().defaults, notifyUrls: ['https://global.example/SECRET'] };

test('lists all containers (all states), decodes each, counts problems', async () => {
  const engine = fakeEngine([
    summary('p-web', { [`${P}enable_autoheal`]: 'maybe', [`${P}max_restarts_in_frame`]: '3' }),
    summary('p-db', { [`${P}stop_timeout`]: '30' }, { State: 'exited' }),
    summary('other', { [`${P}bogus`]: 'x' }),
  ]);
  const report = await checkLabels(engine, { defaults, namespace: 'p-', names: [] });
  assert.deepEqual((engine.calls[0] as { all: boolean }).all, true);
  assert.deepEqual(report.containers.map((c) => c.name), ['p-db', 'p-web']);
  assert.equal(report.problemCount, 1);
  const web = report.containers[1]!;
  assert.equal(web.policy.enableAutoheal, false);
  assert.equal(web.policy.maxRestartsInFrame, 3);
  assert.deepEqual(web.fromLabels, ['maxRestartsInFrame']);
  const text = formatReport(report);
  assert.match(text, /^p-db \(exited\): ok$/m);
  assert.match(text, /^p-web \(running\): 1 problem$/m);
  assert.match(text, /bad label org\.riotkit\.repairman\.enable_autoheal="maybe": expected true\/false.*; using false \[RM_LABEL_INVALID\]/);
  assert.match(text, /max_restarts_in_frame=3 \(label\)/);
  assert.match(text, /stop_timeout=30 \(label\)/);
  assert.match(text, /2 containers checked, 1 problem$/m);
  // Each container reported points to `explain` for what its settings mean (issue 19).
  assert.match(text, /^p-db \(exited\): ok\n {2}settings: .*\n {2}whether and why it is healed: repairman explain p-db$/m);
  assert.match(text, /^ {2}whether and why it is healed: repairman explain p-web$/m);
  assert.ok(!text.includes('SECRET') && !reportJson(report).includes('SECRET'));
  assert.match(text, /notify_url=https:\/\/global\.example\/\*\*\*/);
});

test('NAMEs select containers (by name or id prefix); unknown NAMEs are reported', async () => {
  const a = summary('alpha', {});
  const engine = fakeEngine([a, summary('beta', { [`${P}notify_level`]: 'loud' })]);
  let report = await checkLabels(engine, { defaults, namespace: '', names: ['beta', 'ghost'] });
  assert.deepEqual(report.containers.map((c) => c.name), ['beta']);
  assert.deepEqual(report.missing, ['ghost']);
  assert.match(formatReport(report), /^ghost: no such container$/m);
  report = await checkLabels(engine, { defaults, namespace: '', names: [a.Id.slice(0, 12)] });
  assert.deepEqual(report.containers.map((c) => c.name), ['alpha']);
  assert.deepEqual(report.missing, []);
});

test('unknown keys show the suggestion', async () => {
  const report = await checkLabels(fakeEngine([summary('x', { [`${P}enable_autohael`]: 'true' })]), { defaults, namespace: '', names: [] });
  assert.match(formatReport(report), /unknown label org\.riotkit\.repairman\.enable_autohael="true": expected a known key \(did you mean org\.riotkit\.repairman\.enable_autoheal\?\); the label is ignored/);
});

test('containerName prefers the plain name over link aliases', () => {
  assert.equal(containerName(summary('x', {}, { Names: ['/web/db-alias', '/db'] })), 'db');
  assert.equal(containerName(summary('x', {}, { Names: [] , Id: 'abcdef1234567890' })), 'abcdef123456');
});

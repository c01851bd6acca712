// `repairman status` shows each container's providers and cycles (docs/behaviour.md §10); the status
// page's card shows them too.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainersPayload } from '../http/payloads.js';
import { pageView } from '../http/page-view.js';
import type { ContainerView } from '../state/types.js';
import { renderStatus } from './status.js';

const c = (name: string, dependencies: ContainerView['dependencies']): ContainerView => ({
  id: name.padEnd(64, '0'), name, state: 'running', health: null, watched: true, excludedReason: null, lastEvent: null, labelProblems: [],
  budget: { state: 'ok', untilMs: null, restartsInFrame: 0, reachedMaxInPreviousFrame: false, streak: 0 }, dependencies,
});

const payload = (list: ContainerView[]): ContainersPayload => ({
  containers: list, duplicates: [], health: { ok: true, reason: 'ok', engineUp: true, lastFullCheckMs: 1, degraded: [] }, generatedAtMs: 10_000, startedAtMs: 0,
  version: 't', timeZone: 'UTC', timeline: { sinceMs: 0, untilMs: 10_000, restarts: [] },
});

const containers = [
  c('vpn', { providers: [], dependents: [{ name: 'torrent', kinds: ['network'] }] }),
  c('torrent', { providers: [{ name: 'vpn', kinds: ['network', 'label'] }], dependents: [] }),
  c('x', { providers: [], dependents: [], cycle: ['x', 'y'] }),
];

describe('status: dependencies', () => {
  it('lists what each container is restarted after, and cycles', () => {
    const text = renderStatus(payload(containers), { timeZone: 'UTC', from: 'http://x/' });
    assert.ok(text.includes('Dependencies (docs/behaviour.md §10):\n  torrent: restarted after vpn (network, label)\n  x; in a cycle x -> y: never followed\n'), text);
  });

  it('the page card names providers and dependents', () => {
    const v = pageView();
    const tree = (list: ContainerView[]): string => JSON.stringify(v.buildView(payload(list), { events: [], next: null }, { base: './', limit: 20 }));
    const html = tree([containers[1]!]);
    assert.match(html, /Depends on/);
    assert.match(html, /vpn \(network, label\)/);
    assert.doesNotMatch(tree([c('alone', { providers: [], dependents: [] })]), /Depends on|Dependents/);
  });
});

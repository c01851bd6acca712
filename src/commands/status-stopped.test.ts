// A container a person stopped is left alone (docs/behaviour.md §2.2): `repairman status` and the page
// say "stopped by hand, left alone", never show it as trouble, and never count it as down.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainersPayload } from '../http/payloads.js';
import { pageView, type VElement, type VNode } from '../http/page-view.js';
import type { ContainerView } from '../state/types.js';
import { renderStatus } from './status.js';

const c = (name: string, over: Partial<ContainerView>): ContainerView => ({
  id: name.padEnd(64, '0'), name, state: 'running', health: 'healthy', watched: true, excludedReason: null, lastEvent: null, labelProblems: [],
  budget: { state: 'ok', untilMs: null, restartsInFrame: 0, reachedMaxInPreviousFrame: false, streak: 0 },
  dependencies: { providers: [], dependents: [] }, ...over,
});

const payload: ContainersPayload = {
  containers: [
    c('web', {}),
    c('cron', { state: 'exited', health: null, stoppedByHand: true }),
    c('worker', { state: 'exited', health: null, stoppedByHand: false }),
  ],
  duplicates: [], health: { ok: true, reason: 'ok', engineUp: true, lastFullCheckMs: 9_000, degraded: [] }, generatedAtMs: 10_000, startedAtMs: 0,
  version: 't', timeZone: 'UTC', timeline: { sinceMs: 0, untilMs: 10_000, restarts: [] },
};

function all(node: VNode, pred: (e: VElement) => boolean, out: VElement[] = []): VElement[] {
  if (typeof node === 'string') return out;
  if (pred(node)) out.push(node);
  for (const k of node.c ?? []) all(k, pred, out);
  return out;
}
const text = (node: VNode): string => (typeof node === 'string' ? node : (node.c ?? []).map(text).join(''));

describe('stopped by hand, left alone', () => {
  it('status says so in the HEALTH column; a crashed one still reads exited', () => {
    assert.equal(renderStatus(payload, { timeZone: 'UTC', from: 'http://127.0.0.1:8080/' }), [
      'Repairman t at http://127.0.0.1:8080/: engine OK; up 10s; times in UTC',
      'Containers: 3 (3 watched, 0 not watched)',
      '',
      'NAME    HEALTH                       BUDGET  IN FRAME  STREAK  LAST EVENT',
      'cron    stopped by hand, left alone  ok      0         0       -',
      'web     healthy                      ok      0         0       -',
      'worker  exited                       ok      0         0       -',
      '',
      'Global status: OK',
      '',
    ].join('\n'));
  });

  it('the page shows the sentence in a neutral badge and counts only the crashed one as down', () => {
    const tree = pageView().buildView(payload, { events: [], next: null }, { base: './', limit: 20 });
    const card = (name: string): VElement => all(tree, (e) => e.t === 'article' && e.a?.['data-container'] === name)[0]!;
    const badge = (name: string): VElement => all(card(name), (e) => e.t === 'span' && (e.a?.class ?? '').startsWith('badge'))[0]!;
    assert.equal(text(badge('cron')), 'stopped by hand, left alone');
    assert.equal(badge('cron').a?.class, 'badge neutral');
    assert.equal(text(badge('worker')), 'exited');
    assert.equal(badge('worker').a?.class, 'badge bad');
    const tiles = Object.fromEntries(all(tree, (e) => (e.a?.class ?? '').startsWith('tile')).map((t) => [text(t.c![1]!), text(t.c![0]!)]));
    assert.equal(tiles['Unhealthy or down'], '1');
    assert.equal(tiles.Healthy, '1');
    assert.equal(tiles.Watched, '3');
  });
});

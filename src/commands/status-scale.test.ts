// `repairman status` counts every container, and a host of 10,000 renders quickly (docs/behaviour.md §9).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainersPayload } from '../http/payloads.js';
import type { ContainerView } from '../state/types.js';
import { renderStatus } from './status.js';

const view = (i: number): ContainerView => ({
  id: String(i).padEnd(64, '0'), name: `ci-${i}`, state: 'created', health: null, watched: i % 10 !== 0,
  excludedReason: i % 10 === 0 ? 'enable_autoheal=false' : null, lastEvent: null, labelProblems: [],
  budget: { state: 'ok', untilMs: null, restartsInFrame: 0, reachedMaxInPreviousFrame: false, streak: 0 },
  dependencies: { providers: [], dependents: [] },
});

const payload = (n: number): ContainersPayload => ({
  containers: Array.from({ length: n }, (_, i) => view(i)), duplicates: [],
  health: { ok: true, reason: 'ok', engineUp: true, lastFullCheckMs: 1, degraded: [] }, generatedAtMs: 10_000, startedAtMs: 0,
  version: 't', timeZone: 'UTC', timeline: { sinceMs: 0, untilMs: 10_000, restarts: [] },
});

describe('status: counts', () => {
  it('says how many containers there are, watched and not', () => {
    assert.match(renderStatus(payload(20), { timeZone: 'UTC', from: 'http://x/' }), /^Containers: 20 \(18 watched, 2 not watched\)$/m);
    assert.match(renderStatus(payload(0), { timeZone: 'UTC', from: 'http://x/' }), /^Containers: 0 \(0 watched, 0 not watched\)$/m);
  });

  it('10,000 containers: a row for each watched one, every unwatched one named', () => {
    const text = renderStatus(payload(10_000), { timeZone: 'UTC', from: 'http://x/' });
    assert.match(text, /^Containers: 10000 \(9000 watched, 1000 not watched\)$/m);
    assert.equal(text.split('\n').filter((l) => /^ci-\d+ /.test(l)).length, 9000);
    assert.equal((/^Not watched: (.*)$/m.exec(text)?.[1] ?? '').split(', ').length, 1000);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { BudgetView, ContainerView } from '../state/types.js';
import { FakeState, SECRET_URL } from '../../test/helpers/fake-state.js';
import {
  buildContainersPayload, buildEventsPayload, buildReport, containersPayloadChunks, isConstantlyFailing, redact, reportDate, sortedJson,
} from './payloads.js';

const NOW = Date.UTC(2024, 0, 2, 3, 4, 5);

function container(b: Partial<BudgetView>): ContainerView {
  return {
    id: 'x', name: 'c', state: 'running', health: 'healthy', watched: true, excludedReason: null, lastEvent: null, labelProblems: [],
    dependencies: { providers: [], dependents: [] },
    budget: { state: 'ok', untilMs: null, restartsInFrame: 0, reachedMaxInPreviousFrame: false, streak: 0, ...b },
  };
}

describe('isConstantlyFailing (global_status rule, docs/behaviour.md §6)', () => {
  it('counts a longer wait and a give-up, whatever the counts', () => {
    assert.equal(isConstantlyFailing(container({ state: 'longer_wait' })), true);
    assert.equal(isConstantlyFailing(container({ state: 'given_up' })), true);
  });

  it('counts a container that reached its limit in the previous frame and was restarted again', () => {
    assert.equal(isConstantlyFailing(container({ reachedMaxInPreviousFrame: true, restartsInFrame: 1 })), true);
    assert.equal(isConstantlyFailing(container({ state: 'waiting', reachedMaxInPreviousFrame: true, restartsInFrame: 3 })), true);
  });

  it('does not count ok or a plain wait, nor a previous-frame limit without a new restart', () => {
    assert.equal(isConstantlyFailing(container({})), false);
    assert.equal(isConstantlyFailing(container({ state: 'waiting', restartsInFrame: 1, streak: 1 })), false);
    assert.equal(isConstantlyFailing(container({ reachedMaxInPreviousFrame: true, restartsInFrame: 0 })), false);
    assert.equal(isConstantlyFailing(container({ restartsInFrame: 5, streak: 5 })), false);
  });
});

describe('buildReport', () => {
  it('lists failing containers by name with the original fields', () => {
    const s = new FakeState({ nowMs: NOW });
    const r = buildReport(s, 20, NOW);
    assert.deepEqual(r.constantly_failing, [
      { id: 'cache', ident: 'cache=False', restarts_in_current_frame: 1, reached_max_in_previous_frame: true },
      { id: 'db', ident: 'db=False', restarts_in_current_frame: 2, reached_max_in_previous_frame: false },
      { id: 'queue', ident: 'queue=False', restarts_in_current_frame: 0, reached_max_in_previous_frame: false },
    ]);
    assert.equal(r.constantly_failing_count, 3);
    assert.equal(r.global_status, false);
  });

  it('is true with nothing failing', () => {
    const s = new FakeState({ nowMs: NOW });
    s.allGood();
    const r = buildReport(s, 5, NOW);
    assert.equal(r.global_status, true);
    assert.equal(r.constantly_failing_count, 0);
    assert.equal(r.last_events.length, 5);
  });

  it('is false while the engine is unreachable, with why (the address masked), even with nothing failing', () => {
    const s = new FakeState({ nowMs: NOW });
    s.allGood();
    assert.equal('engine_error' in buildReport(s, 5, NOW), false, 'the original keys only while the engine answers');
    s.engineDown('engine not reachable: cannot reach the Docker engine at tcp://user:pw@10.0.0.9:2375: connection refused');
    const r = buildReport(s, 5, NOW);
    assert.equal(r.global_status, false);
    assert.equal(r.constantly_failing_count, 0);
    assert.equal(r.engine_error, 'engine not reachable: cannot reach the Docker engine at tcp://user:***@10.0.0.9:2375: connection refused');
  });

  it('gives last_events newest first, dates in UTC as the original, secrets masked, never more than the limit', () => {
    const s = new FakeState({ nowMs: NOW });
    const r = buildReport(s, 3, NOW);
    assert.deepEqual(r.last_events.map((e) => e.num), [32, 31, 30]);
    assert.deepEqual(r.last_events[0], { num: 32, container: 'notifier', date: '2024-01-02 03:04:04', message: 'delivery to https://hooks.slack.com/*** failed' });
    s.events = () => s.journal; // a state that ignores the limit
    assert.equal(buildReport(s, 3, NOW).last_events.length, 3);
  });
});

describe('reportDate', () => {
  it('writes "YYYY-MM-DD HH:MM:SS" in UTC whatever TZ is', () => {
    assert.equal(reportDate(Date.UTC(2024, 11, 31, 23, 59, 59, 999)), '2024-12-31 23:59:59');
    assert.equal(reportDate(0), '1970-01-01 00:00:00');
  });
});

describe('sortedJson', () => {
  it('sorts keys at every level and keeps array order', () => {
    const text = sortedJson({ b: 1, a: { d: [{ z: 1, y: 2 }, 3], c: null } }, 0);
    assert.equal(text, '{"a":{"c":null,"d":[{"y":2,"z":1},3]},"b":1}');
  });

  // The first implementation, which copied every object: objects already sorted are now written as
  // they are, and the output must not change for any value.
  const copyingSortedJson = (value: unknown, indent = 2): string =>
    JSON.stringify(value, (_k, v: unknown) => {
      if (v && typeof v === 'object' && !Array.isArray(v)) {
        const src = v as Record<string, unknown>;
        const out: Record<string, unknown> = {};
        for (const k of Object.keys(src).sort()) out[k] = src[k];
        return out;
      }
      return v;
    }, indent);

  it('writes exactly what sorting a copy of every object wrote (integer-like keys, toJSON, Dates, undefined, odd strings)', () => {
    const tricky = { b: 1, a: { '10': 1, '2': 2, z: [{ y: 1, x: new Date(0), u: undefined, f: () => 1 }, NaN, -0, 1e21], é: 'x', E: '\ud800' }, c: { toJSON: () => ({ q: 1, p: 2 }) } };
    for (const indent of [0, 2]) assert.equal(sortedJson(tricky, indent), copyingSortedJson(tricky, indent));
    for (const text of ['{"__proto__":1,"a":2}', '{"__proto__":{"z":1}}', '{"a":{"__proto__":[1]}}']) {
      assert.equal(sortedJson(JSON.parse(text), 0), copyingSortedJson(JSON.parse(text), 0), text);
    }
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.anything()), fc.integer({ min: 0, max: 4 }), (value, indent) => {
        assert.equal(sortedJson(value, indent), copyingSortedJson(value, indent));
      }),
      { numRuns: 5000 },
    );
  });

  it('timeline marks come out with sorted keys, so they are written without a copy', () => {
    const state = new FakeState({ nowMs: NOW });
    state.restarts = [{ container: 'web', atMs: NOW - 1000, kind: 'restart' }];
    const mark = buildContainersPayload(state, NOW, 'UTC').timeline.restarts[0];
    assert.deepEqual(Object.keys(mark ?? {}), ['atMs', 'container', 'kind']);
  });
});

describe('redact', () => {
  it('masks URLs anywhere and secret-looking keys whole', () => {
    const out = redact({
      message: `posting to ${SECRET_URL} failed`,
      details: { notifyUrl: 'xoxb-not-a-url-token', urls: [SECRET_URL], token: 'abc', nested: [{ webhook: SECRET_URL }] },
      count: 3,
      ok: true,
      none: null,
    });
    assert.deepEqual(out, {
      message: 'posting to https://hooks.slack.com/*** failed',
      details: { notifyUrl: '***', urls: ['https://hooks.slack.com/***'], token: '***', nested: [{ webhook: 'https://hooks.slack.com/***' }] },
      count: 3,
      ok: true,
      none: null,
    });
    assert.ok(!JSON.stringify(out).includes('SECRETTOKEN'));
  });
});

describe('buildContainersPayload', () => {
  it('masks a bad notify_url label value even when it is not a URL', () => {
    const s = new FakeState({ nowMs: NOW });
    const n = s.containerList.find((c) => c.name === 'notifier');
    assert.ok(n && n.labelProblems[0]);
    n.labelProblems[0].value = 'T000/B000/SECRETTOKEN';
    const p = buildContainersPayload(s, NOW, 'UTC');
    assert.equal(p.containers.find((c) => c.name === 'notifier')?.labelProblems[0]?.value, '***');
    assert.ok(!JSON.stringify(p).includes('SECRETTOKEN'));
  });

  it('keeps the timeline to the last 24 hours even if the state returns more', () => {
    const s = new FakeState({ nowMs: NOW });
    s.restartsSince = () => s.restarts.concat([{ container: 'x', atMs: NOW + 1000, kind: 'restart' }]);
    const p = buildContainersPayload(s, NOW, 'Europe/Warsaw');
    assert.equal(p.timeline.sinceMs, NOW - 86_400_000);
    assert.equal(p.timeline.untilMs, NOW);
    assert.equal(p.timeline.restarts.length, 6);
    assert.ok(p.timeline.restarts.every((r) => r.atMs >= p.timeline.sinceMs && r.atMs <= NOW));
    assert.equal(p.timeZone, 'Europe/Warsaw');
  });
});

describe('containersPayloadChunks (the /api/containers reply, written in pieces)', () => {
  const whole = (s: FakeState): string => `${sortedJson(buildContainersPayload(s, NOW, 'UTC'))}\n`;
  for (const count of [0, 1, 100, 101, 250]) {
    it(`${count} extra containers: the same text as the payload written at once`, () => {
      const s = new FakeState({ nowMs: NOW });
      if (count === 0) s.containerList.length = 0;
      for (let i = 0; i < count; i++) s.containerList.push({ ...container({ restartsInFrame: i % 3 }), id: `id${i}`, name: `bulk-${i}` });
      const pieces = [...containersPayloadChunks(s, NOW, 'UTC')];
      assert.equal(pieces.join(''), whole(s));
      assert.ok(pieces.length >= 2 + Math.ceil(s.containerList.length / 100) || s.containerList.length === 0, `${pieces.length} pieces`);
      assert.ok(!pieces.join('').includes('SECRETTOKEN'));
    });
  }
});

describe('buildEventsPayload', () => {
  it('asks for one more than the page to know whether an older page exists', () => {
    const s = new FakeState({ nowMs: NOW });
    const p = buildEventsPayload(s, { limit: 10 });
    assert.equal(s.eventQueries.at(-1)?.limit, 11);
    assert.equal(p.events.length, 10);
    assert.equal(p.next, 23);
    const last = buildEventsPayload(s, { limit: 10, beforeNum: 3 });
    assert.deepEqual(last.events.map((e) => e.num), [2, 1]);
    assert.equal(last.next, null);
    assert.deepEqual(buildEventsPayload(s, { limit: 10, container: 'nobody' }), { events: [], next: null });
  });
});

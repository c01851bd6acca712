// A re-check never acts on an exit before the event stream has delivered the events that explain it
// (a kill or stop: "stopped on purpose", docs/behaviour.md §2.2). Found on Podman under load: the
// stream ran seconds behind the listings and `podman kill --signal TERM` of a container exiting 3 was
// started again by a re-check.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DockerEvent } from '../docker/types.js';
import { ev, setup, type Setup } from '../../test/helpers/healer-setup.js';
import type { FakeContainer } from '../../test/helpers/fake-engine.js';
import { EVENT_LAG_GRACE_MS, EventStreamMark } from './event-lag.js';

const T0 = Date.UTC(2024, 0, 1, 12, 0, 0);
const iso = (ms: number): string => new Date(ms).toISOString();
const at = (e: DockerEvent, ms: number): DockerEvent => ({ ...e, time: Math.floor(ms / 1000), timeNano: ms * 1e6 });

describe('EventStreamMark', () => {
  it('no stream followed: nothing is pending', () => {
    const m = new EventStreamMark();
    assert.equal(m.eventsPending(iso(T0), T0), false);
    m.opened(T0);
    m.closed();
    assert.equal(m.eventsPending(iso(T0 + 1), T0 + 1), false);
  });

  it('an exit after the point the stream has reached is pending until an event passes it or the grace ends', () => {
    const m = new EventStreamMark();
    m.opened(T0);
    const exit = T0 + 1_000;
    assert.equal(m.eventsPending(iso(T0 - 1), T0), false, 'before the stream was asked for: no event will come for it');
    assert.equal(m.eventsPending(iso(T0), T0), false, 'at the mark itself: reached');
    assert.equal(m.eventsPending(iso(exit), exit), true);
    assert.equal(m.eventsPending(iso(exit), exit + EVENT_LAG_GRACE_MS - 1), true);
    assert.equal(m.eventsPending(iso(exit), exit + EVENT_LAG_GRACE_MS), false, 'the grace is over: act anyway');
    m.saw({ Type: 'container', Action: 'kill', Actor: { ID: 'x', Attributes: {} }, time: 0, timeNano: (exit - 1) * 1e6 });
    assert.equal(m.eventsPending(iso(exit), exit), true, 'an event from before the exit');
    m.saw({ Type: 'container', Action: 'die', Actor: { ID: 'x', Attributes: {} }, time: 0, timeNano: exit * 1e6 });
    assert.equal(m.eventsPending(iso(exit), exit), false);
    m.saw({ Type: 'container', Action: 'start', Actor: { ID: 'x', Attributes: {} }, time: 0, timeNano: (exit - 5_000) * 1e6 });
    assert.equal(m.eventsPending(iso(exit), exit), false, 'an older event never moves the mark back');
  });

  it('reads seconds when an event has no timeNano; an unreadable FinishedAt is never pending', () => {
    const m = new EventStreamMark();
    m.opened(T0);
    m.saw({ Type: 'container', Action: 'die', Actor: { ID: 'x', Attributes: {} }, time: T0 / 1000 + 3, timeNano: 0 });
    assert.equal(m.eventsPending(iso(T0 + 3_000), T0 + 3_000), false);
    assert.equal(m.eventsPending(iso(T0 + 3_001), T0 + 3_001), true);
    for (const bad of ['', 'garbage', undefined]) assert.equal(m.eventsPending(bad, T0 + 3_001), false, String(bad));
  });

  it('a stream opened again later: exits from the gap before it are not held', () => {
    const m = new EventStreamMark();
    m.opened(T0);
    m.closed();
    m.opened(T0 + 5_000);
    assert.equal(m.eventsPending(iso(T0 + 2_000), T0 + 5_000), false);
    assert.equal(m.eventsPending(iso(T0 + 5_001), T0 + 5_001), true);
  });
});

describe('healer: a re-check waits for the events of a fresh exit', () => {
  /** A healer following a stream opened at T0, and a container that exited 3 at T0 + 1 s. */
  async function exitedAfterOpen(): Promise<{ s: Setup; c: FakeContainer }> {
    const s = setup();
    s.healer.eventStreamOpened();
    const c = s.engine.add({ name: 'ns-vpn' });
    await s.healer.recheck('full');
    await s.clock.advance(1_000);
    Object.assign(c, { status: 'exited', exitCode: 3, finishedAt: iso(T0 + 1_000) });
    return { s, c };
  }

  it('a kill event that comes after the re-check still makes the exit deliberate', async () => {
    const { s, c } = await exitedAfterOpen();
    await s.healer.recheck('quick');
    await s.clock.advance(0);
    assert.equal(s.engine.count('start'), 0, 'the re-check leaves it to the events');
    s.healer.handleEvent(at(ev('kill', c, { signal: '15' }), T0 + 990));
    s.healer.handleEvent(at(ev('die', c, { exitCode: '3' }), T0 + 1_000));
    await s.clock.advance(0);
    await s.healer.recheck('quick');
    await s.clock.advance(EVENT_LAG_GRACE_MS);
    assert.equal(s.engine.count('start'), 0, 'nor at the look again after the grace');
    assert.ok((s.metrics.get('repairman_skips_total', { reason: 'stopped_by_someone' }) ?? 0) >= 1);
    await s.healer.stop();
  });

  it('a crash: its die event starts it', async () => {
    const { s, c } = await exitedAfterOpen();
    await s.healer.recheck('quick');
    await s.clock.advance(0);
    assert.equal(s.engine.count('start'), 0);
    s.healer.handleEvent(at(ev('die', c, { exitCode: '3' }), T0 + 1_000));
    await s.clock.advance(0);
    assert.equal(s.engine.count('start ns-vpn'), 1);
    await s.healer.stop();
  });

  it('its events lost: it is looked at again when the grace ends, without waiting for a re-check', async () => {
    const { s } = await exitedAfterOpen();
    await s.healer.recheck('quick');
    await s.clock.advance(EVENT_LAG_GRACE_MS - 1);
    assert.equal(s.engine.count('start'), 0, 'still within the grace');
    await s.healer.recheck('quick');
    await s.clock.advance(100);
    assert.equal(s.engine.count('start ns-vpn'), 1, 'the look again at the end of the grace');
    await s.healer.stop();
  });

  it('no stream followed (it broke): a re-check acts at once, as before', async () => {
    const { s } = await exitedAfterOpen();
    s.healer.eventStreamClosed();
    await s.healer.recheck('quick');
    await s.clock.advance(0);
    assert.equal(s.engine.count('start ns-vpn'), 1);
    await s.healer.stop();
  });

  it('an exit from before the stream was asked for (the first re-check at start) is acted on at once', async () => {
    const s = setup();
    s.engine.add({ name: 'ns-job', status: 'exited', exitCode: 3, finishedAt: iso(T0 - 1_000) });
    s.healer.eventStreamOpened();
    await s.healer.recheck('full');
    await s.clock.advance(0);
    assert.equal(s.engine.count('start ns-job'), 1);
    await s.healer.stop();
  });
});

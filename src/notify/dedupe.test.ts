import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChangeMemory, RepeatFilter } from './dedupe.js';
import type { NotifyEvent } from './types.js';

function problem(container: string, reason: string, dedupeKey?: string): NotifyEvent {
  return {
    kind: 'config_error', severity: 'warning', container, host: 'h', atMs: 0, summary: 'bad label',
    reason, urls: ['http://x/hooks/y'], level: 'INFO', ...(dedupeKey === undefined ? {} : { dedupeKey }),
  };
}

test('the same configuration error is sent once, not on every re-check', () => {
  const f = new RepeatFilter();
  const e = problem('web', 'org.riotkit.repairman.stop_timeout="abc": expected a number');
  assert.equal(f.admit(e), true);
  for (let i = 0; i < 5; i++) assert.equal(f.admit({ ...e, atMs: i * 30_000 }), false);
  // Another container with the same problem is its own news.
  assert.equal(f.admit(problem('db', e.reason ?? '')), true);
});

test('with a dedupeKey (the label), a changed value is sent again, also back to an earlier one', () => {
  const f = new RepeatFilter();
  const key = 'org.riotkit.repairman.stop_timeout';
  assert.equal(f.admit(problem('web', 'value "a"', key)), true);
  assert.equal(f.admit(problem('web', 'value "a"', key)), false);
  assert.equal(f.admit(problem('web', 'value "b"', key)), true);
  assert.equal(f.admit(problem('web', 'value "a"', key)), true);
  // Two labels bad at once do not make each other "changed" on every check.
  assert.equal(f.admit(problem('web', 'x', 'org.riotkit.repairman.heal_exited')), true);
  assert.equal(f.admit(problem('web', 'value "a"', key)), false);
  assert.equal(f.admit(problem('web', 'x', 'org.riotkit.repairman.heal_exited')), false);
});

test('forget(container): a fixed then re-broken label is news again; other containers unaffected', () => {
  const f = new RepeatFilter();
  assert.equal(f.admit(problem('web', 'r')), true);
  assert.equal(f.admit(problem('web-2', 'r')), true);
  f.forget('web');
  assert.equal(f.admit(problem('web', 'r')), true);
  assert.equal(f.admit(problem('web-2', 'r')), false, 'forget("web") must not forget "web-2"');
});

test('other kinds are never held back (each restart is an event)', () => {
  const f = new RepeatFilter();
  const e: NotifyEvent = { ...problem('web', 'unhealthy'), kind: 'restart', severity: 'debug' };
  for (let i = 0; i < 3; i++) assert.equal(f.admit(e), true);
  assert.equal(f.size, 0);
});

test('the memory is bounded: least recently seen keys go first', () => {
  const m = new ChangeMemory(3);
  assert.equal(m.changed('a', '1'), true);
  assert.equal(m.changed('b', '1'), true);
  assert.equal(m.changed('c', '1'), true);
  assert.equal(m.changed('a', '1'), false); // a is now the most recent
  assert.equal(m.changed('d', '1'), true); // evicts b
  assert.equal(m.size, 3);
  assert.equal(m.changed('a', '1'), false);
  assert.equal(m.changed('b', '1'), true, 'b was forgotten');
  const f = new RepeatFilter(100);
  for (let i = 0; i < 10_000; i++) f.admit(problem(`c${i}`, 'r'));
  assert.equal(f.size, 100);
  assert.throws(() => new ChangeMemory(0), RangeError);
});

test('each destination hears of a problem once: a new notify_url gets it too', () => {
  const f = new RepeatFilter();
  const e = problem('web', 'r');
  assert.equal(f.admit(e, 'http://a/x'), true);
  assert.equal(f.admit(e, 'http://a/x'), false);
  assert.equal(f.admit(e, 'http://b/x'), true);
  assert.equal(f.admit(e, 'http://b/x'), false);
});

test('without a dedupeKey, two problems sharing a reason (an error code) do not ping-pong', () => {
  const f = new RepeatFilter();
  const a: NotifyEvent = { ...problem('web', 'RM_LABEL_INVALID'), summary: 'stop_timeout="x"' };
  const b: NotifyEvent = { ...problem('web', 'RM_LABEL_INVALID'), summary: 'heal_exited="maybe"' };
  assert.equal(f.admit(a), true);
  assert.equal(f.admit(b), true);
  for (let i = 0; i < 3; i++) {
    assert.equal(f.admit(a), false);
    assert.equal(f.admit(b), false);
  }
});

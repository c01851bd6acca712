import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEvent, parseInspect, parseVersion, ShapeError } from './shape.js';

const inspectReply = {
  Id: 'abc', Name: '/web', Created: '2024-01-01T00:00:00Z', RestartCount: 2,
  State: { Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 5, ExitCode: 0, Error: '', StartedAt: 's', FinishedAt: 'f',
    Health: { Status: 'unhealthy', FailingStreak: 3, Log: [{ Start: 'a', End: 'b', ExitCode: 1, Output: 'bad' }] } },
  Config: { Image: 'img', Hostname: 'h', Labels: null, Tty: true, StopTimeout: 30 },
  HostConfig: { RestartPolicy: { Name: '', MaximumRetryCount: 0 }, AutoRemove: false },
};

test('inspect: required fields checked, optional ones normalised', () => {
  const c = parseInspect(inspectReply);
  assert.equal(c.State.Health?.Status, 'unhealthy');
  assert.equal(c.State.Health?.Log?.[0]?.Output, 'bad');
  assert.deepEqual(c.Config.Labels, {});
  assert.equal(c.Config.Tty, true);
  assert.equal(c.Config.StopTimeout, 30);
  assert.equal(c.HostConfig.RestartPolicy.Name, 'no', 'an empty policy name means no');
  const noHealth = parseInspect({ ...inspectReply, State: { ...inspectReply.State, Health: undefined } });
  assert.equal('Health' in noHealth.State, false);
});

test('inspect: garbage is a ShapeError', () => {
  assert.throws(() => parseInspect([]), ShapeError);
  assert.throws(() => parseInspect({ ...inspectReply, State: undefined }), /container\.State/);
  assert.throws(() => parseInspect({ ...inspectReply, State: { ...inspectReply.State, Running: 'yes' } }), /Running/);
  assert.throws(() => parseInspect({ ...inspectReply, Config: null }), /Config/);
  assert.throws(() => parseInspect({ ...inspectReply, Name: undefined }), /Name/);
  assert.throws(() => parseInspect({ ...inspectReply, State: { ...inspectReply.State, Health: { Status: 'x', Log: 'no' } } }), /Health\.Log/);
});

test('version: Version and ApiVersion required', () => {
  assert.equal(parseVersion({ Version: '20.10', ApiVersion: '1.41', Os: 'linux', Arch: 'amd64' }).ApiVersion, '1.41');
  assert.throws(() => parseVersion({ Version: '20.10' }), /ApiVersion/);
  assert.throws(() => parseVersion('1.41'), ShapeError);
});

test('events: valid ones parsed, anything else undefined (never a throw)', () => {
  const ev = { Type: 'container', Action: 'health_status: unhealthy', Actor: { ID: 'abc', Attributes: { name: 'web', n: 5 } }, scope: 'local', time: 10, timeNano: 10_000_000_001 };
  assert.deepEqual(parseEvent(ev), { Type: 'container', Action: 'health_status: unhealthy', Actor: { ID: 'abc', Attributes: { name: 'web' } }, scope: 'local', time: 10, timeNano: 10_000_000_001 });
  assert.deepEqual(parseEvent({ ...ev, timeNano: undefined })?.timeNano, 10e9);
  assert.deepEqual(parseEvent({ ...ev, time: undefined })?.time, 10);
  for (const bad of [null, 1, 'x', [], {}, { ...ev, Type: undefined }, { ...ev, Action: 3 }, { ...ev, Actor: undefined }, { ...ev, time: 'now', timeNano: undefined }, { ...ev, Actor: { ID: 'a', Attributes: 'x' } }]) {
    assert.equal(parseEvent(bad), undefined, JSON.stringify(bad));
  }
});

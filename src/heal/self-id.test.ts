import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectSelfIdentity, isSelfContainer, parseSelfIdentity } from './self-id.js';

const ID = '3f1c0a9b8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3';
const OTHER = 'b'.repeat(64);

describe('self identity', () => {
  it('finds the id in a cgroup v1 docker path', () => {
    const s = parseSelfIdentity(`12:pids:/docker/${ID}\n11:memory:/docker/${ID}\n0::/`, null, 'web');
    assert.deepEqual(s.ids, [ID]);
    assert.ok(isSelfContainer(s, ID));
    assert.ok(!isSelfContainer(s, OTHER));
  });
  it('finds the id in a systemd scope path', () => {
    const s = parseSelfIdentity(`0::/system.slice/docker-${ID}.scope`, null, undefined);
    assert.deepEqual(s.ids, [ID]);
  });
  it('finds the id in mountinfo (cgroup v2 with a private namespace)', () => {
    const mountinfo = `600 590 254:1 /var/lib/docker/containers/${ID}/hostname /etc/hostname rw,relatime - ext4 /dev/vda1 rw\n`;
    const s = parseSelfIdentity('0::/', mountinfo, 'myhost');
    assert.deepEqual(s.ids, [ID]);
    assert.ok(isSelfContainer(s, ID.toUpperCase()));
  });
  it('falls back to a 12-hex HOSTNAME only when /proc says nothing', () => {
    const s = parseSelfIdentity('0::/', '', ID.slice(0, 12));
    assert.equal(s.shortId, ID.slice(0, 12));
    assert.ok(isSelfContainer(s, ID));
    assert.ok(!isSelfContainer(s, OTHER));
    const both = parseSelfIdentity(`0::/docker/${OTHER}`, '', ID.slice(0, 12));
    assert.ok(!isSelfContainer(both, ID), 'a full id from /proc wins over the hostname');
  });
  it('finds nothing outside a container', () => {
    const s = parseSelfIdentity('0::/user.slice/user-1000.slice/session-2.scope', '', 'laptop');
    assert.deepEqual(s, { ids: [], shortId: null });
    assert.ok(!isSelfContainer(s, ID));
  });
  it('survives unreadable files', () => {
    const s = detectSelfIdentity({ HOSTNAME: 'x' }, () => null);
    assert.deepEqual(s, { ids: [], shortId: null });
  });
});

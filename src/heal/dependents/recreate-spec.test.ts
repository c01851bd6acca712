// The recreate request (docs/behaviour.md §10): everything the container had, its network mode re-pointed, and
// nothing the engine refuses with a `container:` network mode (watchtower's "conflicting options").
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keptName, recreateRequest } from './recreate-spec.js';

const inspect = {
  Id: 'd'.repeat(64),
  Name: '/torrent',
  Config: { Hostname: 'vpnhost', Domainname: '', ExposedPorts: { '80/tcp': {} }, Image: 'img:1', Cmd: ['sh', '-c', 'x'], Env: ['A=1'], Labels: { a: 'b' }, Healthcheck: { Test: ['CMD', 'true'] } },
  HostConfig: { NetworkMode: `container:${'a'.repeat(64)}`, Binds: ['/srv:/srv:ro'], RestartPolicy: { Name: 'always', MaximumRetryCount: 0 } },
  Mounts: [
    { Type: 'bind', Source: '/srv', Destination: '/srv', RW: false },
    { Type: 'volume', Name: 'anon123', Destination: '/data', RW: true },
  ],
};

describe('recreate request', () => {
  it('keeps the configuration, re-points the network mode, drops what the engine derives', () => {
    const r = recreateRequest(inspect, 'b'.repeat(64));
    assert.ok(r);
    assert.equal(r.name, 'torrent');
    const { HostConfig, ...config } = r.body as Record<string, unknown> & { HostConfig: Record<string, unknown> };
    assert.deepEqual(config, { Image: 'img:1', Cmd: ['sh', '-c', 'x'], Env: ['A=1'], Labels: { a: 'b' }, Healthcheck: { Test: ['CMD', 'true'] } });
    assert.equal(HostConfig.NetworkMode, `container:${'b'.repeat(64)}`);
    assert.deepEqual(HostConfig.RestartPolicy, { Name: 'always', MaximumRetryCount: 0 });
    // The anonymous volume is mounted again by name: its data stays.
    assert.deepEqual(HostConfig.Binds, ['/srv:/srv:ro', 'anon123:/data']);
    assert.equal(inspect.HostConfig.NetworkMode, `container:${'a'.repeat(64)}`, 'the input is not changed');
  });

  it('nothing to re-point without a container: network mode', () => {
    assert.equal(recreateRequest({ ...inspect, HostConfig: { NetworkMode: 'bridge' } }, 'x'), null);
  });

  it('the kept name is not a compose leftover name', () => {
    assert.equal(keptName('torrent', 'd'.repeat(64)), `torrent-repairman-old-${'d'.repeat(12)}`);
  });
});

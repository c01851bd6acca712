import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { isRepairmanError } from '../errors.js';
import { MetricsRegistry } from '../metrics/registry.js';
import { createDockerClient } from './client.js';
import { allowingSettings, callKindOf, KNOWN_CALLS, RefusedCalls, refusedCallError, type RefusedCall } from './refusals.js';

const ID = '0123456789abcdef'.repeat(4);
const HAPROXY = '<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n</body></html>\n';

describe('refusals: naming a call as proxies are configured', () => {
  it('templates container ids, drops the version and the query', () => {
    assert.equal(callKindOf('POST', `/v1.41/containers/${ID}/restart?t=10`), 'POST /containers/{id}/restart');
    assert.equal(callKindOf('post', `/containers/web/start`), 'POST /containers/{id}/start');
    assert.equal(callKindOf('DELETE', `/v1.47/containers/${ID}?force=0`), 'DELETE /containers/{id}');
    assert.equal(callKindOf('GET', '/v1.41/containers/json?all=1&filters=%7B%7D'), 'GET /containers/json');
    assert.equal(callKindOf('POST', '/v1.41/containers/create?name=x'), 'POST /containers/create');
    assert.equal(callKindOf('GET', `/v1.41/containers/${ID}/json`), 'GET /containers/{id}/json');
    assert.equal(callKindOf('GET', `/v4.0.0/libpod/containers/${ID}/json`), 'GET /libpod/containers/{id}/json');
    assert.equal(callKindOf('GET', '/_ping'), 'GET /_ping');
    assert.equal(callKindOf('GET', '/v1.41/events?since=1'), 'GET /events');
  });

  it('names the setting of each proxy that allows each call Repairman makes', () => {
    assert.equal(allowingSettings('POST /containers/{id}/restart'), 'tecnativa/docker-socket-proxy CONTAINERS=1 and POST=1; linuxserver/socket-proxy ALLOW_RESTARTS=1');
    assert.equal(allowingSettings('POST /containers/{id}/start'), 'tecnativa/docker-socket-proxy CONTAINERS=1 and POST=1; linuxserver/socket-proxy ALLOW_START=1');
    assert.equal(allowingSettings('DELETE /containers/{id}'), 'tecnativa/docker-socket-proxy CONTAINERS=1 and POST=1; linuxserver/socket-proxy CONTAINERS=1 and POST=1');
    assert.equal(allowingSettings('GET /containers/{id}/logs'), 'tecnativa/docker-socket-proxy CONTAINERS=1; linuxserver/socket-proxy CONTAINERS=1 and ALLOW_LOGS=1');
    assert.equal(allowingSettings('GET /events'), 'tecnativa/docker-socket-proxy EVENTS=1; linuxserver/socket-proxy EVENTS=1');
    // A call outside the table: the section switch, with POST=1 for methods other than GET.
    assert.equal(allowingSettings('POST /networks/{id}/connect'), "the proxy's NETWORKS=1 and POST=1");
    assert.equal(allowingSettings('GET /info'), "the proxy's INFO=1");
    for (const call of KNOWN_CALLS) assert.match(allowingSettings(call), /^tecnativa\/docker-socket-proxy .+; linuxserver\/socket-proxy .+$/, call);
  });

  it('the error carries the call, the setting and the proxy\'s answer on one line', () => {
    const err = refusedCallError(`POST /containers/${ID}/restart`, 'tcp://127.0.0.1:2375', HAPROXY);
    assert.ok(isRepairmanError(err, 'RM_ENGINE_REFUSED'));
    assert.equal(err.message, `POST /containers/${ID}/restart: refused by the engine at tcp://127.0.0.1:2375 (403: 403 Forbidden Request forbidden by administrative rules.); a socket proxy in front of it does not allow POST /containers/{id}/restart: allow it with tecnativa/docker-socket-proxy CONTAINERS=1 and POST=1; linuxserver/socket-proxy ALLOW_RESTARTS=1`);
    assert.equal(err.details.call, 'POST /containers/{id}/restart');
    assert.equal(refusedCallError('GET /events', 'unix:///x', '').message.includes('(403)'), true);
    assert.ok(refusedCallError('GET /events', 'unix:///x', 'x'.repeat(5000)).message.length < 600, 'a long body is cut');
  });

  it("an authorization plugin's denial names the plugin, not a socket proxy", () => {
    const said = 'authorization denied by plugin opa-docker-authz: request rejected by administrative policy';
    const err = refusedCallError(`POST /containers/${ID}/restart`, 'unix:///tmp/rm-engine/docker.sock', said);
    assert.equal(err.message, `POST /containers/${ID}/restart: refused by the engine at unix:///tmp/rm-engine/docker.sock (403: ${said}); the engine's authorization plugin opa-docker-authz does not allow POST /containers/{id}/restart: allow it with a rule of opa-docker-authz's policy for the user Repairman connects as`);
    const r = new RefusedCalls();
    r.refused(err);
    assert.deepEqual(r.sentences(), [
      "the engine refuses POST /containers/{id}/restart (403, 1 time; authorization plugin opa-docker-authz): allow it with a rule of opa-docker-authz's policy for the user Repairman connects as",
    ]);
  });
});

describe('refusals: the calls refused now', () => {
  it('says each call kind once, counts every refusal, clears when the call goes through', () => {
    const metrics = new MetricsRegistry();
    const said: string[] = [];
    let t = 1000;
    const r = new RefusedCalls({ metrics, now: () => t, onRefused: (x: RefusedCall) => said.push(`refused ${x.call}`), onAllowed: (x) => said.push(`allowed ${x.call} after ${x.count}`) });
    assert.match(metrics.render(), /^repairman_engine_refused_calls_total\{call="POST \/containers\/\{id\}\/restart"\} 0$/m, 'at 0 from the start');
    for (const id of ['a', 'b', 'a']) r.refused(refusedCallError(`POST /containers/${id}/restart`, 'tcp://p:2375', HAPROXY));
    t = 2000;
    r.refused(refusedCallError('DELETE /containers/c', 'tcp://p:2375', HAPROXY));
    assert.deepEqual(said, ['refused POST /containers/{id}/restart', 'refused DELETE /containers/{id}']);
    assert.equal(r.size, 2);
    assert.equal(metrics.get('repairman_engine_refused_calls_total', { call: 'POST /containers/{id}/restart' }), 3);
    assert.equal(metrics.get('repairman_engine_refused_calls_total', { call: 'DELETE /containers/{id}' }), 1);
    assert.doesNotMatch(metrics.render(), /containers\/[abc]\b/, 'no container id in a label');
    assert.deepEqual(r.sentences(), [
      'the engine refuses POST /containers/{id}/restart (403, 3 times; a socket proxy?): allow it with tecnativa/docker-socket-proxy CONTAINERS=1 and POST=1; linuxserver/socket-proxy ALLOW_RESTARTS=1',
      'the engine refuses DELETE /containers/{id} (403, 1 time; a socket proxy?): allow it with tecnativa/docker-socket-proxy CONTAINERS=1 and POST=1; linuxserver/socket-proxy CONTAINERS=1 and POST=1',
    ]);
    r.allowed('GET /containers/json');
    r.allowed('POST /containers/{id}/restart');
    assert.deepEqual(r.list().map((x) => x.call), ['DELETE /containers/{id}']);
    assert.equal(said.at(-1), 'allowed POST /containers/{id}/restart after 3');
    // Refused again after it went through: news again.
    r.refused(refusedCallError('POST /containers/a/restart', 'tcp://p:2375', HAPROXY));
    assert.equal(said.at(-1), 'refused POST /containers/{id}/restart');
  });

  it('a listener that throws does not reach the engine call', () => {
    const r = new RefusedCalls({ onRefused: () => { throw new Error('boom'); } });
    assert.doesNotThrow(() => r.refused(refusedCallError('GET /events', 'unix:///x', '')));
    assert.equal(r.size, 1);
  });
});

describe('refusals: the client reports them', () => {
  it('a 403 is RM_ENGINE_REFUSED and reported; the same call answered otherwise clears it, streams included', async () => {
    let allow = false;
    const server = http.createServer((req, res) => {
      const path = (req.url ?? '').replace(/^\/v[\d.]+/, '');
      if (path === '/_ping') {
        res.writeHead(200, { 'Api-Version': '1.41' }).end('OK');
      } else if (!allow && (req.method === 'POST' || path.startsWith('/events'))) {
        res.writeHead(403, { 'Content-Type': 'text/html' }).end(HAPROXY);
      } else if (path.startsWith('/events')) {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end();
      } else {
        res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"message":"No such container: x"}');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const refusals = new RefusedCalls();
    const client = createDockerClient({ DOCKER_HOST: `tcp://127.0.0.1:${(server.address() as AddressInfo).port}` }, { refusals });
    try {
      await assert.rejects(client.restart('x', { stopTimeoutSec: 1 }), (err) => isRepairmanError(err, 'RM_ENGINE_REFUSED') && /POST \/containers\/\{id\}\/restart: allow it with/.test(err.message));
      await assert.rejects(async () => {
        for await (const e of client.events()) void e;
      }, (err) => isRepairmanError(err, 'RM_ENGINE_REFUSED'));
      assert.deepEqual(refusals.list().map((r) => r.call), ['POST /containers/{id}/restart', 'GET /events']);
      allow = true;
      // Through the proxy to an engine that says 404: allowed, whatever the engine thought of it.
      await assert.rejects(client.restart('x', { stopTimeoutSec: 1 }), (err) => isRepairmanError(err, 'RM_ENGINE_NOT_FOUND'));
      for await (const e of client.events()) void e;
      assert.equal(refusals.size, 0);
    } finally {
      client.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
  it('Podman behind a proxy without a /libpod rule: the unhealthy container is still inspected, the libpod call reported', async () => {
    const inspect = { Id: 'c1', Name: '/web', Created: '2024-01-01T00:00:00Z', RestartCount: 0, Config: { Image: 'x', Hostname: 'h', Labels: {} },
      State: { Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 1, ExitCode: 0, Error: '', StartedAt: '', FinishedAt: '',
        Health: { Status: 'unhealthy', FailingStreak: 3, Log: [] } } };
    const server = http.createServer((req, res) => {
      const path = (req.url ?? '').replace(/^\/v[\d.]+/, '');
      if (path === '/_ping') res.writeHead(200, { 'Api-Version': '1.41', 'Libpod-Api-Version': '4.9.3' }).end('OK');
      else if (path.startsWith('/libpod/')) res.writeHead(403, { 'Content-Type': 'text/html' }).end(HAPROXY);
      else res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(inspect));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const refusals = new RefusedCalls();
    const client = createDockerClient({ DOCKER_HOST: `tcp://127.0.0.1:${(server.address() as AddressInfo).port}` }, { refusals });
    try {
      const info = await client.inspect('c1');
      assert.equal(info.State.Health?.Status, 'unhealthy');
      assert.equal(info.Config.HealthcheckOnFailureAction, undefined);
      assert.deepEqual(refusals.list().map((r) => r.call), ['GET /libpod/containers/{id}/json']);
    } finally {
      client.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

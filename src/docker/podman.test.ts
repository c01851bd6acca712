// Podman's differences, on replies and events recorded from Debian's podman 4.3.1
// (test/fixtures/podman-4.3.1, recorded through `podman system service`): engine detection, filter
// translation, the health event forms, and the event feed that makes Podman's stream Docker-like.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDockerClient } from './client.js';
import { dockerHealthAction, dockerInspect, dockerState, engineKindFromPing, engineKindFromVersion, podmanEventFilters, podmanListFilters } from './podman.js';
import { PodmanEventFeed } from './podman-events.js';
import { parseEvent, parseInspect } from './shape.js';
import type { ContainerInspect, DockerEvent } from './types.js';
import { classify } from '../heal/classify.js';

const FIXTURES = join(fileURLToPath(import.meta.url), '../../../../test/fixtures/podman-4.3.1');
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');
const recordedEvents = (): DockerEvent[] => fixture('events-health.jsonl').split('\n').filter(Boolean).map((l) => parseEvent(JSON.parse(l))!);

test('Podman is told from its /_ping headers or its /version components', () => {
  assert.equal(engineKindFromPing({ 'api-version': '1.41', 'libpod-api-version': '4.3.1', server: 'Libpod/4.3.1 (linux)' }), 'podman');
  assert.equal(engineKindFromPing({ server: 'Libpod/5.0.0 (linux)' }), 'podman');
  assert.equal(engineKindFromPing({ 'api-version': '1.47', server: 'Docker/27.0.3 (linux)' }), 'docker');
  assert.equal(engineKindFromVersion({ Components: [{ Name: 'Podman Engine', Version: '4.3.1' }] }), 'podman');
  assert.equal(engineKindFromVersion({ Components: [{ Name: 'Engine' }, { Name: 'containerd' }] }), 'docker');
  assert.equal(engineKindFromVersion({}), 'docker');
});

test("filters: Podman's action names beside Docker's; ^/name anchors without the slash", () => {
  assert.deepEqual(podmanEventFilters({ type: ['container'], event: ['die', 'destroy', 'health_status', 'start'] }),
    { type: ['container'], event: ['die', 'destroy', 'health_status', 'start', 'died', 'remove', 'exec_died'] });
  assert.deepEqual(podmanEventFilters({ type: ['container'] }), { type: ['container'] });
  assert.equal(podmanEventFilters(undefined), undefined);
  assert.deepEqual(podmanListFilters({ name: ['^/ns-', 'web', '^/x$'], label: ['a'] }), { name: ['^ns-', 'web', '^x$'], label: ['a'] });
});

test("health events: Podman's top-level HealthStatus and attribute forms become Docker's action form", () => {
  assert.equal(dockerHealthAction('health_status', { HealthStatus: 'unhealthy' }, {}), 'health_status: unhealthy');
  assert.equal(dockerHealthAction('health_status', {}, { health_status: 'healthy' }), 'health_status: healthy');
  assert.equal(dockerHealthAction('health_status', {}, {}), 'health_status');
  assert.equal(dockerHealthAction('health_status: unhealthy', { HealthStatus: 'healthy' }, {}), 'health_status: unhealthy');
  assert.equal(dockerHealthAction('die', { HealthStatus: 'healthy' }, {}), 'die');
  const recorded = recordedEvents().filter((e) => e.Action.startsWith('health_status'));
  assert.deepEqual(recorded.map((e) => e.Action), ['starting', 'healthy', 'healthy', 'unhealthy', 'unhealthy', 'healthy'].map((s) => `health_status: ${s}`));
});

/**
 * The recorded run: checks pass, pass, fail, fail, pass, pass (retries 1). Podman 4.3.1 writes each
 * health event when the check STARTS, with the status from before it; the check's exec_died follows.
 * The fake inspect answers what Podman's inspect answered after the last check.
 */
function recordedFeed(): { feed: PodmanEventFeed; inspected: string[]; run: () => Promise<DockerEvent[]> } {
  const compat = parseInspect(JSON.parse(fixture('compat-inspect-unhealthy.json')));
  const inspected: string[] = [];
  let status = 'starting';
  const feed = new PodmanEventFeed({
    asked: ['health_status', 'die', 'start', 'stop', 'kill', 'destroy', 'create'],
    inspect: async (id) => {
      inspected.push(status);
      return { ...compat, Id: id, State: { ...compat.State, Health: { Status: status, FailingStreak: 0, Log: [] } } };
    },
  });
  const run = async (): Promise<DockerEvent[]> => {
    const out: DockerEvent[] = [];
    let lastHealthEvent = false;
    for (const ev of recordedEvents()) {
      // The exec_died right after a health event is that check's end: Podman's status changes then.
      if (ev.Action === 'exec_died' && lastHealthEvent) status = ev.Actor.Attributes.containerExitCode === '0' ? 'healthy' : 'unhealthy';
      lastHealthEvent = ev.Action.startsWith('health_status');
      out.push(...await feed.translate(ev));
    }
    return out;
  };
  return { feed, inspected, run };
}

test('the event feed passes on the fresh status at the end of each check, once per change', async () => {
  const { run } = recordedFeed();
  const out = await run();
  const actions = out.map((e) => e.Action);
  assert.deepEqual(actions, [
    'create', 'init', 'start',
    'health_status: starting', // first seen: passed on as reported
    'health_status: healthy', // the first check passed (read at its exec_died)
    'exec',
    'health_status: unhealthy', // the third check failed: at ITS exec_died, not one check later
    'exec',
    'health_status: healthy', // the fifth check passed
    'die', 'cleanup', 'cleanup', 'destroy',
  ]);
  // The stale reports (healthy when it had just failed) never reach the healer.
  const unhealthyAt = out.findIndex((e) => e.Action === 'health_status: unhealthy');
  assert.ok(out.slice(0, unhealthyAt).every((e) => e.Action !== 'health_status: unhealthy'));
});

test('event feed: no Podman-only attributes, die keeps its exit code, an inspect only when a check could change the status', async () => {
  const { feed, run } = recordedFeed();
  const out = await run();
  for (const e of out) {
    assert.equal(e.Actor.Attributes.name, 'rec-web');
    assert.equal(e.Actor.Attributes.containerExitCode, undefined);
    assert.equal(e.Actor.Attributes.podId, undefined);
  }
  assert.equal(out.find((e) => e.Action === 'die')?.Actor.Attributes.exitCode, '137');
  // 4 of the 6 checks: a passing check of a healthy container needs none.
  assert.equal(feed.inspects, 4);
});

test("event feed: someone's exec is not taken for a check; exec_died passes only when asked", async () => {
  const base = { Type: 'container', Actor: { ID: 'c1', Attributes: { name: 'w' } }, time: 1, timeNano: 1e9 };
  let inspects = 0;
  const feed = new PodmanEventFeed({
    asked: ['health_status'],
    inspect: async () => {
      inspects++;
      return parseInspect(JSON.parse(fixture('compat-inspect-unhealthy.json')));
    },
  });
  assert.deepEqual(await feed.translate({ ...base, Action: 'exec_died', Actor: { ID: 'c1', Attributes: { name: 'w', containerExitCode: '1' } } }), []);
  assert.equal(inspects, 0, 'no health event came first: not a check, nothing to read');
  const all = new PodmanEventFeed({ inspect: async () => { throw new Error('gone'); } });
  const passed = await all.translate({ ...base, Action: 'exec_died' });
  assert.deepEqual(passed.map((e) => e.Action), ['exec_died']);
  assert.deepEqual(passed[0]?.Actor.Attributes, { name: 'w' });
  // A check's end whose inspect fails (container gone): nothing to pass on, never a throw.
  await all.translate({ ...base, Action: 'health_status', Actor: { ID: 'c1', Attributes: { name: 'w' } } });
  assert.deepEqual((await all.translate({ ...base, Action: 'exec_died', Actor: { ID: 'c1', Attributes: { name: 'w', containerExitCode: '1' } } })).map((e) => e.Action), ['exec_died']);
});

test("classify: Podman's --health-on-failure from the recorded inspect leaves the action to Podman", () => {
  const compat = parseInspect(JSON.parse(fixture('compat-inspect-unhealthy.json')));
  const libpod = JSON.parse(fixture('libpod-inspect-health-on-failure-restart.json')) as { Config: { HealthcheckOnFailureAction: string } };
  assert.equal(libpod.Config.HealthcheckOnFailureAction, 'restart');
  const policy = { enableAutoheal: true, healExited: true } as Parameters<typeof classify>[1];
  const facts = { namespace: '', isSelf: false, deliberateStop: false };
  assert.equal(classify(compat, policy, facts).kind, 'unhealthy');
  const withAction: ContainerInspect = { ...compat, Config: { ...compat.Config, HealthcheckOnFailureAction: libpod.Config.HealthcheckOnFailureAction } };
  assert.deepEqual(classify(withAction, policy, facts), { kind: 'skip', reason: 'engine_health_action', detail: "Podman's --health-on-failure=restart acts on it when it turns unhealthy" });
});

test("client on Podman: reads --health-on-failure from Podman's own inspect for an unhealthy container; anchors name filters", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rm-podman-'));
  const socketPath = join(dir, 'podman.sock');
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${decodeURIComponent(req.url ?? '')}`);
    const url = new URL(req.url ?? '/', 'http://engine');
    const send = (body: string): void => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(body);
    };
    if (url.pathname === '/_ping') {
      res.writeHead(200, { 'Api-Version': '1.41', 'Libpod-Api-Version': '4.3.1', Server: 'Libpod/4.3.1 (linux)' });
      res.end('OK');
    } else if (url.pathname === '/v1.41/containers/rec-web/json') send(fixture('compat-inspect-unhealthy.json'));
    else if (url.pathname.startsWith('/v1.41/libpod/containers/')) send(fixture('libpod-inspect-health-on-failure-restart.json'));
    else if (url.pathname === '/v1.41/containers/json') send('[]');
    else {
      res.writeHead(404);
      res.end('{"message":"no such thing"}');
    }
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  const client = createDockerClient({ DOCKER_HOST: `unix://${socketPath}` });
  t.after(async () => {
    client.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });
  const info = await client.inspect('rec-web');
  assert.equal(client.engineKind, 'podman');
  assert.equal(info.Config.HealthcheckOnFailureAction, 'restart');
  assert.ok(requests.some((r) => /^GET \/v1\.41\/libpod\/containers\/[0-9a-f]{64}\/json$/.test(r)), requests.join('\n'));
  await client.listContainers({ all: true, filters: { name: ['^/rec-'] } });
  assert.ok(requests.includes('GET /v1.41/containers/json?all=1&filters={"name":["^rec-"]}'), requests.join('\n'));
});

test("Podman's own states get Docker's names: a just-exited container is 'stopped' until Podman's cleanup", () => {
  assert.equal(dockerState('stopped'), 'exited');
  assert.equal(dockerState('stopping'), 'running');
  assert.equal(dockerState('configured'), 'created');
  for (const same of ['running', 'exited', 'paused', 'created', 'removing', 'dead', 'restarting']) assert.equal(dockerState(same), same);
});

test('an inspect without a health check has no Health, as on Docker (Podman answers Health.Status "")', () => {
  const none = parseInspect(JSON.parse(fixture('compat-inspect-no-healthcheck.json')));
  assert.equal(none.State.Health?.Status, '', 'the recorded reply');
  assert.equal(dockerInspect(none).State.Health, undefined);
  const unhealthy = dockerInspect(parseInspect(JSON.parse(fixture('compat-inspect-unhealthy.json'))));
  assert.equal(unhealthy.State.Health?.Status, 'unhealthy', 'a real status is kept');
});

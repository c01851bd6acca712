// DockerClient against the private test engine: every call, the error codes, restart honouring t,
// demultiplexed logs, and the event stream (filters, since/until, cancellation, an event split
// across chunks by a real HTTP stream).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDockerClient, type DockerClient } from '../../src/docker/client.js';
import { resolveEndpoint } from '../../src/docker/endpoint.js';
import { CLIENT_MAX_API_VERSION, compareApiVersions } from '../../src/docker/negotiate.js';
import type { DockerEvent } from '../../src/docker/types.js';
import { isRepairmanError, type ErrorCode } from '../../src/errors.js';
import { docker, hasTestEngine, removeNamespace, runContainer, testDockerHost, TEST_IMAGE, uniqueNamespace, waitFor } from '../helpers/engine.js';

const skip = hasTestEngine() ? false : 'REPAIRMAN_TEST_DOCKER_HOST is not set';

async function rejectsCode(p: Promise<unknown>, code: ErrorCode, pattern?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isRepairmanError(err, code), `expected ${code}, got ${String(err)}`);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

/** Collect events until `until(events)` holds or the time runs out, then abort the stream. */
async function collectEvents(client: DockerClient, opts: Parameters<DockerClient['events']>[0], until: (events: DockerEvent[]) => boolean, timeoutMs = 15_000): Promise<DockerEvent[]> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  const events: DockerEvent[] = [];
  try {
    for await (const e of client.events({ ...opts, signal: ac.signal })) {
      events.push(e);
      if (until(events)) break;
    }
  } finally {
    clearTimeout(timer);
  }
  return events;
}

describe('DockerClient against the private engine', { skip }, () => {
  let client: DockerClient;
  let ns: string;

  before(() => {
    client = createDockerClient({ DOCKER_HOST: testDockerHost() });
    ns = uniqueNamespace('dclient');
  });
  after(async () => {
    client?.close();
    if (ns) await removeNamespace(ns);
  });

  test('ping and version; the API version is min(engine, client)', async () => {
    await client.ping();
    const v = await client.version();
    const cliView = await docker(['version', '--format', '{{.Server.APIVersion}}']);
    assert.equal(v.ApiVersion, cliView);
    assert.ok(v.Version.length > 0 && v.Os === 'linux');
    const expected = compareApiVersions(v.ApiVersion, CLIENT_MAX_API_VERSION) < 0 ? v.ApiVersion : CLIENT_MAX_API_VERSION;
    assert.equal(client.apiVersion, expected);
  });

  test('listContainers: server-side filters, all, labels', async () => {
    const running = `${ns}list-run`;
    const exited = `${ns}list-exit`;
    await runContainer(running, { labels: { 'org.example.role': 'web', 'com.docker.compose.service': 'zażółć' } });
    await runContainer(exited, { cmd: 'exit 3', labels: { 'org.example.role': 'job' } });
    await waitFor('the job to exit', async () => (await docker(['inspect', '-f', '{{.State.Status}}', exited])) === 'exited');
    const byName = { name: [`^/${ns}list-`] };
    const live = await client.listContainers({ filters: byName });
    assert.deepEqual(live.map((c) => c.Names[0]), [`/${running}`]);
    assert.equal(live[0]!.State, 'running');
    assert.equal(live[0]!.Labels['com.docker.compose.service'], 'zażółć');
    assert.equal(live[0]!.Labels['org.example.role'], undefined, 'labels Repairman does not read are not kept');
    const all = await client.listContainers({ all: true, filters: byName });
    assert.deepEqual(all.map((c) => c.Names[0]).sort(), [`/${exited}`, `/${running}`]);
    assert.equal(all.find((c) => c.Names[0] === `/${exited}`)!.State, 'exited');
    const jobs = await client.listContainers({ all: true, filters: { ...byName, label: ['org.example.role=job'] } });
    assert.deepEqual(jobs.map((c) => c.Names[0]), [`/${exited}`]);
    const none = await client.listContainers({ all: true, filters: { name: [`^/${ns}nothing-here`] } });
    assert.deepEqual(none, []);
  });

  test('inspect: state, config, labels, restart policy', async () => {
    const name = `${ns}inspect`;
    const id = await runContainer(name, { labels: { a: 'b' }, restart: 'on-failure:3', extra: ['--stop-timeout', '7'] });
    const c = await client.inspect(name);
    assert.equal(c.Id, id);
    assert.equal(c.Name, `/${name}`);
    assert.equal(c.State.Running, true);
    assert.equal(c.State.Status, 'running');
    assert.equal(c.Config.Labels?.a, 'b');
    assert.equal(c.Config.Image, TEST_IMAGE);
    assert.equal(c.Config.StopTimeout, 7);
    assert.equal(c.Config.Tty, false);
    assert.deepEqual(c.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
    assert.equal((await client.inspect(id)).Name, `/${name}`, 'by id too');
  });

  test('start, stop(t) and the 304s of starting a running / stopping a stopped container', async () => {
    const name = `${ns}startstop`;
    await docker(['create', '--name', name, TEST_IMAGE, 'sh', '-c', 'trap "" TERM; sleep 1000']);
    assert.equal((await client.inspect(name)).State.Status, 'created');
    await client.start(name);
    assert.equal((await client.inspect(name)).State.Running, true);
    await client.start(name); // 304: already running
    const t0 = Date.now();
    await client.stop(name, { stopTimeoutSec: 1 });
    const took = Date.now() - t0;
    assert.ok(took >= 900 && took < 5000, `stop with t=1 took ${took} ms`);
    const state = (await client.inspect(name)).State;
    assert.equal(state.Running, false);
    assert.equal(state.ExitCode, 137, 'killed after ignoring SIGTERM for t seconds');
    await client.stop(name, { stopTimeoutSec: 1 }); // 304: already stopped
  });

  test('restart respects t: a container ignoring SIGTERM takes about t seconds', async () => {
    const name = `${ns}restart`;
    await runContainer(name, { cmd: 'trap "" TERM; sleep 1000' });
    const timed = async (t: number): Promise<number> => {
      const before = (await client.inspect(name)).State.StartedAt;
      const t0 = Date.now();
      await client.restart(name, { stopTimeoutSec: t });
      const took = Date.now() - t0;
      const now = await client.inspect(name);
      assert.equal(now.State.Running, true);
      assert.notEqual(now.State.StartedAt, before, 'it really restarted');
      return took;
    };
    const one = await timed(1);
    const three = await timed(3);
    // Upper bounds far below the default 10 s, with room for a loaded engine's slow start.
    assert.ok(one >= 900 && one < 5000, `t=1 took ${one} ms`);
    assert.ok(three >= 2900 && three < 8000, `t=3 took ${three} ms`);
    // The bounds above already tell t=1 from t=3; a difference on top only measures the engine's load.
    assert.ok(three > one, `t=3 (${three} ms) should take longer than t=1 (${one} ms)`);
    // Without t, the engine uses the container's own stop timeout (here 1 s) and so do our deadlines.
    const own = `${ns}restart-own`;
    await runContainer(own, { cmd: 'trap "" TERM; sleep 1000', extra: ['--stop-timeout', '1'] });
    const t0 = Date.now();
    await client.restart(own);
    const took = Date.now() - t0;
    assert.ok(took >= 900 && took < 5000, `restart with the container's StopTimeout=1 took ${took} ms`);
  });

  test('remove: 409 for a running container without force, then force and volumes; 404 afterwards', async () => {
    const name = `${ns}remove`;
    await runContainer(name);
    await rejectsCode(client.remove(name), 'RM_ENGINE_CONFLICT', /running container|stop the container/i);
    await client.remove(name, { force: true, volumes: true });
    await rejectsCode(client.inspect(name), 'RM_ENGINE_NOT_FOUND');
    const stopped = `${ns}remove-stopped`;
    await runContainer(stopped, { cmd: 'exit 0' });
    await waitFor('exit', async () => (await docker(['inspect', '-f', '{{.State.Status}}', stopped])) === 'exited');
    await client.remove(stopped);
    await rejectsCode(client.inspect(stopped), 'RM_ENGINE_NOT_FOUND');
  });

  test('404 for a missing container on every container call', async () => {
    const missing = `${ns}does-not-exist`;
    await rejectsCode(client.inspect(missing), 'RM_ENGINE_NOT_FOUND', /No such container/);
    await rejectsCode(client.start(missing), 'RM_ENGINE_NOT_FOUND');
    await rejectsCode(client.stop(missing, { stopTimeoutSec: 1 }), 'RM_ENGINE_NOT_FOUND');
    await rejectsCode(client.restart(missing, { stopTimeoutSec: 1 }), 'RM_ENGINE_NOT_FOUND');
    await rejectsCode(client.remove(missing, { force: true }), 'RM_ENGINE_NOT_FOUND');
    await rejectsCode(client.logs(missing), 'RM_ENGINE_NOT_FOUND');
  });

  test('logs: stdout and stderr demultiplexed, tail N, and a TTY container\'s raw stream', async () => {
    const name = `${ns}logs`;
    await runContainer(name, { cmd: 'echo out; echo err >&2; echo out2; echo err2 >&2; sleep 1000' });
    const logs = (await waitFor('the four lines', async () => {
      const l = await client.logs(name);
      return l.lines.length === 4 ? l : undefined;
    }))!;
    assert.equal(logs.stdout, 'out\nout2\n');
    assert.equal(logs.stderr, 'err\nerr2\n');
    assert.deepEqual(logs.lines.filter((l) => l.stream === 'stdout').map((l) => l.text), ['out', 'out2']);
    assert.deepEqual(logs.lines.filter((l) => l.stream === 'stderr').map((l) => l.text), ['err', 'err2']);
    const last = await client.logs(name, { tail: 1 });
    assert.equal(last.lines.length, 1);
    assert.ok(['out2', 'err2'].includes(last.lines[0]!.text));
    const onlyErr = await client.logs(name, { stdout: false });
    assert.equal(onlyErr.stdout, '');
    assert.equal(onlyErr.stderr, 'err\nerr2\n');
    const many = `${ns}logs-many`;
    await runContainer(many, { cmd: 'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo line $i; done; sleep 1000' });
    const tail = (await waitFor('12 lines', async () => ((await client.logs(many)).lines.length === 12 ? client.logs(many, { tail: 10 }) : undefined)))!;
    assert.deepEqual(tail.lines.map((l) => l.text), [3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((i) => `line ${i}`));
    const tty = `${ns}logs-tty`;
    await runContainer(tty, { cmd: 'echo tty-out; echo tty-err >&2; sleep 1000', extra: ['-t'] });
    const raw = (await waitFor('tty output', async () => {
      const l = await client.logs(tty);
      return l.lines.length >= 2 ? l : undefined;
    }))!;
    assert.equal(raw.stderr, '');
    assert.deepEqual(raw.lines.map((l) => l.text), ['tty-out', 'tty-err'], 'a TTY merges both into one raw stream');
  });

  test('events: filtered live stream, since/until replay', async () => {
    const name = `${ns}events`;
    const since = Math.floor(Date.now() / 1000) - 1;
    const live = collectEvents(client, { filters: { type: ['container'], container: [name] } }, (evs) => evs.some((e) => e.Action === 'die'));
    // Give the stream a moment to be established before the container exists.
    await new Promise((r) => setTimeout(r, 300));
    await runContainer(name, { cmd: 'sleep 0.3; exit 4' });
    const events = await live;
    const actions = events.map((e) => e.Action);
    assert.ok(actions.includes('create') && actions.includes('start') && actions.includes('die'), actions.join(','));
    const die = events.find((e) => e.Action === 'die')!;
    assert.equal(die.Type, 'container');
    assert.equal(die.Actor.Attributes.name, name);
    assert.equal(die.Actor.Attributes.exitCode, '4');
    assert.ok(die.timeNano > since * 1e9);
    // Replay: since + until returns past events and then ends by itself.
    const until = Math.floor(Date.now() / 1000) + 1;
    const t0 = Date.now();
    const replay: DockerEvent[] = [];
    for await (const e of client.events({ since, until, filters: { container: [name] } })) replay.push(e);
    assert.ok(Date.now() - t0 < 5000);
    assert.deepEqual(replay.map((e) => e.Action).filter((a) => ['create', 'start', 'die'].includes(a)), ['create', 'start', 'die']);
    // since in the future of those events: none of them.
    const later: DockerEvent[] = [];
    for await (const e of client.events({ since: until, until: until + 1, filters: { container: [name] } })) later.push(e);
    assert.deepEqual(later, []);
  });

  test('events: cancelled mid-way with an AbortSignal, the iterator ends promptly and no connection stays open', async () => {
    const name = `${ns}events-abort`;
    const ac = new AbortController();
    const got: DockerEvent[] = [];
    let abortedAt = 0;
    const loop = (async () => {
      for await (const e of client.events({ filters: { container: [name] }, signal: ac.signal })) {
        got.push(e);
        if (e.Action === 'start') {
          abortedAt = Date.now();
          ac.abort();
        }
      }
    })();
    await new Promise((r) => setTimeout(r, 300));
    await runContainer(name);
    await loop;
    const endedAfter = Date.now() - abortedAt;
    assert.ok(abortedAt > 0, 'saw the start event');
    assert.ok(endedAfter < 500, `ended ${endedAfter} ms after the abort`);
    // Abort while waiting for the next event (nothing happens on this container any more). onOpen
    // says the engine answered though no event came (the healer's event mark starts there).
    const ac2 = new AbortController();
    let openedAt = 0;
    const fallback = setTimeout(() => ac2.abort(), 5_000);
    const onOpen = (): void => {
      openedAt = Date.now();
      setTimeout(() => ac2.abort(), 300);
    };
    for await (const _ of client.events({ filters: { container: [name], event: ['destroy'] }, signal: ac2.signal, onOpen })) assert.fail('no event expected');
    clearTimeout(fallback);
    assert.ok(openedAt > 0, 'onOpen was called on an idle stream');
    assert.ok(Date.now() - openedAt < 1300, `idle stream ended ${Date.now() - openedAt} ms after it opened`);
    await new Promise((r) => setTimeout(r, 50));
    const busy = Object.values((client as unknown as { agent: http.Agent }).agent.sockets).reduce((n, l) => n + (l?.length ?? 0), 0);
    assert.equal(busy, 0, 'no connection still busy with an event stream');
  });

  test('an event arriving split across two chunks (inside a UTF-8 character) through a real HTTP stream', async (t) => {
    const engine = resolveEndpoint({ DOCKER_HOST: testDockerHost() });
    assert.equal(engine.kind, 'unix', 'the private engine listens on a unix socket');
    const upstreamSocket = engine.kind === 'unix' ? engine.socketPath : '';
    // A proxy on its own unix socket: everything passes through, but each chunk of /events is
    // written in two halves 80 ms apart, cut inside the whale emoji of a label when there is one.
    const dir = mkdtempSync(join(tmpdir(), 'rm-split-'));
    const socketPath = join(dir, 'proxy.sock');
    const whale = Buffer.from('🐳', 'utf8');
    let splits = 0;
    let utf8Splits = 0;
    const server = http.createServer((req, res) => {
      const up = http.request({ socketPath: upstreamSocket, path: req.url, method: req.method, headers: req.headers }, (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        if (!req.url?.includes('/events')) {
          upRes.pipe(res);
          return;
        }
        res.flushHeaders();
        let chain = Promise.resolve();
        upRes.on('data', (chunk: Buffer) => {
          chain = chain.then(async () => {
            const w = chunk.indexOf(whale);
            const cut = w >= 0 ? w + 2 : Math.floor(chunk.length / 2);
            if (w >= 0) utf8Splits++;
            splits++;
            res.write(chunk.subarray(0, cut));
            await new Promise((r) => setTimeout(r, 80));
            if (!res.destroyed) res.write(chunk.subarray(cut));
          });
        });
        upRes.on('end', () => void chain.then(() => res.end()));
        res.on('close', () => upRes.destroy());
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    await new Promise<void>((r) => server.listen(socketPath, r));
    const proxied = createDockerClient({ DOCKER_HOST: `unix://${socketPath}` });
    t.after(async () => {
      proxied.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      rmSync(dir, { recursive: true, force: true });
    });
    const name = `${ns}split`;
    const live = collectEvents(proxied, { filters: { container: [name] } }, (evs) => evs.some((e) => e.Action === 'start'));
    await new Promise((r) => setTimeout(r, 300));
    await runContainer(name, { labels: { note: 'whale 🐳 here' } });
    const events = await live;
    const start = events.find((e) => e.Action === 'start');
    assert.ok(start, `got ${events.map((e) => e.Action).join(',')}`);
    assert.equal(start.Actor.Attributes.note, 'whale 🐳 here');
    assert.equal(start.Actor.Attributes.name, name);
    // The create and start events may reach the proxy as one chunk on a busy machine: one split is enough.
    assert.ok(splits >= 1, `the proxy split ${splits} chunks`);
    assert.ok(utf8Splits >= 1, 'at least one chunk was cut inside the emoji');
    assert.equal(proxied.badEventLines, 0);
  });

  test('callCount counts HTTP requests', async () => {
    const before = client.callCount;
    await client.listContainers({ filters: { name: [`^/${ns}`] } });
    await client.ping();
    assert.equal(client.callCount, before + 2);
  });
});

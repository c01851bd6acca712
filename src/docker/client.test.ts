// DockerClient against a scripted fake engine on a unix socket: negotiation, error mapping,
// deadlines, aborts and reply validation (the event stream: client-events.test.ts). The real engine is
// exercised in test/integration/docker-client.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRepairmanError } from '../errors.js';
import { createDockerClient } from './client.js';
import { fakeEngine, json, rejectsCode, type Handler } from '../../test/helpers/fake-engine-server.js';

const ok: Handler = (_req, res, url) => {
  if (url.pathname.endsWith('/containers/json')) json(res, 200, [{ Id: 'a', Names: ['/a'], State: 'running', Status: 'Up', Labels: {} }]);
};

test('negotiation: the engine\'s version when older than ours, ours when the engine is newer', async (t) => {
  for (const [engine, expected] of [['1.41', '1.41'], ['1.45', '1.45'], ['1.51', '1.51'], ['1.60', '1.51']] as const) {
    const fake = await fakeEngine(ok, engine);
    t.after(() => fake.close());
    const c = fake.client();
    await c.listContainers();
    assert.equal(c.apiVersion, expected);
    assert.equal(c.engineApiVersion, engine);
    assert.deepEqual(fake.requests, ['GET /_ping', `GET /v${expected}/containers/json`]);
  }
});

test('negotiation: calls starting together share one ping; later calls ping no more', async (t) => {
  const fake = await fakeEngine(ok, '1.43');
  t.after(() => fake.close());
  const c = fake.client();
  await Promise.all([c.listContainers(), c.listContainers(), c.listContainers()]);
  await c.listContainers();
  assert.equal(fake.requests.filter((r) => r === 'GET /_ping').length, 1);
  assert.equal(c.callCount, 5);
});

test('negotiation: without the API-Version header, /version is asked', async (t) => {
  const fake = await fakeEngine((req, res, url) => {
    if (url.pathname === '/version') json(res, 200, { Version: '24.0.0', ApiVersion: '1.43', Os: 'linux', Arch: 'amd64' });
    else ok(req, res, url);
  }, null);
  t.after(() => fake.close());
  const c = fake.client();
  await c.listContainers();
  assert.deepEqual(fake.requests, ['GET /_ping', 'GET /version', 'GET /v1.43/containers/json']);
});

test('negotiation: an engine older than API 1.41 is refused clearly; a failed negotiation is retried later', async (t) => {
  let version = '1.40';
  const fake = await fakeEngine((_req, res, url) => {
    if (url.pathname === '/_ping') res.setHeader('Api-Version', version);
    else ok(_req, res, url);
  }, null);
  t.after(() => fake.close());
  const c = fake.client();
  await rejectsCode(c.listContainers(), 'RM_ENGINE_ERROR', /API 1\.40, older than 1\.41/);
  version = '1.41';
  assert.equal((await c.listContainers()).length, 1);
});

test('an engine replaced by an older one ("client version is too new") is renegotiated once', async (t) => {
  let engine = '1.47';
  const fake = await fakeEngine((_req, res, url) => {
    if (url.pathname === '/_ping') res.setHeader('Api-Version', engine);
    else if (!url.pathname.startsWith(`/v${engine}/`)) json(res, 400, { message: `client version ${url.pathname.split('/')[1]!.slice(1)} is too new. Maximum supported API version is ${engine}` });
    else ok(_req, res, url);
  }, null);
  t.after(() => fake.close());
  const c = fake.client();
  await c.listContainers();
  engine = '1.41';
  assert.equal((await c.listContainers()).length, 1);
  assert.equal(c.apiVersion, '1.41');
});

test('statuses: 404 NOT_FOUND, 409 CONFLICT, others ERROR with the engine\'s message; 304 fine for start/stop', async (t) => {
  const fake = await fakeEngine((_req, res, url) => {
    const p = url.pathname;
    if (p.endsWith('/missing/json')) json(res, 404, { message: 'No such container: missing' });
    else if (p.endsWith('/busy')) json(res, 409, { message: 'You cannot remove a running container' });
    else if (p.endsWith('/broken/json')) json(res, 500, { message: 'boom inside' });
    else if (p.endsWith('/teapot/json')) { res.writeHead(418); res.end('plain text error'); }
    else if (p.endsWith('/start') || p.endsWith('/stop')) { res.writeHead(304); res.end(); }
    else if (p.endsWith('/restart')) { res.writeHead(304); res.end(); }
  });
  t.after(() => fake.close());
  const c = fake.client();
  await rejectsCode(c.inspect('missing'), 'RM_ENGINE_NOT_FOUND', /No such container: missing/);
  await rejectsCode(c.remove('busy'), 'RM_ENGINE_CONFLICT', /cannot remove a running container/);
  await rejectsCode(c.inspect('broken'), 'RM_ENGINE_ERROR', /500: boom inside/);
  await rejectsCode(c.inspect('teapot'), 'RM_ENGINE_ERROR', /418: plain text error/);
  await c.start('x');
  await c.stop('x', { stopTimeoutSec: 1 });
  // restart has no "already" state: a 304 there is not success.
  await rejectsCode(c.restart('x', { stopTimeoutSec: 1 }), 'RM_ENGINE_ERROR', /304/);
});

test('bad replies: not JSON, wrong shape, oversized', async (t) => {
  let reply: () => [number, string] = () => [200, '[]'];
  const fake = await fakeEngine((_req, res, url) => {
    if (url.pathname === '/_ping') return;
    const [status, body] = reply();
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(body);
  });
  t.after(() => fake.close());
  const c = fake.client({ maxBodyBytes: 4096, maxListRecordBytes: 4096 });
  reply = () => [200, '<html>proxy error</html>'];
  await rejectsCode(c.listContainers(), 'RM_ENGINE_BAD_REPLY', /not JSON/);
  reply = () => [200, '{"Id":"x"}'];
  await rejectsCode(c.listContainers(), 'RM_ENGINE_BAD_REPLY', /not an array/);
  reply = () => [200, '[{"Names":["/x"],"State":"running"}]'];
  await rejectsCode(c.listContainers(), 'RM_ENGINE_BAD_REPLY', /containers\[0\]\.Id/);
  reply = () => [200, '{"Id":"x","Name":"/x"}'];
  await rejectsCode(c.inspect('x'), 'RM_ENGINE_BAD_REPLY', /State/);
  reply = () => [200, JSON.stringify([{ Id: 'x'.repeat(10_000), State: 'running' }])];
  await rejectsCode(c.listContainers(), 'RM_ENGINE_BAD_REPLY', /^GET \/containers\/json: containers\[0\] takes more than 4 KB of the listing, the most accepted for one container; refusing to read more: is a proxy, or something other than dockerd, answering at unix:\/\/\S+\?$/);
  reply = () => [200, '[' + ' '.repeat(10_000) + ']'];
  await rejectsCode(c.listContainers(), 'RM_ENGINE_BAD_REPLY', /containers\[0\] takes more than 4 KB/); // blanks between entries count too
  reply = () => [200, '[{"Id":"x","State":"running"},'];
  await rejectsCode(c.listContainers(), 'RM_ENGINE_BAD_REPLY', /not JSON \(the document ends in the middle/);
  reply = () => [200, '[]'];
  assert.deepEqual(await c.listContainers(), [], 'the client still works after a refused reply');
  assert.equal(c.bufferedReplyBytes, 0);
});

test('listings are streamed: 3000 containers with 3 KB of labels (10 MB) are read, only the labels Repairman reads kept; one entry over 1 MB is refused', async (t) => {
  const labels = (i: number): Record<string, string> => ({
    'com.docker.compose.project': 'p', 'com.docker.compose.service': `s${i}`, 'org.riotkit.repairman.max_restarts_in_frame': '3',
    autoheal: 'true', 'autoheal.stop.timeout': '5', 'deunhealth.restart.on.unhealthy': 'true', 'com.docker.swarm.task.id': 't',
    'org.opencontainers.image.description': 'x'.repeat(3000), autoheal2: 'no',
  });
  const many = JSON.stringify(Array.from({ length: 3000 }, (_, i) => ({
    Id: `id${i}`, Names: [`/c${i}`, `/other/alias${i}`], Image: 'img', Created: i, State: 'exited', Status: 'Exited (1) 2 hours ago',
    Labels: labels(i), Mounts: [{ Type: 'volume' }], NetworkSettings: { Networks: { bridge: { IPAddress: '' } } },
  })));
  const huge = JSON.stringify([{ Id: 'a', Names: ['/a'], State: 'running', Status: 'Up', Labels: { pad: 'x'.repeat(2 * 1024 * 1024) } }]);
  let body = many;
  let announced = 0;
  const fake = await fakeEngine((_req, res, url) => {
    if (url.pathname === '/_ping') return;
    if (url.pathname.endsWith('/huge/json')) {
      // 100 MB announced, 64 KB sent, then nothing: only the header can have been read.
      announced++;
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(100 * 1024 * 1024) });
      res.write(Buffer.alloc(64 * 1024, 0x20));
      return;
    }
    if (url.pathname.endsWith('/containers/json')) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(body);
      return;
    }
    // An inspect of 2 MB, chunked (no Content-Length): refused once 1 MB has come.
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write(`{"Id":"a","pad":"`);
    res.end(`${'x'.repeat(2 * 1024 * 1024)}"}`);
  });
  t.after(() => fake.close());
  const c = fake.client();
  assert.ok(Buffer.byteLength(many) > 8 * 1024 * 1024, `the listing is ${Buffer.byteLength(many)} bytes`);
  const list = await c.listContainers();
  assert.equal(list.length, 3000);
  assert.deepEqual(list[7], {
    Id: 'id7', Names: ['/c7'], Created: 7, State: 'exited', Status: 'Exited (1) 2 hours ago',
    Labels: {
      'com.docker.compose.project': 'p', 'com.docker.compose.service': 's7', 'org.riotkit.repairman.max_restarts_in_frame': '3',
      autoheal: 'true', 'autoheal.stop.timeout': '5', 'deunhealth.restart.on.unhealthy': 'true', 'com.docker.swarm.task.id': 't',
    },
  });
  body = huge;
  await rejectsCode(c.listContainers(), 'RM_ENGINE_BAD_REPLY', /^GET \/containers\/json: containers\[0\] takes more than 1 MB of the listing/);
  await rejectsCode(c.inspect('a'), 'RM_ENGINE_BAD_REPLY', /^GET \/containers\/a\/json: the reply is larger than 1 MB, the most accepted for an inspect \(usually 10-30 KB\); refusing to buffer it: is a proxy/);
  const t0 = Date.now();
  await rejectsCode(c.inspect('huge'), 'RM_ENGINE_BAD_REPLY', /the engine announced a reply of 100 MB, more than the 1 MB accepted for an inspect/);
  assert.ok(Date.now() - t0 < 1000, 'refused on its header, not at the deadline');
  assert.equal(announced, 1);
  assert.equal(c.bufferedReplyBytes, 0);
  body = many;
  assert.equal((await c.listContainers()).length, 3000, 'still works');
  const few = fake.client({ maxListRecords: 100 });
  await rejectsCode(few.listContainers(), 'RM_ENGINE_BAD_REPLY', /the listing has more than 100 containers; refusing to read more/);
  const extra = fake.client({ extraLabels: ['autoheal2'] });
  assert.equal((await extra.listContainers())[0]?.Labels.autoheal2, 'no', 'a configured label name is kept too');
});

test('reply budget: the replies read at once share maxBufferedBytes; what is refused says so, and the budget is given back', async (t) => {
  const chunk = Buffer.alloc(256 * 1024, 0x20);
  const fake = await fakeEngine((_req, res, url) => {
    if (url.pathname === '/_ping') return;
    // Chunked, slowly: 600 KB each, the closing brace last.
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write('{"Id":"a","Name":"/a","State":{"Status":"running","Running":true},"Config":{}');
    let sent = 0;
    const more = (): void => {
      if (res.destroyed) return;
      if (sent >= 600 * 1024) return void res.end('}');
      sent += chunk.length;
      res.write(chunk);
      setTimeout(more, 20);
    };
    more();
  });
  t.after(() => fake.close());
  const c = fake.client({ maxBufferedBytes: 1024 * 1024 });
  const results = await Promise.allSettled([c.inspect('a'), c.inspect('a')]);
  const refused = results.filter((r) => r.status === 'rejected');
  assert.equal(refused.length, 1, JSON.stringify(results.map((r) => r.status)));
  const err = (refused[0] as PromiseRejectedResult).reason as Error;
  assert.ok(isRepairmanError(err, 'RM_ENGINE_BAD_REPLY'));
  assert.match(err.message, /^GET \/containers\/a\/json: the replies being read at once would take more than 1 MB; refusing to buffer this one \(tried again at the next re-check\)$/);
  assert.equal(c.bufferedReplyBytes, 0);
  assert.equal((await c.inspect('a')).Id, 'a', 'alone, the same reply fits');
  assert.equal(c.bufferedReplyBytes, 0);
});

test('something that is not HTTP at all is a bad reply', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rm-garbage-'));
  const socketPath = join(dir, 's.sock');
  const server = net.createServer((s) => s.end('this is not http\r\n\r\n'));
  await new Promise<void>((r) => server.listen(socketPath, r));
  t.after(() => { server.close(); rmSync(dir, { recursive: true, force: true }); });
  const c = createDockerClient({ DOCKER_HOST: `unix://${socketPath}` });
  await rejectsCode(c.ping(), 'RM_ENGINE_BAD_REPLY', /valid HTTP/);
});

test('unreachable: missing socket, refused tcp, connection dropped mid-reply', async (t) => {
  await rejectsCode(createDockerClient({ DOCKER_HOST: 'unix:///nonexistent/dir/docker.sock' }).ping(), 'RM_ENGINE_UNREACHABLE', /does not exist/);
  const port = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  await rejectsCode(createDockerClient({ DOCKER_HOST: `tcp://127.0.0.1:${port}` }).ping(), 'RM_ENGINE_UNREACHABLE', /refused/);
  const fake = await fakeEngine((_req, res, url) => {
    if (url.pathname.endsWith('/containers/json')) {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '1000' });
      res.write('[{"Id":');
      setTimeout(() => res.socket?.destroy(), 20);
    }
  });
  t.after(() => fake.close());
  await rejectsCode(fake.client().listContainers(), 'RM_ENGINE_UNREACHABLE');
});

test('a kept-alive connection closed under us: a GET is retried once on a new connection, a POST is not', async (t) => {
  // The engine drops the second request on each connection without answering, as when an idle
  // connection is closed at the moment it is reused.
  const perSocket = new WeakMap<net.Socket, number>();
  const fake = await fakeEngine((req, res, url) => {
    const n = (perSocket.get(req.socket) ?? 0) + 1;
    perSocket.set(req.socket, n);
    if (n === 2) {
      req.socket.destroy();
      return;
    }
    if (url.pathname.endsWith('/containers/json')) json(res, 200, []);
    else if (url.pathname.endsWith('/start')) { res.writeHead(204); res.end(); }
  });
  t.after(() => fake.close());
  const c = fake.client();
  await c.ping();
  assert.deepEqual(await c.listContainers(), []);
  assert.deepEqual(fake.requests, ['GET /_ping', 'GET /v1.45/containers/json', 'GET /v1.45/containers/json']);
  await c.listContainers(); // second request on the new connection: dropped, then retried again
  await rejectsCode(c.start('x'), 'RM_ENGINE_UNREACHABLE'); // 2nd request on the newest connection
  assert.equal(fake.requests.filter((r) => r.endsWith('/start')).length, 1, 'the POST was not repeated');
});

test('deadline: no answer, or a reply that stalls half way, is RM_ENGINE_TIMEOUT after callTimeoutMs', async (t) => {
  const fake = await fakeEngine((_req, res, url) => {
    if (url.pathname.endsWith('/slow/json')) return; // never answers
    if (url.pathname.endsWith('/stall/json')) { res.writeHead(200, { 'Content-Type': 'application/json' }); res.write('{"Id":'); }
  });
  t.after(() => fake.close());
  const c = fake.client({ callTimeoutMs: 150 });
  let t0 = Date.now();
  await rejectsCode(c.inspect('slow'), 'RM_ENGINE_TIMEOUT', /within 150 ms/);
  assert.ok(Date.now() - t0 < 1000);
  t0 = Date.now();
  await rejectsCode(c.inspect('stall'), 'RM_ENGINE_TIMEOUT');
  assert.ok(Date.now() - t0 < 1000);
});

test('a listing may be given a longer deadline than the client\'s (a whole host is listed slowly)', async (t) => {
  const fake = await fakeEngine((_req, res, url) => {
    if (url.pathname.endsWith('/containers/json')) setTimeout(() => json(res, 200, []), 300);
  });
  t.after(() => fake.close());
  const c = fake.client({ callTimeoutMs: 100 });
  await rejectsCode(c.listContainers({ all: true }), 'RM_ENGINE_TIMEOUT', /within 100 ms/);
  assert.deepEqual(await c.listContainers({ all: true, timeoutMs: 2000 }), []);
});

test('restart and stop get the stop timeout plus a margin, not the short call deadline', async (t) => {
  const fake = await fakeEngine((_req, res, url) => {
    if (url.pathname.endsWith('/restart') || url.pathname.endsWith('/stop')) setTimeout(() => { res.writeHead(204); res.end(); }, 400);
    if (url.pathname.endsWith('/json')) json(res, 200, { Id: 'x', Name: '/x', State: { Status: 'running', Running: true }, Config: { StopTimeout: 2 }, HostConfig: {} });
  });
  t.after(() => fake.close());
  const c = fake.client({ callTimeoutMs: 100 });
  await c.restart('x', { stopTimeoutSec: 1 });
  await c.stop('x', { stopTimeoutSec: 0 });
  assert.ok(fake.requests.includes('POST /v1.45/containers/x/restart?t=1'));
  assert.ok(fake.requests.includes('POST /v1.45/containers/x/stop?t=0'));
  // Without t the engine uses the container's own StopTimeout: the client reads it first.
  await c.restart('x');
  assert.deepEqual(fake.requests.slice(-2), ['GET /v1.45/containers/x/json', 'POST /v1.45/containers/x/restart']);
  await assert.rejects(c.restart('x', { stopTimeoutSec: -1 }), TypeError);
  await assert.rejects(c.stop('x', { stopTimeoutSec: 1.5 }), TypeError);
});

test('abort: a pre-aborted or mid-way aborted call rejects with the signal\'s reason and leaves nothing open', async (t) => {
  const fake = await fakeEngine(() => undefined); // never answers anything but ping
  t.after(() => fake.close());
  const c = fake.client();
  await c.ping();
  const pre = AbortSignal.abort();
  await assert.rejects(c.inspect('x', { signal: pre }), { name: 'AbortError' });
  const ac = new AbortController();
  const t0 = Date.now();
  setTimeout(() => ac.abort(), 50);
  await assert.rejects(c.inspect('x', { signal: ac.signal }), { name: 'AbortError' });
  assert.ok(Date.now() - t0 < 1000);
  const reason = new Error('shutting down');
  const ac2 = new AbortController();
  setTimeout(() => ac2.abort(reason), 20);
  await assert.rejects(c.listContainers({ signal: ac2.signal }), (err) => err === reason);
  await new Promise((r) => setTimeout(r, 20));
  // The aborted calls reused the ping's kept-alive connection and closed it: nothing is left open.
  assert.equal(c.openConnections, 0);
  // Nor is a deadline timer left behind (it would hold a shutting-down process for its duration).
  const ac3 = new AbortController();
  const restarting = c.restart('x', { stopTimeoutSec: 60, signal: ac3.signal });
  await new Promise((r) => setTimeout(r, 20));
  const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  ac3.abort();
  await assert.rejects(restarting, { name: 'AbortError' });
  const timersAfter = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  assert.equal(timersAfter, timersBefore - 1);
});

test('query strings: all, JSON filters, remove force/v, logs tail, events since/until/filters', async (t) => {
  const fake = await fakeEngine((_req, res, url) => {
    if (url.pathname.endsWith('/containers/json')) json(res, 200, []);
    else if (url.pathname.endsWith('/logs')) { res.writeHead(200, { 'Content-Type': 'application/vnd.docker.multiplexed-stream' }); res.end(); }
    else if (url.pathname.endsWith('/events')) { res.writeHead(200); res.end(); }
    else if (url.pathname !== '/_ping') { res.writeHead(204); res.end(); }
  });
  t.after(() => fake.close());
  const c = fake.client();
  await c.listContainers({ all: true, filters: { label: ['a=b'], name: ['^/x'] } });
  await c.listContainers({ filters: {} });
  await c.remove('x y', { force: true, volumes: true });
  await c.remove('z');
  await c.logs('x', { tail: 10 });
  for await (const _ of c.events({ since: 100, until: '200', filters: { type: ['container'] } })) assert.fail('no events expected');
  const q = fake.requests.slice(1).map((r) => decodeURIComponent(r));
  assert.deepEqual(q, [
    'GET /v1.45/containers/json?all=1&filters={"label":["a=b"],"name":["^/x"]}',
    'GET /v1.45/containers/json',
    'DELETE /v1.45/containers/x y?force=1&v=1',
    'DELETE /v1.45/containers/z',
    'GET /v1.45/containers/x/logs?stdout=1&stderr=1&tail=10',
    'GET /v1.45/events?since=100&until=200&filters={"type":["container"]}',
  ]);
  await assert.rejects(c.logs('x', { tail: -1 }), TypeError);
  await assert.rejects(c.inspect(''), TypeError);
});

function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
}

test('logs: framing from the Content-Type, or from the container\'s Tty on engines that do not say', async (t) => {
  let contentType: string | undefined;
  let tty = false;
  let body = Buffer.alloc(0);
  const fake = await fakeEngine((_req, res, url) => {
    if (url.pathname.endsWith('/logs')) {
      res.writeHead(200, contentType ? { 'Content-Type': contentType } : {});
      res.end(body);
    } else if (url.pathname.endsWith('/json')) {
      json(res, 200, { Id: 'x', Name: '/x', State: { Status: 'running', Running: true }, Config: { Tty: tty }, HostConfig: {} });
    }
  });
  t.after(() => fake.close());
  const c = fake.client();
  const muxed = Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n')]);
  contentType = 'application/vnd.docker.multiplexed-stream';
  body = muxed;
  assert.deepEqual((await c.logs('x')).lines, [{ stream: 'stdout', text: 'out' }, { stream: 'stderr', text: 'err' }]);
  contentType = 'application/vnd.docker.raw-stream';
  body = Buffer.from('tty line\n');
  assert.deepEqual(await c.logs('x'), { stdout: 'tty line\n', stderr: '', lines: [{ stream: 'stdout', text: 'tty line' }] });
  const before = fake.requests.length;
  contentType = undefined;
  tty = true;
  assert.equal((await c.logs('x')).stdout, 'tty line\n');
  assert.ok(fake.requests.slice(before).some((r) => r.endsWith('/containers/x/json')), 'inspected for Tty');
  tty = false;
  body = muxed;
  assert.equal((await c.logs('x')).stderr, 'err\n');
  body = Buffer.from('not frames\n');
  contentType = 'application/vnd.docker.multiplexed-stream';
  await rejectsCode(c.logs('x'), 'RM_ENGINE_BAD_REPLY', /not multiplexed/);
});

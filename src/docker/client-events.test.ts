// DockerClient's event stream against a scripted fake engine: framing, bad lines, errors when opening,
// no deadline, abort, a connection lost mid-stream, and onOpen (the engine answered: the healer's
// event mark starts there).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRepairmanError } from '../errors.js';
import type { DockerEvent } from './types.js';
import { fakeEngine, json } from '../../test/helpers/fake-engine-server.js';

const event = (n: number): string => JSON.stringify({ Type: 'container', Action: 'start', Actor: { ID: `id${n}`, Attributes: { name: `c${n}` } }, time: n, timeNano: n * 1e9 });

test('events: split chunks, several per chunk, bad lines skipped and counted, clean end', async (t) => {
  const fake = await fakeEngine((_req, res, url) => {
    if (url.pathname !== '/v1.45/events') return;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    const e1 = event(1);
    res.write(e1.slice(0, 20));
    setTimeout(() => {
      res.write(`${e1.slice(20)}\n${event(2)}\nnot json\n{"Type":"container"}\n\n${event(3)}`);
      setTimeout(() => res.end('\n'), 30);
    }, 50);
  });
  t.after(() => fake.close());
  const c = fake.client();
  const got: DockerEvent[] = [];
  for await (const e of c.events()) got.push(e);
  assert.deepEqual(got.map((e) => e.Actor.ID), ['id1', 'id2', 'id3']);
  assert.equal(c.badEventLines, 2);
});

test('events: an engine error when opening the stream is thrown; the stream has no deadline', async (t) => {
  const fake = await fakeEngine((_req, res, url) => {
    if (url.pathname !== '/v1.45/events') return;
    if (url.searchParams.get('since') === 'bad') { json(res, 400, { message: 'invalid since' }); return; }
    res.writeHead(200);
    res.write(`${event(1)}\n`);
    setTimeout(() => res.end(`${event(2)}\n`), 400); // longer than the call deadline
  });
  t.after(() => fake.close());
  const c = fake.client({ callTimeoutMs: 100 });
  await assert.rejects(async () => { for await (const _ of c.events({ since: 'bad' })) { /* none */ } }, (err: unknown) => isRepairmanError(err, 'RM_ENGINE_ERROR') && /invalid since/.test(err.message));
  const got: string[] = [];
  for await (const e of c.events()) got.push(e.Actor.ID);
  assert.deepEqual(got, ['id1', 'id2']);
});

test('events: abort ends the iteration promptly and closes the connection; so does breaking out', async (t) => {
  let serverSideCloses = 0;
  const fake = await fakeEngine((req, res, url) => {
    if (url.pathname !== '/v1.45/events') return;
    res.writeHead(200);
    res.write(`${event(1)}\n`);
    req.socket.on('close', () => serverSideCloses++);
  });
  t.after(() => fake.close());
  const c = fake.client();
  const ac = new AbortController();
  const got: string[] = [];
  const t0 = Date.now();
  setTimeout(() => ac.abort(), 100);
  for await (const e of c.events({ signal: ac.signal })) got.push(e.Actor.ID);
  assert.deepEqual(got, ['id1']);
  assert.ok(Date.now() - t0 < 1000, `ended after ${Date.now() - t0} ms`);
  for await (const _ of c.events()) break;
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(serverSideCloses, 2);
  assert.equal(c.openConnections, 0, 'the streams reused the ping connection and closed it');
  // A signal aborted before the call: no request at all.
  const before = fake.requests.length;
  for await (const _ of c.events({ signal: AbortSignal.abort() })) assert.fail('none');
  assert.equal(fake.requests.length, before);
});

test('a connection lost in the middle of the event stream is RM_ENGINE_UNREACHABLE', async (t) => {
  const fake = await fakeEngine((req, res, url) => {
    if (url.pathname !== '/v1.45/events') return;
    res.writeHead(200);
    res.write(`${event(1)}\n`);
    setTimeout(() => req.socket.destroy(), 50);
  });
  t.after(() => fake.close());
  const c = fake.client();
  const got: string[] = [];
  await assert.rejects(async () => { for await (const e of c.events()) got.push(e.Actor.ID); }, (err: unknown) => isRepairmanError(err, 'RM_ENGINE_UNREACHABLE'));
  assert.deepEqual(got, ['id1']);
});

test('events: onOpen once the engine has answered, before any event; never when opening fails', async (t) => {
  let release: () => void = () => undefined;
  const fake = await fakeEngine((_req, res, url) => {
    if (url.pathname !== '/v1.45/events') return;
    if (url.searchParams.get('since') === 'bad') { json(res, 400, { message: 'invalid since' }); return; }
    res.writeHead(200);
    res.flushHeaders();
    release = () => res.end(`${event(1)}\n`);
  });
  t.after(() => fake.close());
  const c = fake.client();
  const seen: string[] = [];
  const it = c.events({ onOpen: () => seen.push('open') })[Symbol.asyncIterator]();
  const first = it.next();
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(seen, ['open'], 'answered, no event yet');
  release();
  const r = await first;
  seen.push(r.done ? 'done' : r.value.Actor.ID);
  assert.deepEqual(seen, ['open', 'id1']);
  let failedOpens = 0;
  await assert.rejects(async () => { for await (const _ of c.events({ since: 'bad', onOpen: () => failedOpens++ })) { /* none */ } }, (err: unknown) => isRepairmanError(err, 'RM_ENGINE_ERROR'));
  assert.equal(failedOpens, 0);
});

// httpGet (repairman healthcheck / status): the body cap, refused early on Content-Length.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { GetError, httpGet } from './client.js';

async function server(handler: http.RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const s = http.createServer(handler);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      s.closeAllConnections();
      return new Promise<void>((r) => s.close(() => r()));
    },
  };
}

test('httpGet: answers within the cap are read whole; larger ones are refused, at once when announced', async (t) => {
  const srv = await server((req, res) => {
    if (req.url === '/small') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, pad: 'x'.repeat(500 * 1024) }));
    } else if (req.url === '/announced') {
      // 100 MB announced, a little sent, then nothing: only the header can have been read.
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(100 * 1024 * 1024) });
      res.write(Buffer.alloc(1024, 0x20));
    } else {
      // Chunked, 3 MB.
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < 3; i++) res.write(Buffer.alloc(1024 * 1024, 0x20));
      res.end();
    }
  });
  t.after(() => srv.close());
  const small = await httpGet(`${srv.url}/small`, { timeoutMs: 2000 });
  assert.equal(small.status, 200);
  assert.equal((JSON.parse(small.body) as { pad: string }).pad.length, 500 * 1024);

  const t0 = Date.now();
  await assert.rejects(httpGet(`${srv.url}/announced`, { timeoutMs: 5000 }), (err: unknown) => {
    assert.ok(err instanceof GetError && err.reason === 'too_large', String(err));
    assert.equal(err.message, `the answer is 100 MB, more than the 1 MB accepted here: is it a Repairman answering at ${srv.url}?`);
    return true;
  });
  assert.ok(Date.now() - t0 < 1000, 'refused on its header, not at the deadline');

  await assert.rejects(httpGet(`${srv.url}/chunked`, { timeoutMs: 5000 }), /^GetError: the answer is larger than the 1 MB accepted here: is it a Repairman answering at http:\/\/127\.0\.0\.1:\d+\?$/);
  const larger = await httpGet(`${srv.url}/chunked`, { timeoutMs: 5000, maxBodyBytes: 4 * 1024 * 1024 });
  assert.equal(larger.body.length, 3 * 1024 * 1024, 'a caller may allow more (status: /api/containers)');
});

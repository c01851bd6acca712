// willfarrell/docker-autoheal's DOCKER_SOCK (docs/behaviour.md §11), read when DOCKER_HOST is not set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveEndpoint } from './endpoint.js';

test('a path is a unix socket; tcp:// is plain tcp; DOCKER_HOST wins', () => {
  assert.deepEqual(resolveEndpoint({ DOCKER_SOCK: '/run/user/1000/docker.sock' }), { kind: 'unix', socketPath: '/run/user/1000/docker.sock', display: 'unix:///run/user/1000/docker.sock' });
  const tcp = resolveEndpoint({ DOCKER_SOCK: 'tcp://socket-proxy:2375' });
  assert.equal(tcp.kind === 'tcp' && `${tcp.host}:${tcp.port}:${String(Boolean(tcp.tls))}`, 'socket-proxy:2375:false');
  assert.equal(resolveEndpoint({ DOCKER_SOCK: '/x.sock', DOCKER_HOST: 'unix:///y.sock' }).display, 'unix:///y.sock');
  // DOCKER_TLS_VERIFY belongs to DOCKER_HOST: tcp:// from DOCKER_SOCK stays plain, as in willfarrell.
  const plain = resolveEndpoint({ DOCKER_SOCK: 'tcp://h:2375', DOCKER_TLS_VERIFY: '1' });
  assert.equal(plain.kind === 'tcp' && plain.tls, undefined);
});

test('tcps:// is TLS with ca.pem, client-cert.pem and client-key.pem (in /certs, or DOCKER_CERT_PATH)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rm-certs-'));
  writeFileSync(join(dir, 'ca.pem'), 'CA');
  writeFileSync(join(dir, 'client-cert.pem'), 'CERT');
  writeFileSync(join(dir, 'client-key.pem'), 'KEY');
  const ep = resolveEndpoint({ DOCKER_SOCK: 'tcps://engine:2376', DOCKER_CERT_PATH: dir });
  assert.ok(ep.kind === 'tcp' && ep.tls);
  assert.equal(ep.tls.cert?.toString(), 'CERT');
  assert.equal(ep.tls.key?.toString(), 'KEY');
  assert.equal(ep.port, 2376);
  const empty = mkdtempSync(join(tmpdir(), 'rm-certs-'));
  assert.throws(() => resolveEndpoint({ DOCKER_SOCK: 'tcps://engine:2376', DOCKER_CERT_PATH: empty }), /no ca\.pem: expected a folder with ca\.pem, client-cert\.pem and client-key\.pem/);
});

test('a bad DOCKER_SOCK names DOCKER_SOCK', () => {
  assert.throws(() => resolveEndpoint({ DOCKER_SOCK: 'relative.sock' }), /DOCKER_SOCK=/);
});

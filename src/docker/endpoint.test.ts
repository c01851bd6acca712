import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRepairmanError, type ErrorCode } from '../errors.js';
import { DEFAULT_DOCKER_HOST, DEFAULT_DOCKER_SOCKET, defaultSocket, resolveEndpoint, ROOTFUL_PODMAN_SOCKET, sshArgs, tlsVerifyEnabled } from './endpoint.js';

function certDir(files: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'rm-ep-'));
  for (const f of files) writeFileSync(join(dir, f), `pem of ${f}`);
  return dir;
}

function throwsCode(fn: () => unknown, code: ErrorCode, ...patterns: RegExp[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isRepairmanError(err, code), `expected ${code}, got ${String(err)}`);
    for (const p of patterns) assert.match(err.message, p);
    return true;
  });
}

// These only resolve strings: no test connects to the default socket (integration tests refuse it).
test('default: the docker CLI\'s default socket when DOCKER_HOST is unset or empty', () => {
  assert.equal(DEFAULT_DOCKER_HOST, `unix://${DEFAULT_DOCKER_SOCKET}`);
  for (const env of [{}, { DOCKER_HOST: '' }, { DOCKER_HOST: '  ' }]) {
    assert.deepEqual(resolveEndpoint(env, () => true), { kind: 'unix', socketPath: DEFAULT_DOCKER_SOCKET, display: DEFAULT_DOCKER_HOST });
  }
});

test('unix sockets', () => {
  assert.equal((resolveEndpoint({ DOCKER_HOST: 'unix:///tmp/x/docker.sock' }) as { socketPath: string }).socketPath, '/tmp/x/docker.sock');
  assert.equal((resolveEndpoint({ DOCKER_HOST: 'unix://' }) as { socketPath: string }).socketPath, DEFAULT_DOCKER_SOCKET);
  throwsCode(() => resolveEndpoint({ DOCKER_HOST: 'unix://relative.sock' }), 'RM_CONFIG_INVALID', /DOCKER_HOST/, /relative\.sock/, /absolute/);
});

test('tcp without TLS: port 2375 by default, base path kept, IPv6', () => {
  assert.deepEqual(resolveEndpoint({ DOCKER_HOST: 'tcp://10.0.0.5' }), { kind: 'tcp', host: '10.0.0.5', port: 2375, basePath: '', display: 'tcp://10.0.0.5:2375' });
  const ep = resolveEndpoint({ DOCKER_HOST: 'tcp://docker.example:1234/proxy/' });
  assert.deepEqual(ep, { kind: 'tcp', host: 'docker.example', port: 1234, basePath: '/proxy', display: 'tcp://docker.example:1234/proxy' });
  const v6 = resolveEndpoint({ DOCKER_HOST: 'tcp://[::1]:2375' });
  assert.equal(v6.kind === 'tcp' && v6.host, '::1');
  assert.equal(v6.display, 'tcp://[::1]:2375');
});

test('tcp: bad ports and hosts name the variable, the value and what is expected', () => {
  for (const bad of ['tcp://host:0', 'tcp://host:99999', 'tcp://host:', 'tcp://', 'tcp://user:pw@host:1']) {
    throwsCode(() => resolveEndpoint({ DOCKER_HOST: bad }), 'RM_CONFIG_INVALID', /DOCKER_HOST=/, /expected/);
  }
  // The password is never repeated.
  assert.throws(() => resolveEndpoint({ DOCKER_HOST: 'tcp://user:s3cret@host:1' }), (err: Error) => !err.message.includes('s3cret'));
});

test('DOCKER_TLS_VERIFY: any non-empty value but 0/false turns TLS on', () => {
  for (const on of ['1', 'true', 'yes', 'TRUE', 'anything']) assert.equal(tlsVerifyEnabled(on), true, on);
  for (const off of [undefined, '', '0', 'false', 'FALSE', ' 0 ', 'no', 'off']) assert.equal(tlsVerifyEnabled(off), false, String(off));
});

test('tcp with TLS reads ca.pem, cert.pem, key.pem from DOCKER_CERT_PATH; port 2376 by default', (t) => {
  const dir = certDir(['ca.pem', 'cert.pem', 'key.pem']);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ep = resolveEndpoint({ DOCKER_HOST: 'tcp://127.0.0.1', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir });
  assert.ok(ep.kind === 'tcp' && ep.tls);
  assert.equal(ep.port, 2376);
  assert.equal(ep.tls.ca.toString(), 'pem of ca.pem');
  assert.equal(ep.tls.cert?.toString(), 'pem of cert.pem');
  assert.equal(ep.tls.key?.toString(), 'pem of key.pem');
  assert.match(ep.display, /\(TLS\)/);
  // TLS verify off: the files are not read at all.
  const plain = resolveEndpoint({ DOCKER_HOST: 'tcp://127.0.0.1', DOCKER_TLS_VERIFY: '0', DOCKER_CERT_PATH: '/nonexistent' });
  assert.ok(plain.kind === 'tcp' && !plain.tls && plain.port === 2375);
});

test('TLS defaults to ~/.docker (HOME) when DOCKER_CERT_PATH is unset', (t) => {
  const home = mkdtempSync(join(tmpdir(), 'rm-home-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  throwsCode(() => resolveEndpoint({ DOCKER_HOST: 'tcp://h:1', DOCKER_TLS_VERIFY: '1', HOME: home }), 'RM_ENGINE_TLS', /DOCKER_CERT_PATH \(unset, default ~\/\.docker\)/, /ca\.pem/);
});

test('TLS: missing folder, no ca.pem, or a cert without its key are RM_ENGINE_TLS naming the folder', (t) => {
  const onlyCa = certDir(['ca.pem']);
  const noKey = certDir(['ca.pem', 'cert.pem']);
  const noCa = certDir(['cert.pem', 'key.pem']);
  t.after(() => [onlyCa, noKey, noCa].forEach((d) => rmSync(d, { recursive: true, force: true })));
  throwsCode(() => resolveEndpoint({ DOCKER_HOST: 'tcp://h:1', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/nonexistent/certs' }), 'RM_ENGINE_TLS', /DOCKER_CERT_PATH="\/nonexistent\/certs"/, /ca\.pem, cert\.pem and key\.pem/);
  throwsCode(() => resolveEndpoint({ DOCKER_HOST: 'tcp://h:1', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: noCa }), 'RM_ENGINE_TLS', /no ca\.pem/);
  throwsCode(() => resolveEndpoint({ DOCKER_HOST: 'tcp://h:1', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: noKey }), 'RM_ENGINE_TLS', /cert\.pem but no key\.pem/);
  // ca.pem alone is fine: an engine that does not ask for a client certificate.
  const ep = resolveEndpoint({ DOCKER_HOST: 'tcp://h:1', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: onlyCa });
  assert.ok(ep.kind === 'tcp' && ep.tls && ep.tls.cert === undefined);
});

test('TLS settings do not matter for unix and ssh hosts', () => {
  assert.equal(resolveEndpoint({ DOCKER_HOST: 'unix:///x.sock', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/nonexistent' }).kind, 'unix');
  assert.equal(resolveEndpoint({ DOCKER_HOST: 'ssh://h', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/nonexistent' }).kind, 'ssh');
});

test('ssh://[user@]host[:port] and the ssh command line of the docker CLI', () => {
  const full = resolveEndpoint({ DOCKER_HOST: 'ssh://deploy@example.invalid:2222' });
  assert.deepEqual(full, { kind: 'ssh', host: 'example.invalid', user: 'deploy', port: 2222, display: 'ssh://deploy@example.invalid:2222' });
  assert.deepEqual(sshArgs(full as { host: string }), ['-o', 'ConnectTimeout=30', '-T', '-l', 'deploy', '-p', '2222', '--', 'example.invalid', 'docker', 'system', 'dial-stdio']);
  const bare = resolveEndpoint({ DOCKER_HOST: 'ssh://example.invalid' });
  assert.deepEqual(bare, { kind: 'ssh', host: 'example.invalid', display: 'ssh://example.invalid' });
  assert.deepEqual(sshArgs(bare as { host: string }), ['-o', 'ConnectTimeout=30', '-T', '--', 'example.invalid', 'docker', 'system', 'dial-stdio']);
});

test('ssh: passwords, paths and bad ports are refused, the password never shown', () => {
  assert.throws(() => resolveEndpoint({ DOCKER_HOST: 'ssh://me:hunter2@host' }), (err: unknown) => {
    assert.ok(isRepairmanError(err, 'RM_CONFIG_INVALID'));
    assert.ok(!err.message.includes('hunter2'), err.message);
    assert.match(err.message, /ssh:\/\/me:\*\*\*@host/);
    assert.ok(!JSON.stringify(err.details).includes('hunter2'));
    return true;
  });
  throwsCode(() => resolveEndpoint({ DOCKER_HOST: 'ssh://host/some/path' }), 'RM_CONFIG_INVALID', /no path/);
  throwsCode(() => resolveEndpoint({ DOCKER_HOST: 'ssh://host:0' }), 'RM_CONFIG_INVALID', /port/);
  throwsCode(() => resolveEndpoint({ DOCKER_HOST: 'ssh://' }), 'RM_CONFIG_INVALID', /ssh:\/\//);
});

test('unknown schemes and plain text are configuration errors', () => {
  for (const bad of ['npipe:////./pipe/docker_engine', 'fd://', 'http://host:2375', '/run/docker.sock', 'localhost:2375']) {
    throwsCode(() => resolveEndpoint({ DOCKER_HOST: bad }), 'RM_CONFIG_INVALID', /DOCKER_HOST=/, /expected/);
  }
});

test('DOCKER_HOST unset: Docker\'s socket when it exists, else rootless Podman\'s, else rootful Podman\'s', () => {
  const only = (...paths: string[]) => (p: string): boolean => paths.includes(p);
  const env = { XDG_RUNTIME_DIR: '/run/user/1000' };
  const rootless = '/run/user/1000/podman/podman.sock';
  assert.equal(defaultSocket(env, only(DEFAULT_DOCKER_SOCKET, rootless)), DEFAULT_DOCKER_SOCKET);
  assert.equal(defaultSocket(env, only(rootless, ROOTFUL_PODMAN_SOCKET)), rootless);
  assert.equal(defaultSocket(env, only(ROOTFUL_PODMAN_SOCKET)), ROOTFUL_PODMAN_SOCKET);
  assert.equal(defaultSocket({}, only(rootless)), DEFAULT_DOCKER_SOCKET, 'no XDG_RUNTIME_DIR: no rootless socket to look for');
  assert.equal(defaultSocket({ XDG_RUNTIME_DIR: 'relative' }, only('relative/podman/podman.sock')), DEFAULT_DOCKER_SOCKET);
  assert.equal(defaultSocket(env, only()), DEFAULT_DOCKER_SOCKET, 'none exists: the usual one, named in the error');
  assert.deepEqual(resolveEndpoint(env, only(rootless)), { kind: 'unix', socketPath: rootless, display: `unix://${rootless}` });
  assert.deepEqual(resolveEndpoint({ ...env, DOCKER_HOST: '' }, only(rootless)), { kind: 'unix', socketPath: rootless, display: `unix://${rootless}` });
  // DOCKER_HOST set: used as given, whatever exists.
  assert.deepEqual(resolveEndpoint({ ...env, DOCKER_HOST: 'unix:///tmp/engine/docker.sock' }, only(rootless)).display, 'unix:///tmp/engine/docker.sock');
});

test('the default sockets are paths a test can give (the rootless integration test never looks at /var/run/docker.sock)', () => {
  const sockets = { docker: '/tmp/none/docker.sock', rootfulPodman: '/tmp/none/podman.sock' };
  const env = { XDG_RUNTIME_DIR: '/tmp/rootless/xdg' };
  const rootless = '/tmp/rootless/xdg/podman/podman.sock';
  const only = (...paths: string[]) => (p: string): boolean => paths.includes(p);
  assert.equal(defaultSocket(env, only(DEFAULT_DOCKER_SOCKET, rootless), sockets), rootless, 'the real default is not looked at');
  assert.equal(defaultSocket(env, only(sockets.docker, rootless), sockets), sockets.docker);
  assert.equal(defaultSocket({}, only(sockets.rootfulPodman), sockets), sockets.rootfulPodman);
  assert.equal(defaultSocket({}, only(), sockets), sockets.docker);
  assert.equal((resolveEndpoint({ DOCKER_HOST: 'unix://' }, only(), sockets) as { socketPath: string }).socketPath, sockets.docker);
});

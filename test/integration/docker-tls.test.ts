// TLS: a second private engine of this test's own, listening on tcp://127.0.0.1:<free port> with
// --tlsverify and certificates generated here with openssl. The right certificates connect; a
// missing folder, a client certificate from another CA, a CA that did not sign the engine's
// certificate, no client certificate, and plain HTTP to the TLS port all fail with a clear message.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createDockerClient, type DockerClient } from '../../src/docker/client.js';
import { isRepairmanError } from '../../src/errors.js';
import { hasTestEngine } from '../helpers/engine.js';

const execFileP = promisify(execFile);
const skip = hasTestEngine() ? false : 'REPAIRMAN_TEST_DOCKER_HOST is not set';
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

async function openssl(cwd: string, args: string[]): Promise<void> {
  await execFileP('openssl', args, { cwd, timeout: 30_000 });
}

/** A CA (name.pem, name-key.pem) in dir. */
async function makeCa(dir: string, name: string): Promise<void> {
  await openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', `${name}-key.pem`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${name}`]);
}

/** A certificate (name-cert.pem, name-key.pem) signed by the CA `ca`, for server or client use. */
async function makeCert(dir: string, name: string, ca: string, usage: 'serverAuth' | 'clientAuth'): Promise<void> {
  await openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
  const ext = usage === 'serverAuth' ? 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' : 'extendedKeyUsage=clientAuth\n';
  writeFileSync(join(dir, `${name}.ext`), ext);
  await openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}-key.pem`, '-CAcreateserial',
    '-out', `${name}-cert.pem`, '-days', '2', '-extfile', `${name}.ext`]);
}

/** A DOCKER_CERT_PATH folder from the given files. */
function certFolder(base: string, name: string, files: { ca?: string; cert?: string; key?: string }): string {
  const dir = join(base, name);
  mkdirSync(dir);
  if (files.ca) copyFileSync(join(base, files.ca), join(dir, 'ca.pem'));
  if (files.cert) copyFileSync(join(base, files.cert), join(dir, 'cert.pem'));
  if (files.key) copyFileSync(join(base, files.key), join(dir, 'key.pem'));
  return dir;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

describe('TLS to the engine (tcp:// + DOCKER_TLS_VERIFY + DOCKER_CERT_PATH)', { skip, timeout: 120_000 }, () => {
  let pki: string;
  let engineDir: string;
  let engineEnv: NodeJS.ProcessEnv;
  let host: string;
  const clients: DockerClient[] = [];
  const tlsClient = (certPath: string | undefined, verify = '1'): DockerClient => {
    const env: NodeJS.ProcessEnv = { DOCKER_HOST: host, DOCKER_TLS_VERIFY: verify, HOME: pki };
    if (certPath !== undefined) env.DOCKER_CERT_PATH = certPath;
    const c = createDockerClient(env, { callTimeoutMs: 5000 });
    clients.push(c);
    return c;
  };
  const folders: Record<string, string> = {};

  before(async () => {
    pki = mkdtempSync(join(tmpdir(), 'rm-tls-pki-'));
    await makeCa(pki, 'ca');
    await makeCa(pki, 'other-ca');
    await Promise.all([
      makeCert(pki, 'server', 'ca', 'serverAuth'),
      makeCert(pki, 'client', 'ca', 'clientAuth'),
    ]);
    await makeCert(pki, 'stranger', 'other-ca', 'clientAuth');
    certFolder(pki, 'engine', { ca: 'ca.pem' });
    copyFileSync(join(pki, 'server-cert.pem'), join(pki, 'engine', 'server-cert.pem'));
    copyFileSync(join(pki, 'server-key.pem'), join(pki, 'engine', 'server-key.pem'));
    folders.good = certFolder(pki, 'good', { ca: 'ca.pem', cert: 'client-cert.pem', key: 'client-key.pem' });
    folders.strangerClient = certFolder(pki, 'stranger-client', { ca: 'ca.pem', cert: 'stranger-cert.pem', key: 'stranger-key.pem' });
    folders.wrongCa = certFolder(pki, 'wrong-ca', { ca: 'other-ca.pem', cert: 'client-cert.pem', key: 'client-key.pem' });
    folders.caOnly = certFolder(pki, 'ca-only', { ca: 'ca.pem' });

    const port = await freePort();
    host = `tcp://127.0.0.1:${port}`;
    engineDir = `/tmp/rm-tls-${randomBytes(4).toString('hex')}`;
    engineEnv = {
      ...process.env,
      REPAIRMAN_ENGINE_DIR: engineDir,
      REPAIRMAN_ENGINE_TCP: `127.0.0.1:${port}`,
      REPAIRMAN_ENGINE_TLS_DIR: join(pki, 'engine'),
      REPAIRMAN_ENGINE_BROWSER: '0',
    };
    await execFileP('bash', ['scripts/test-engine.sh', 'up'], { cwd: repoRoot, env: engineEnv, timeout: 90_000 });
  });

  after(async () => {
    for (const c of clients) c.close();
    if (engineEnv) {
      await execFileP('bash', ['scripts/test-engine.sh', 'down'], { cwd: repoRoot, env: engineEnv, timeout: 60_000 }).catch(() => undefined);
      await execFileP('bash', ['scripts/test-engine.sh', 'purge'], { cwd: repoRoot, env: engineEnv, timeout: 60_000 }).catch(() => undefined);
    }
    if (pki) rmSync(pki, { recursive: true, force: true });
  });

  test('the right certificates connect: ping, version, list', async () => {
    const client = tlsClient(folders.good);
    assert.match(client.endpoint.display, /^tcp:\/\/127\.0\.0\.1:\d+ \(TLS\)$/);
    await client.ping();
    const v = await client.version();
    assert.ok(v.ApiVersion.startsWith('1.'));
    const list = await client.listContainers({ all: true });
    assert.ok(Array.isArray(list));
    assert.ok(client.apiVersion);
  });

  test('a missing certificate folder fails before any connection, naming DOCKER_CERT_PATH', () => {
    assert.throws(() => tlsClient(join(pki, 'no-such-folder')), (err: unknown) => {
      assert.ok(isRepairmanError(err, 'RM_ENGINE_TLS'), String(err));
      assert.match(err.message, /DOCKER_CERT_PATH=".*no-such-folder"/);
      assert.match(err.message, /ca\.pem, cert\.pem and key\.pem/);
      return true;
    });
    // Unset DOCKER_CERT_PATH means ~/.docker (HOME is the empty pki folder here).
    assert.throws(() => tlsClient(undefined), (err: unknown) => isRepairmanError(err, 'RM_ENGINE_TLS') && /~\/\.docker/.test(err.message));
  });

  test('a client certificate signed by another CA is refused by the engine, with a clear message', async () => {
    const client = tlsClient(folders.strangerClient);
    await assert.rejects(client.ping(), (err: unknown) => {
      assert.ok(isRepairmanError(err, 'RM_ENGINE_TLS') || isRepairmanError(err, 'RM_ENGINE_UNREACHABLE'), String(err));
      assert.match(err.message, /client certificate/);
      assert.match(err.message, /127\.0\.0\.1/);
      return true;
    });
  });

  test('no client certificate at all is refused likewise', async () => {
    const client = tlsClient(folders.caOnly);
    await assert.rejects(client.ping(), (err: unknown) => {
      assert.ok(isRepairmanError(err, 'RM_ENGINE_TLS') || isRepairmanError(err, 'RM_ENGINE_UNREACHABLE'), String(err));
      assert.match(err.message, /client certificate/);
      return true;
    });
  });

  test('an engine certificate not signed by our ca.pem is refused by the client', async () => {
    const client = tlsClient(folders.wrongCa);
    await assert.rejects(client.ping(), (err: unknown) => {
      assert.ok(isRepairmanError(err, 'RM_ENGINE_TLS'), String(err));
      assert.match(err.message, /could not be verified with .*wrong-ca\/ca\.pem/);
      return true;
    });
  });

  test('plain HTTP to the TLS port says TLS is expected', async () => {
    const client = tlsClient(folders.good, '0');
    await assert.rejects(client.ping(), (err: unknown) => {
      assert.ok(isRepairmanError(err, 'RM_ENGINE_TLS'), String(err));
      assert.match(err.message, /expects TLS: set DOCKER_TLS_VERIFY=1/);
      return true;
    });
  });
});

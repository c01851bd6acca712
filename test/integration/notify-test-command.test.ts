// `repairman notify-test` as people run it: the built binary, real receivers, statuses masked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasTestEngine, removeNamespace, runContainer, testDockerHost, uniqueNamespace } from '../helpers/engine.js';
import { startReceiver } from '../helpers/receiver.js';

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

interface Run { code: number | null; stdout: string; stderr: string; ms: number }

function notifyTest(args: string[], env: Record<string, string>): Promise<Run> {
  const started = Date.now();
  const clean: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, TZ: 'UTC', ...env };
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'notify-test', ...args], { env: clean, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null) : 0;
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** An engine that surely does not answer, for runs that must not depend on one. */
const NO_ENGINE = { DOCKER_HOST: 'unix:///nonexistent/repairman-notify-test.sock' };

test('two receivers, one 200 and one 500: both statuses printed, URLs masked, exit 1', async (t) => {
  const good = await startReceiver();
  const bad = await startReceiver({ fallback: { status: 500, body: 'boom' } });
  t.after(async () => { await good.close(); await bad.close(); });
  const r = await notifyTest(['--notify-url', `${good.url('/hooks/SECRET-GOOD')},${bad.url('/hooks/SECRET-BAD')}`], NO_ENGINE);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`^ok    http://127\\.0\\.0\\.1:${good.port}/\\*\\*\\* \\(mattermost, from --notify-url\\): HTTP 200 in \\d+ ms$`, 'm'));
  assert.match(r.stdout, new RegExp(`^FAIL  http://127\\.0\\.0\\.1:${bad.port}/\\*\\*\\* \\(mattermost, from --notify-url\\): HTTP 500 Internal Server Error: boom$`, 'm'));
  assert.match(r.stdout, /^2 destinations tested, 1 failed$/m);
  assert.ok(!(r.stdout + r.stderr).includes('SECRET'));
  // One attempt each: a diagnosis shows the 500 rather than retrying it away.
  assert.equal(good.requests.length, 1);
  assert.equal(bad.requests.length, 1);
  const text = (good.requests[0]?.json() as { text: string }).text;
  assert.match(text, /^\*\*\[TEST\] Test notification from Repairman\*\*/);
  assert.match(text, /configured by --notify-url/);
  // The engine could not be asked for labels: said, and the global URLs were still tested.
  assert.match(r.stderr, /Docker engine is not reachable.*testing the global URLs only/);
});

test('all accepted: exit 0; the environment variable is named as the source; formats by prefix', async (t) => {
  const rx = await startReceiver();
  t.after(() => rx.close());
  const r = await notifyTest([], { ...NO_ENGINE, DEFAULT_NOTIFY_URL: `${rx.url('/hooks/a')} json+${rx.url('/json')} apprise+${rx.url('/notify/k')}` });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /\(mattermost, from DEFAULT_NOTIFY_URL\): HTTP 200/);
  assert.match(r.stdout, /^ok {4}json\+http:\/\/127\.0\.0\.1:\d+\/\*\*\* \(json, from DEFAULT_NOTIFY_URL\): HTTP 200/m);
  assert.match(r.stdout, /\(apprise, from DEFAULT_NOTIFY_URL\): HTTP 200/);
  assert.deepEqual(rx.requests.map((q) => q.path).sort(), ['/hooks/a', '/json', '/notify/k']);
  const json = rx.requests.find((q) => q.path === '/json')?.json() as Record<string, unknown>;
  assert.equal(json.kind, 'test');
});

test('no URL configured: said, exit 1', async () => {
  const r = await notifyTest([], NO_ENGINE);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no notification URL is configured/);
});

test('a receiver that does not answer: reported after the timeout, not a hang', async (t) => {
  const hang = await startReceiver({ fallback: { hang: true } });
  t.after(() => hang.close());
  const r = await notifyTest(['--notify-url', hang.url('/hooks/h')], NO_ENGINE);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /FAIL {2}http:\/\/127\.0\.0\.1:\d+\/\*\*\* \(mattermost, from --notify-url\): no HTTP answer: no answer within 5000 ms/);
  assert.ok(r.ms < 10_000, `took ${r.ms} ms`);
});

test('bad settings: exit 2 with the error', async () => {
  const r = await notifyTest(['--notify-url', 'ftp://x.example.org/SECRET'], NO_ENGINE);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /notify_url/);
  assert.ok(!r.stderr.includes('SECRET'));
});

test('URLs from container labels too (private engine), each tested once, bad labels reported', async (t) => {
  if (!hasTestEngine()) return t.skip('REPAIRMAN_TEST_DOCKER_HOST is not set');
  const ns = uniqueNamespace('notifytest');
  const global = await startReceiver();
  const team = await startReceiver({ fallback: { status: 500 } });
  t.after(async () => {
    await removeNamespace(ns);
    await global.close();
    await team.close();
  });
  const env = { DOCKER_HOST: testDockerHost() };
  await runContainer(`${ns}web`, { labels: { 'org.riotkit.repairman.notify_url': team.url('/hooks/team') } });
  await runContainer(`${ns}api`, { labels: { 'org.riotkit.repairman.notify_url': `${team.url('/hooks/team')} ${global.url('/hooks/g')}` } });
  await runContainer(`${ns}plain`);

  // The team's server is an origin the admin allows for labels (docs/behaviour.md §5).
  const allow = ['--label-notify-origins', new URL(team.url('/')).origin];
  const r = await notifyTest(['--namespace', ns, '--notify-url', global.url('/hooks/g'), ...allow], env);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, new RegExp(`^ok    http://127\\.0\\.0\\.1:${global.port}/\\*\\*\\* \\(mattermost, from --notify-url; label on ${ns}api\\): HTTP 200`, 'm'));
  assert.match(r.stdout, new RegExp(`^FAIL  http://127\\.0\\.0\\.1:${team.port}/\\*\\*\\* \\(mattermost, from label on ${ns}api; label on ${ns}web\\): HTTP 500`, 'm'));
  assert.equal(global.requests.length, 1);
  assert.equal(team.requests.length, 1);

  await runContainer(`${ns}broken`, { labels: { 'org.riotkit.repairman.notify_url': 'gopher://x.example.org/SECRET' } });
  team.reply = () => ({ status: 204, body: '' });
  const r2 = await notifyTest(['--namespace', ns, '--notify-url', global.url('/hooks/g'), ...allow], env);
  assert.equal(r2.code, 1, 'an unusable notify_url label fails the test');
  assert.match(r2.stdout, new RegExp(`^FAIL  org\\.riotkit\\.repairman\\.notify_url on ${ns}broken: .*not usable`, 'm'));
  assert.match(r2.stdout, /^2 destinations tested, 0 failed; 1 unusable notify_url label$/m);
  assert.ok(!r2.stdout.includes('SECRET'));
});

// HTTPS: certificates verified against Node's CA store (Mozilla's list, in the binary), plus
// NODE_EXTRA_CA_CERTS; with --use-openssl-ca, against the system's store (SSL_CERT_FILE/SSL_CERT_DIR).
// A receiver with a self-signed certificate made here with openssl.
test('https: an untrusted certificate fails clearly; trusted through NODE_EXTRA_CA_CERTS or the system store, it is delivered', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rm-notify-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { cwd: dir });
  if (made.error || made.status !== 0) return t.skip(`openssl could not make a certificate: ${made.error?.message ?? made.stderr.toString()}`);
  const bodies: string[] = [];
  const srv = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      res.end('ok');
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => { srv.closeAllConnections(); srv.close(() => r()); }));
  const url = `https://127.0.0.1:${(srv.address() as AddressInfo).port}/hooks/SECRET-TLS`;

  const untrusted = await notifyTest(['--notify-url', url], NO_ENGINE);
  assert.equal(untrusted.code, 1, untrusted.stdout + untrusted.stderr);
  assert.match(untrusted.stdout, /^FAIL {2}https:\/\/127\.0\.0\.1:\d+\/\*\*\* \(mattermost, from --notify-url\): no HTTP answer: self-signed certificate \(DEPTH_ZERO_SELF_SIGNED_CERT\): the server's certificate is not signed by a trusted CA \(a private CA can be added with NODE_EXTRA_CA_CERTS=\/path\/to\/ca\.pem\)$/m);
  assert.equal(bodies.length, 0, 'nothing was sent over an unverified connection');

  const extra = await notifyTest(['--notify-url', url], { ...NO_ENGINE, NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem') });
  assert.equal(extra.code, 0, extra.stdout + extra.stderr);
  assert.match(extra.stdout, /^ok {4}https:\/\/127\.0\.0\.1:\d+\/\*\*\* \(mattermost, from --notify-url\): HTTP 200 in \d+ ms$/m);

  const system = await notifyTest(['--notify-url', url], { ...NO_ENGINE, NODE_OPTIONS: '--use-openssl-ca', SSL_CERT_FILE: join(dir, 'cert.pem') });
  assert.equal(system.code, 0, system.stdout + system.stderr);
  assert.equal(bodies.length, 2);
  assert.match((JSON.parse(bodies[0] ?? '{}') as { text: string }).text, /Test notification from Repairman/);
  assert.ok(!(untrusted.stdout + untrusted.stderr + extra.stdout + system.stdout).includes('SECRET'));
});

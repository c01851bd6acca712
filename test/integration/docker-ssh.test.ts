// ssh:// engines: a fake `ssh` first in PATH ignores its ssh arguments (after recording them) and
// runs `docker system dial-stdio` against the private engine, exactly what the real ssh would run on
// the remote host. So the whole path is real but the network hop: spawning, HTTP over stdio,
// keep-alive reuse of one ssh process, the event stream and its cancellation, ssh failures.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDockerClient, type DockerClient } from '../../src/docker/client.js';
import { isRepairmanError } from '../../src/errors.js';
import { hasTestEngine, removeNamespace, runContainer, testDockerHost, uniqueNamespace } from '../helpers/engine.js';

const skip = hasTestEngine() ? false : 'REPAIRMAN_TEST_DOCKER_HOST is not set';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('ssh:// through ssh ... docker system dial-stdio', { skip }, () => {
  let dir: string;
  let ns: string;
  let oldPath: string | undefined;
  const clients: DockerClient[] = [];
  const sshClient = (extra: Record<string, string> = {}, opts: Parameters<typeof createDockerClient>[1] = {}): DockerClient => {
    const c = createDockerClient({ DOCKER_HOST: 'ssh://user@example.invalid:2222', ...extra }, opts);
    clients.push(c);
    return c;
  };
  /** Each ssh invocation: its arguments (one per line) in calls/<pid>. */
  const invocations = (): { pid: number; args: string[] }[] =>
    readdirSync(join(dir, 'calls')).map((f) => ({ pid: Number(f), args: readFileSync(join(dir, 'calls', f), 'utf8').split('\n').slice(0, -1) }));

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'rm-ssh-'));
    ns = uniqueNamespace('dssh');
    writeFileSync(join(dir, 'ssh'), [
      '#!/bin/sh',
      `mkdir -p '${dir}/calls'`,
      `for a in "$@"; do printf '%s\\n' "$a"; done > '${dir}/calls/'$$`,
      'unset DOCKER_TLS_VERIFY DOCKER_CERT_PATH DOCKER_CONTEXT',
      `DOCKER_HOST='${testDockerHost()}' exec docker system dial-stdio`,
      '',
    ].join('\n'));
    chmodSync(join(dir, 'ssh'), 0o755);
    writeFileSync(join(dir, 'failing-ssh'), '#!/bin/sh\necho "ssh: Could not resolve hostname example.invalid: Name or service not known" >&2\nexit 255\n');
    chmodSync(join(dir, 'failing-ssh'), 0o755);
    oldPath = process.env.PATH;
    process.env.PATH = `${dir}:${oldPath ?? ''}`;
  });
  after(async () => {
    for (const c of clients) c.close();
    process.env.PATH = oldPath;
    if (ns) await removeNamespace(ns);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('lists containers through ssh, with the docker CLI\'s ssh arguments, over one kept-alive ssh process', async () => {
    const name = `${ns}listed`;
    await runContainer(name);
    const client = sshClient();
    assert.equal(client.endpoint.display, 'ssh://user@example.invalid:2222');
    const list = await client.listContainers({ filters: { name: [`^/${name}$`] } });
    assert.deepEqual(list.map((c) => c.Names[0]), [`/${name}`]);
    assert.equal((await client.inspect(name)).State.Running, true);
    await client.version();
    const calls = invocations();
    assert.equal(calls.length, 1, `one ssh process for ${client.callCount} sequential calls`);
    const args = calls[0]!.args;
    const expected = ['-l', 'user', '-p', '2222', '--', 'example.invalid', 'docker', 'system', 'dial-stdio'];
    const at = args.indexOf('-l');
    assert.deepEqual(args.slice(at, at + expected.length), expected, args.join(' '));
    assert.equal(args.at(-1), 'dial-stdio', 'nothing after the remote command');
    client.close();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(alive(calls[0]!.pid), false, 'closing the client ends the ssh process');
  });

  test('the event stream over ssh ends promptly on abort and its ssh process goes away', async () => {
    const client = sshClient();
    await client.ping();
    const name = `${ns}events`;
    const ac = new AbortController();
    let abortedAt = 0;
    const seen: string[] = [];
    const loop = (async () => {
      for await (const e of client.events({ filters: { container: [name] }, signal: ac.signal })) {
        seen.push(e.Action);
        if (e.Action === 'start') {
          abortedAt = Date.now();
          ac.abort();
        }
      }
    })();
    await new Promise((r) => setTimeout(r, 500));
    await runContainer(name);
    await loop;
    assert.ok(seen.includes('start'), seen.join(','));
    assert.ok(Date.now() - abortedAt < 500);
    const before = invocations().length;
    await new Promise((r) => setTimeout(r, 200));
    const running = invocations().filter((c) => alive(c.pid));
    // Only the kept-alive connection of the ping may remain; the stream's own ssh is gone.
    assert.ok(running.length <= 1, `${running.length} of ${before} ssh processes still alive`);
  });

  test('ssh failures are RM_ENGINE_UNREACHABLE with ssh\'s own explanation', async () => {
    const failing = sshClient({}, { sshCommand: join(dir, 'failing-ssh') });
    await assert.rejects(failing.ping(), (err: unknown) => {
      assert.ok(isRepairmanError(err, 'RM_ENGINE_UNREACHABLE'), String(err));
      assert.match(err.message, /Could not resolve hostname example\.invalid/);
      assert.match(err.message, /ssh:\/\/user@example\.invalid:2222/);
      return true;
    });
    const missing = sshClient({}, { sshCommand: join(dir, 'no-such-ssh') });
    await assert.rejects(missing.ping(), (err: unknown) => isRepairmanError(err, 'RM_ENGINE_UNREACHABLE') && /not found in PATH/.test(err.message));
    assert.ok(existsSync(join(dir, 'ssh')));
  });
});

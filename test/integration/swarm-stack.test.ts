// examples/swarm-stack.yml deployed for real: a single-node Swarm on the private engine
// (`docker swarm init --advertise-addr 127.0.0.1`), `docker stack deploy` of the file as written (only
// its variables set: the image built from the Dockerfile, the private engine's socket, a free port,
// this test's namespace so it leaves the other test files' containers alone), and then:
// - Repairman runs as the global service's task, its HEALTHCHECK turns healthy, /healthz answers 200;
// - it heals a plain container of the node that turns unhealthy;
// - it leaves a Swarm task that turns unhealthy to Swarm (skipped as swarm_task, never restarted);
// - Prometheus with the example's `repairman-swarm` job (Swarm service discovery, role nodes) finds it
//   and labels it with the node's hostname;
// - `docker stack rm` stops it cleanly (exit 0), and the engine leaves the Swarm afterwards, also when
//   a step failed. A Swarm left by a killed run is left first.
// The image build is shared with image.test.ts (test/helpers/image-build.ts takes turns): in `npm test`
// one of the two builds and the other finds every layer cached.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm as removeDir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { docker, hasTestEngine, TEST_IMAGE, inspectField, removeNamespace, runContainer, testDockerHost, uniqueNamespace, waitFor } from '../helpers/engine.js';
import { buildRepairmanImage, IMAGE, run, tail } from '../helpers/image-build.js';
import { readYaml, REPO_ROOT } from '../helpers/monitoring.js';
import { engineEvents, engineNowSec, freePort, QUICK_STOP_CMD, type LogLine } from '../helpers/repairman.js';

const STACK_FILE = join(REPO_ROOT, 'examples/swarm-stack.yml');

async function swarmState(): Promise<string> {
  return docker(['info', '--format', '{{.Swarm.LocalNodeState}}']);
}

async function leaveSwarm(): Promise<void> {
  if ((await swarmState()) !== 'inactive') await run('docker', ['swarm', 'leave', '--force'], { timeoutMs: 60_000 });
}

async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: (await res.json()) as T };
}

function logLines(text: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const l of text.split('\n')) {
    try {
      const v = JSON.parse(l) as LogLine;
      if (v && typeof v.msg === 'string') lines.push(v);
    } catch {
      // not a log line
    }
  }
  return lines;
}

describe('examples/swarm-stack.yml on a single-node Swarm', { skip: !hasTestEngine() && 'REPAIRMAN_TEST_DOCKER_HOST is not set' }, () => {
  const ns = uniqueNamespace('swarm');
  const stack = ns.replace(/-$/, '');
  const service = `${stack}_repairman`;
  const plain = `${ns}web`;
  const swarmService = `${ns}svc`;
  let port = 0;
  let built = false;
  let buildError = '';
  let deployedAtSec = 0;
  let task = '';

  const repairmanLog = async (): Promise<LogLine[]> => logLines((await run('docker', ['logs', task], { timeoutMs: 30_000 })).out);
  const withLog = async (err: unknown): Promise<Error> =>
    new Error(`${String(err)}\n--- docker logs ${task} ---\n${tail((await run('docker', ['logs', task], { timeoutMs: 30_000 })).out)}`);

  before(async () => {
    const image = await buildRepairmanImage();
    built = image.built;
    buildError = image.error;
    if (!built) return;
    // A Swarm left behind by a killed run of this test would make `swarm init` fail.
    await leaveSwarm();
    await docker(['swarm', 'init', '--advertise-addr', '127.0.0.1']);
    port = await freePort();
    deployedAtSec = await engineNowSec();
    const socket = testDockerHost().replace(/^unix:\/\//, '');
    assert.notEqual(socket, testDockerHost(), 'this test mounts the private engine socket into the task');
    // --resolve-image never: the image is local to this engine (there is no registry to ask for a digest).
    const deploy = await run('docker', ['stack', 'deploy', '--resolve-image', 'never', '-c', STACK_FILE, stack], {
      env: { REPAIRMAN_IMAGE: IMAGE, REPAIRMAN_DOCKER_SOCKET: socket, REPAIRMAN_HTTP_PORT: String(port), REPAIRMAN_NAMESPACE: ns },
    });
    assert.equal(deploy.code, 0, deploy.out);
  });

  after(async () => {
    await run('docker', ['stack', 'rm', stack]);
    await run('docker', ['service', 'rm', swarmService]);
    await waitFor('the stack containers gone', async () => !(await docker(['ps', '-aq', '--filter', `label=com.docker.stack.namespace=${stack}`])), 60_000, 500).catch(() => undefined);
    await leaveSwarm();
    await run('docker', ['volume', 'rm', `${stack}_repairman-data`]);
    await removeNamespace(ns);
    assert.equal(await swarmState(), 'inactive', 'the engine left the Swarm');
  });

  it('runs Repairman as the global service task: one per node, healthy, /healthz 200', async () => {
    assert.ok(built, buildError);
    const mode = await docker(['service', 'inspect', '--format', '{{if .Spec.Mode.Global}}global{{end}}', service]);
    assert.equal(mode, 'global');
    task = await waitFor('the service task container', async () => docker(['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${service}`]), 120_000, 500);
    assert.equal(task.split('\n').length, 1, 'one task on the one node');
    try {
      await waitFor('the task healthy', async () => (await inspectField(task, '{{.State.Health.Status}}')) === 'healthy', 120_000, 500);
    } catch (err) {
      throw await withLog(err);
    }
    assert.equal(await inspectField(task, '{{index .Config.Labels "com.docker.swarm.task.id"}}') !== '', true);
    const health = await getJson<{ ok?: boolean }>(`http://127.0.0.1:${port}/healthz`);
    assert.equal(health.status, 200, JSON.stringify(health.body));
  });

  it('heals a plain container of the node, and leaves an unhealthy Swarm task to Swarm', async () => {
    assert.ok(task, 'Repairman runs');
    await Promise.all([
      runContainer(plain, { cmd: QUICK_STOP_CMD, health: { cmd: 'test -f /tmp/ok', retries: 2 } }),
      docker(['service', 'create', '--detach', '--name', swarmService, '--network', 'host', '--restart-condition', 'none',
        '--health-cmd', 'test -f /tmp/ok', '--health-interval', '1s', '--health-retries', '2', '--health-timeout', '2s',
        '--no-resolve-image', TEST_IMAGE, 'sh', '-c', QUICK_STOP_CMD]),
    ]);
    const swarmTask = await waitFor('the Swarm task running', async () => docker(['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${swarmService}`]), 60_000, 500);
    await waitFor(`${plain} healthy`, async () => (await inspectField(plain, '{{.State.Health.Status}}')) === 'healthy', 60_000, 250);
    await waitFor('the Swarm task healthy', async () => (await inspectField(swarmTask, '{{.State.Health.Status}}')) === 'healthy', 60_000, 250);
    const sinceSec = await engineNowSec();
    const startedBefore = await inspectField(plain, '{{.State.StartedAt}}');
    await docker(['exec', swarmTask, 'rm', '-f', '/tmp/ok']);
    await docker(['exec', plain, 'rm', '-f', '/tmp/ok']);

    const restarted = await waitFor(`Repairman restarting ${plain}`, async () => (await repairmanLog()).find((l) => l.msg === 'restarted' && l.container === plain), 90_000, 500)
      .catch(async (err: unknown) => { throw await withLog(err); });
    assert.equal(restarted?.reason, 'unhealthy');
    await waitFor(`${plain} started again`, async () => (await inspectField(plain, '{{.State.StartedAt}}')) !== startedBefore, 30_000, 250);

    // Swarm's task: Repairman saw it turn unhealthy and skipped it as a Swarm task; no restart of it.
    const metrics = await waitFor('a swarm_task skip counted', async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
      return /^repairman_skips_total\{reason="swarm_task"\} [1-9]/m.test(text) ? text : '';
    }, 60_000, 500);
    assert.match(metrics, /^repairman_engine_up 1$/m);
    const taskName = (await inspectField(swarmTask, '{{.Name}}')).replace(/^\//, '');
    const log = await repairmanLog();
    assert.deepEqual(log.filter((l) => l.container === taskName && /restart|start/.test(l.msg)).map((l) => l.msg), [], 'no action on the Swarm task');
    const restarts = await engineEvents({ since: sinceSec, filters: { container: [swarmTask], event: ['restart'] } });
    assert.deepEqual(restarts, [], 'the engine saw no restart of the Swarm task');
    const containers = await getJson<{ containers: { name: string; watched: boolean; excludedReason: string | null }[] }>(`http://127.0.0.1:${port}/api/containers`);
    const seen = containers.body.containers.find((c) => c.name === taskName);
    if (seen) assert.equal(seen.watched, false, JSON.stringify(seen));
  });

  it("Prometheus finds it with the example's Swarm job and labels it with the node's hostname", async () => {
    assert.ok(task, 'Repairman runs');
    interface Job { job_name: string; dockerswarm_sd_configs: { host: string }[]; relabel_configs: { replacement?: string; target_label?: string }[] }
    const example = await readYaml<{ scrape_configs: Job[] }>(join(REPO_ROOT, 'examples/prometheus/prometheus.yml'));
    const job = example.scrape_configs.find((j) => j.job_name === 'repairman-swarm');
    assert.ok(job);
    // The example's job, pointed at the private engine and this stack's port instead of 8080.
    job.dockerswarm_sd_configs = job.dockerswarm_sd_configs.map((c) => ({ ...c, host: testDockerHost(), refresh_interval: '1s' }));
    const address = job.relabel_configs.find((r) => r.target_label === '__address__');
    assert.equal(address?.replacement, '$1:8080');
    address.replacement = `$1:${port}`;
    const dir = await mkdtemp(join(tmpdir(), 'repairman-prom-swarm-'));
    await writeFile(join(dir, 'prometheus.yml'), JSON.stringify({ global: { scrape_interval: '1s' }, scrape_configs: [job] }));
    const promPort = await freePort();
    let prom: ChildProcess | null = null;
    let promLog = '';
    try {
      prom = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
      prom.stdout!.on('data', (c: Buffer) => (promLog += c.toString()));
      prom.stderr!.on('data', (c: Buffer) => (promLog += c.toString()));
      const hostname = await docker(['node', 'inspect', 'self', '--format', '{{.Description.Hostname}}']);
      interface Target { health: string; labels: Record<string, string>; scrapeUrl: string }
      const target = await waitFor('the Repairman target up', async () => {
        const res = await getJson<{ data: { activeTargets: Target[] } }>(`http://127.0.0.1:${promPort}/api/v1/targets`);
        return res.body.data.activeTargets.find((t) => t.health === 'up');
      }, 60_000, 500).catch((err: unknown): never => assert.fail(`${String(err)}\n--- prometheus ---\n${promLog.slice(-3000)}`));
      assert.ok(target);
      assert.equal(target.labels.host, hostname);
      assert.equal(target.labels.job, 'repairman-swarm');
      assert.equal(target.scrapeUrl, `http://127.0.0.1:${port}/metrics`);
    } finally {
      prom?.kill('SIGTERM');
      if (prom && prom.exitCode === null) await new Promise((r) => prom!.once('exit', r));
      await removeDir(dir, { recursive: true, force: true });
    }
  });

  it('`docker stack rm` stops Repairman cleanly: exit code 0', async () => {
    assert.ok(task, 'Repairman runs');
    const rmStack = await run('docker', ['stack', 'rm', stack]);
    assert.equal(rmStack.code, 0, rmStack.out);
    await waitFor('the task container gone', async () => !(await docker(['ps', '-aq', '--filter', `id=${task}`])), 60_000, 500);
    const dies = await engineEvents({ since: deployedAtSec, filters: { container: [task], event: ['die'] } });
    assert.equal(dies.length, 1, JSON.stringify(dies));
    assert.equal(dies[0]?.Actor.Attributes.exitCode, '0', 'SIGTERM from Swarm ends Repairman with 0');
    const kills = await engineEvents({ since: deployedAtSec, filters: { container: [task], event: ['kill'] } });
    assert.ok(kills.every((k) => k.Actor.Attributes.signal !== '9'), `not killed after the grace period: ${JSON.stringify(kills.map((k) => k.Actor.Attributes.signal))}`);
  });
});

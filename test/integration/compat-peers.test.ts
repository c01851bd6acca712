// docs/behaviour.md §11 on the private engine: Repairman started with the environment and labels of
// willfarrell/docker-autoheal's and qdm12/deunhealth's READMEs heals whom they would heal and leaves
// alone whom they would leave alone. Three instances run side by side, each on its own namespace:
//  - willfarrell, `AUTOHEAL_CONTAINER_LABEL=all` (its README's `docker run` example), engine through
//    DOCKER_SOCK as a socket path, WEBHOOK_URL + WEBHOOK_JSON_KEY, APPRISE_URL and POST_RESTART_SCRIPT
//    pointed at real receivers and a real script;
//  - willfarrell, label mode (only AUTOHEAL_INTERVAL set: label `autoheal=true` opts in), engine through
//    DOCKER_SOCK=tcp:// (a TCP relay in front of the private engine's socket);
//  - deunhealth's README (LOG_LEVEL, HEALTH_SERVER_ADDRESS, label deunhealth.restart.on.unhealthy=true)
//    with healing off globally, as docs/migrating.md says to keep its opt-in behaviour.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { docker, hasTestEngine, removeNamespace, runContainer, testDockerHost, uniqueNamespace, waitFor } from '../helpers/engine.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { startRepairman, type RepairmanProcess } from '../helpers/repairman.js';

/** Unhealthy on its first run only (/tmp/ok appears from the second run on). */
const SICK_ONCE = { cmd: 'if [ -f /tmp/once ]; then touch /tmp/ok; fi; touch /tmp/once; trap "exit 0" TERM; sleep 100000 & wait', health: { cmd: 'test -f /tmp/ok' } };
/** Always unhealthy: must be left alone (a restart would show in the log). */
const SICK = { cmd: 'trap "exit 0" TERM; sleep 100000 & wait', health: { cmd: 'false' } };

/** A TCP port relaying to the engine's unix socket (DOCKER_SOCK=tcp:// needs a TCP engine). */
async function tcpRelay(socketPath: string): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(socketPath);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : 0,
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
}

describe('drop-in for willfarrell/docker-autoheal and deunhealth', { skip: !hasTestEngine() && 'REPAIRMAN_TEST_DOCKER_HOST is not set' }, () => {
  const all = uniqueNamespace('compat-all');
  const lab = uniqueNamespace('compat-label');
  const deu = uniqueNamespace('compat-deun');
  let rmAll: RepairmanProcess;
  let rmLabel: RepairmanProcess;
  let rmDeun: RepairmanProcess;
  let webhook: Receiver;
  let apprise: Receiver;
  let relay: Awaited<ReturnType<typeof tcpRelay>>;
  const dir = mkdtempSync(join(tmpdir(), 'rm-compat-'));
  const argsFile = join(dir, 'args');

  before(async () => {
    const socketPath = testDockerHost().replace(/^unix:\/\//, '');
    assert.ok(socketPath.startsWith('/'), 'the private engine listens on a unix socket');
    relay = await tcpRelay(socketPath);
    webhook = await startReceiver();
    apprise = await startReceiver();
    const script = join(dir, 'post-restart.sh');
    writeFileSync(script, `#!/bin/sh\necho "$@" >> ${argsFile}\n`);
    chmodSync(script, 0o755);

    await Promise.all([
      // AUTOHEAL_CONTAINER_LABEL=all: every container but those labelled autoheal=false, any case.
      runContainer(`${all}plain`, SICK_ONCE),
      runContainer(`${all}false-lower`, { ...SICK, labels: { autoheal: 'false' } }),
      runContainer(`${all}false-title`, { ...SICK, labels: { autoheal: 'False' } }),
      runContainer(`${all}false-upper`, { ...SICK, labels: { autoheal: 'FALSE' } }),
      runContainer(`${all}stop-timeout`, { ...SICK_ONCE, labels: { 'autoheal.stop.timeout': '3' } }),
      // Label mode: autoheal=true (any case) opts in; no label, or a typo, does not.
      runContainer(`${lab}true`, { ...SICK_ONCE, labels: { autoheal: 'true' } }),
      runContainer(`${lab}true-title`, { ...SICK_ONCE, labels: { autoheal: 'True' } }),
      runContainer(`${lab}unlabelled`, SICK),
      runContainer(`${lab}typo`, { ...SICK, labels: { autoheal: 'ture' } }),
      runContainer(`${lab}deunhealth`, { ...SICK_ONCE, labels: { 'deunhealth.restart.on.unhealthy': 'true' } }),
      // deunhealth: only the labelled one.
      runContainer(`${deu}labelled`, { ...SICK_ONCE, labels: { 'deunhealth.restart.on.unhealthy': 'true' } }),
      runContainer(`${deu}unlabelled`, SICK),
    ]);

    const noEngineHost = { DOCKER_HOST: '' };
    [rmAll, rmLabel, rmDeun] = await Promise.all([
      startRepairman({
        namespace: all,
        intervalSec: 2,
        http: true,
        env: {
          ...noEngineHost,
          DOCKER_SOCK: socketPath,
          AUTOHEAL_CONTAINER_LABEL: 'all',
          AUTOHEAL_START_PERIOD: '0',
          AUTOHEAL_INTERVAL: '5',
          AUTOHEAL_DEFAULT_STOP_TIMEOUT: '10',
          CURL_TIMEOUT: '30',
          WEBHOOK_URL: webhook.url('/api/webhooks/1/SECRET'),
          WEBHOOK_JSON_KEY: 'text',
          APPRISE_URL: apprise.url('/notify/apprise'),
          POST_RESTART_SCRIPT: script,
        },
      }),
      startRepairman({ namespace: lab, intervalSec: 2, env: { ...noEngineHost, DOCKER_SOCK: `tcp://127.0.0.1:${relay.port}`, AUTOHEAL_INTERVAL: '5' } }),
      startRepairman({
        namespace: deu,
        intervalSec: 2,
        args: ['--no-enable-autoheal'],
        env: { LOG_LEVEL: 'info', HEALTH_SERVER_ADDRESS: '127.0.0.1:9999', TZ: 'America/Montreal' },
      }),
    ]);
    await Promise.all([
      rmAll.waitForLog((l) => l.msg === 'restarted' && l.container === `${all}plain`, 30_000),
      rmAll.waitForLog((l) => l.msg === 'restarted' && l.container === `${all}stop-timeout`, 30_000),
      rmLabel.waitForLog((l) => l.msg === 'restarted' && l.container === `${lab}true`, 30_000),
      rmLabel.waitForLog((l) => l.msg === 'restarted' && l.container === `${lab}true-title`, 30_000),
      rmLabel.waitForLog((l) => l.msg === 'restarted' && l.container === `${lab}deunhealth`, 30_000),
      rmDeun.waitForLog((l) => l.msg === 'restarted' && l.container === `${deu}labelled`, 30_000),
    ]);
    // The left-alone ones have been unhealthy all along; a few re-checks more.
    await new Promise((r) => setTimeout(r, 4000));
  });

  after(async () => {
    await Promise.all([rmAll?.stop(), rmLabel?.stop(), rmDeun?.stop()]);
    await Promise.all([webhook?.close(), apprise?.close(), relay?.close()]);
    await Promise.all([removeNamespace(all), removeNamespace(lab), removeNamespace(deu)]);
  });

  it('all: heals the unlabelled container, leaves autoheal=false/False/FALSE alone', async () => {
    for (const s of ['false-lower', 'false-title', 'false-upper']) {
      assert.equal(await docker(['inspect', '-f', '{{.State.Health.Status}}', `${all}${s}`]), 'unhealthy', s);
      assert.deepEqual(rmAll.actionsOn(`${all}${s}`), [], rmAll.dump());
    }
  });

  it('autoheal.stop.timeout is the restart stop timeout; AUTOHEAL_DEFAULT_STOP_TIMEOUT the others', () => {
    assert.equal(rmAll.find((l) => l.msg === 'restarting' && l.container === `${all}stop-timeout`)[0]?.stopTimeoutSec, 3);
    assert.equal(rmAll.find((l) => l.msg === 'restarting' && l.container === `${all}plain`)[0]?.stopTimeoutSec, 10);
  });

  it('label mode: autoheal=true and True healed, deunhealth label opts in; unlabelled and a typo left alone', () => {
    for (const s of ['unlabelled', 'typo']) assert.deepEqual(rmLabel.actionsOn(`${lab}${s}`), [], rmLabel.dump());
  });

  it('deunhealth: only the labelled container is healed', () => {
    assert.deepEqual(rmDeun.actionsOn(`${deu}unlabelled`), [], rmDeun.dump());
  });

  it('WEBHOOK_URL gets {"<WEBHOOK_JSON_KEY>": text} for each restart', async () => {
    const reqs = await webhook.waitForRequests(2, 15_000);
    for (const r of reqs) {
      assert.equal(r.path, '/api/webhooks/1/SECRET');
      const body = r.json() as Record<string, unknown>;
      assert.deepEqual(Object.keys(body), ['text']);
      assert.equal(typeof body.text, 'string');
    }
    const texts = reqs.map((r) => String((r.json() as { text: string }).text)).join('\n');
    assert.ok(texts.includes(`${all}plain`) && texts.includes(`${all}stop-timeout`), texts);
  });

  it('APPRISE_URL gets the Apprise API body (title, body)', async () => {
    const reqs = await apprise.waitForRequests(2, 15_000);
    for (const r of reqs) {
      const body = r.json() as Record<string, unknown>;
      assert.equal(r.path, '/notify/apprise');
      assert.equal(typeof body.title, 'string');
      assert.equal(typeof body.body, 'string');
    }
  });

  it("POST_RESTART_SCRIPT runs with willfarrell's arguments: /NAME SHORT_ID STATE TIMEOUT", async () => {
    await waitFor('post-restart script ran twice', () => existsSync(argsFile) && readFileSync(argsFile, 'utf8').trim().split('\n').length >= 2, 10_000);
    const lines = readFileSync(argsFile, 'utf8').trim().split('\n').sort();
    const id = async (s: string): Promise<string> => (await docker(['inspect', '-f', '{{.Id}}', `${all}${s}`])).slice(0, 12);
    assert.deepEqual(lines, [`/${all}plain ${await id('plain')} running 10`, `/${all}stop-timeout ${await id('stop-timeout')} running 3`].sort());
  });
});

// What healing tells people (docs/behaviour.md §5), end to end: the generic JSON webhook receives a restart with
// the container, host, reason, what happens next, the last health-check output and the last log
// lines; a container's notify_level label holds its debug messages back; a bad label is reported once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { docker, hasTestEngine, removeNamespace, runContainer, uniqueNamespace, waitFor } from '../helpers/engine.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { startRepairman, type RepairmanProcess } from '../helpers/repairman.js';

interface Payload {
  kind: string;
  container: string;
  host: string;
  reason: string | null;
  next: string | null;
  healthOutput: string | null;
  logLines: string[];
  summary: string;
}

describe('heal: notifications', { skip: !hasTestEngine() && 'REPAIRMAN_TEST_DOCKER_HOST is not set' }, () => {
  const ns = uniqueNamespace('heal-notify');
  let rx: Receiver;
  let rm: RepairmanProcess;
  const payloads = (): Payload[] => rx.requests.map((r) => r.json() as Payload);

  before(async () => {
    rx = await startReceiver();
    rm = await startRepairman({
      namespace: ns,
      args: ['--notify-url', `json+${rx.url('/hook/secret-token')}`, '--notify-level', 'DEBUG', '--seconds-between-restarts', '1'],
    });
  });
  after(async () => {
    await rm?.stop();
    await rx?.close();
    await removeNamespace(ns);
  });

  it('sends a restart with its reason, health output and last log lines', async () => {
    const name = `${ns}web`;
    await runContainer(name, {
      cmd: 'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo "line $i"; done; touch /tmp/ok; trap "exit 0" TERM; sleep 100000 & wait',
      health: { cmd: 'test -f /tmp/ok || { echo "no /tmp/ok here"; exit 1; }' },
    });
    await waitFor('healthy', async () => (await docker(['inspect', '--format', '{{.State.Health.Status}}', name])) === 'healthy', 15_000);
    await docker(['exec', name, 'rm', '-f', '/tmp/ok']);
    await rm.waitForLog((l) => l.msg === 'restarted' && l.container === name, 15_000);
    const p = (await waitFor('the restart message', () => payloads().find((x) => x.kind === 'restart' && x.container === name), 10_000)) as Payload;
    assert.equal(p.reason, 'unhealthy');
    assert.ok(p.host.length > 0);
    assert.match(p.healthOutput ?? '', /no \/tmp\/ok here/);
    assert.ok(p.logLines.length > 0 && p.logLines.length <= 10, JSON.stringify(p.logLines));
    assert.ok(p.logLines.includes('line 12'), JSON.stringify(p.logLines));
    assert.ok(!p.logLines.includes('line 1'), 'only the last 10 lines');
    assert.match(p.next ?? '', /not before \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    // The token in the URL never reaches the log.
    assert.ok(!rm.dump().includes('secret-token'));
  });

  it('follows the container\'s notify_level label and reports a bad label once', async () => {
    const name = `${ns}quiet`;
    await runContainer(name, {
      cmd: 'sleep 1; exit 3',
      labels: { 'org.riotkit.repairman.notify_level': 'WARNING', 'org.riotkit.repairman.max_restarts_in_frame': 'lots' },
    });
    await rm.waitForLog((l) => l.msg === 'started' && l.container === name, 15_000);
    await waitFor('the label problem', () => payloads().find((x) => x.kind === 'config_error' && x.container === name), 10_000);
    await new Promise((r) => setTimeout(r, 3000));
    const mine = payloads().filter((x) => x.container === name);
    assert.equal(mine.filter((x) => x.kind === 'config_error').length, 1, JSON.stringify(mine));
    assert.equal(mine.filter((x) => x.kind === 'restart').length, 0, 'debug messages held back at WARNING');
  });
});

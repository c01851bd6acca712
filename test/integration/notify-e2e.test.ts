// End to end on the private engine: a container turns unhealthy, Repairman restarts it, and the
// receiver gets a message naming it, with its health-check output and its last log lines. And a
// receiver that hangs delays neither the restart nor Repairman's exit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { docker, hasTestEngine, removeNamespace, runContainer, uniqueNamespace, waitFor } from '../helpers/engine.js';
import { engineEvents, engineNowSec, startRepairman, type RepairmanProcess } from '../helpers/repairman.js';
import { startReceiver, type RecordedRequest } from '../helpers/receiver.js';

/** Logs a few lines, then sleeps; stops at once on SIGTERM; healthy while /tmp/ok exists. */
const APP_CMD = 'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo "app log line $i"; done; ' +
  'touch /tmp/ok; trap "exit 0" TERM; sleep 100000 & wait';
const HEALTH = { cmd: 'test -f /tmp/ok || { echo "probe: /tmp/ok is missing"; exit 1; }', intervalSec: 1, retries: 1 };

function textOf(r: RecordedRequest): string {
  return (r.json() as { text: string }).text;
}

test('an unhealthy container is restarted and the receiver gets an actionable message', async (t) => {
  if (!hasTestEngine()) return t.skip('REPAIRMAN_TEST_DOCKER_HOST is not set');
  const ns = uniqueNamespace('notify-e2e');
  const rx = await startReceiver();
  let rm: RepairmanProcess | undefined;
  t.after(async () => {
    await rm?.stop();
    await removeNamespace(ns);
    await rx.close();
  });
  const name = `${ns}web`;
  await runContainer(name, { cmd: APP_CMD, health: HEALTH });
  await waitFor('healthy', async () => (await docker(['inspect', '--format', '{{.State.Health.Status}}', name])) === 'healthy');
  rm = await startRepairman({
    namespace: ns,
    args: ['--notify-url', rx.url('/hooks/x'), '--notify-level', 'DEBUG', '--seconds-between-restarts', '1'],
  });
  await docker(['exec', name, 'rm', '/tmp/ok']);
  await rm.waitForLog((l) => l.msg === 'restarted' && l.container === name, 20_000);
  const msg = (await waitFor('a restart message', () => rx.requests.find((r) => textOf(r).includes('Restarted container')), 15_000)) as RecordedRequest;
  const text = textOf(msg);
  assert.equal(msg.method, 'POST');
  assert.equal(msg.path, '/hooks/x');
  assert.equal(msg.headers['content-type'], 'application/json');
  assert.match(text, new RegExp(`^\\*\\*\\[DEBUG\\] Restarted container \`${name}\`\\*\\*`), text);
  assert.match(text, /\n\*\*Why:\*\* .*unhealthy/i, text);
  assert.match(text, /\*\*Last health check output:\*\*\n```\n(?:exit code 1: )?probe: \/tmp\/ok is missing\n```/, text);
  // The last 10 lines of the container's log: lines 3..12, in order.
  const logBlock = /\*\*Last (\d+) log lines?:\*\*\n```\n([\s\S]*?)\n```/.exec(text);
  assert.ok(logBlock, text);
  assert.equal(logBlock[1], '10');
  assert.deepEqual(logBlock[2]?.split('\n'), Array.from({ length: 10 }, (_, i) => `app log line ${i + 3}`));
  assert.ok(!text.includes('app log line 2\n'));
  const { code, ms } = await rm.stop();
  rm = undefined;
  assert.equal(code, 0);
  assert.ok(ms < 1000, `stopped in ${ms} ms`);
});

test('a hanging receiver delays neither the restart (within 2 s of unhealthy) nor the exit', async (t) => {
  if (!hasTestEngine()) return t.skip('REPAIRMAN_TEST_DOCKER_HOST is not set');
  const ns = uniqueNamespace('notify-hang');
  const hang = await startReceiver({ fallback: { hang: true } });
  const ok = await startReceiver();
  let rm: RepairmanProcess | undefined;
  t.after(async () => {
    await rm?.stop();
    await removeNamespace(ns);
    await hang.close();
    await ok.close();
  });
  const name = `${ns}web`;
  await runContainer(name, { cmd: APP_CMD, health: HEALTH });
  await waitFor('healthy', async () => (await docker(['inspect', '--format', '{{.State.Health.Status}}', name])) === 'healthy');
  rm = await startRepairman({
    namespace: ns,
    args: ['--notify-url', `${hang.url('/hooks/hang')} ${ok.url('/hooks/ok')}`, '--notify-level', 'DEBUG', '--seconds-between-restarts', '1'],
  });
  // Something already hangs in the notifier before the container fails.
  await docker(['exec', name, 'rm', '/tmp/ok']);
  const since = (await engineNowSec()) - 1;
  await rm.waitForLog((l) => l.msg === 'restarted' && l.container === name, 20_000);
  await ok.waitForRequests(1, 10_000);
  assert.ok(hang.requests.length >= 1, 'the hanging receiver was asked too');
  const events = await engineEvents({ since, filters: { container: [name] } });
  const unhealthy = events.find((e) => e.Action.startsWith('health_status') && e.Action.includes('unhealthy'));
  const acted = events.find((e) => (e.Action === 'kill' || e.Action === 'restart' || e.Action === 'stop' || e.Action === 'die') && e.timeNano > (unhealthy?.timeNano ?? 0));
  assert.ok(unhealthy && acted, JSON.stringify(events.map((e) => e.Action)));
  const reactionMs = (acted.timeNano - unhealthy.timeNano) / 1e6;
  assert.ok(reactionMs < 2000, `restarted ${reactionMs} ms after turning unhealthy`);
  const { code, ms } = await rm.stop();
  rm = undefined;
  assert.equal(code, 0);
  assert.ok(ms < 1000, `stopped in ${ms} ms with a delivery hanging`);
});

// Security finding 8 (issue 17), docs/behaviour.md §9: behind a socket proxy that refuses a call (403).
// Before: behind a GET-only proxy every restart got 403 and counted against the budget (given up after
// max_checks_to_give_up refusals), a "restart failed" warning and notification at every attempt, and
// /healthz said ok; behind a proxy refusing DELETE, duplicate cleaning stopped the duplicate and left it
// stopped. Now the refusal is said once per call kind (log, one notification), named as proxies are
// configured with the setting that allows it, listed by /healthz (200, degraded) until the call goes
// through again, never charged to a budget, and a duplicate is never stopped for a removal refused.
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { runCli } from '../helpers/cli.js';
import { docker, hasTestEngine, inspectField, removeNamespace, runContainer, testDockerHost, uniqueNamespace, waitFor } from '../helpers/engine.js';
import { startReceiver } from '../helpers/receiver.js';
import { QUICK_STOP_CMD, startRepairman, type RepairmanProcess } from '../helpers/repairman.js';
import { startSocketProxy } from '../helpers/socket-proxy.js';

const CLEAN = 'org.riotkit.repairman.enable_cleaning_duplicated_services';
const NEVER_HEALTHY = 'trap "exit 0" TERM; sleep 100000 & wait'; // with health `test -f /tmp/ok`: never there
const REFUSED_LOG = 'the engine refused a call: a socket proxy does not allow it';
const RESTART_CALL = 'POST /containers/{id}/restart';

async function getJson(rm: RepairmanProcess, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(rm.url(path));
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const degradedOf = (body: Record<string, unknown>): string[] => (Array.isArray(body.degraded) ? body.degraded.map(String) : []);

describe('behind a socket proxy that refuses calls', { concurrency: true }, () => {
  it('GET-only: restarts refused, said once, not charged; /healthz degraded; healed once POST is allowed', async (t: TestContext) => {
    if (!hasTestEngine()) return t.skip('no private engine');
    const ns = uniqueNamespace('sec-proxy-get');
    t.after(() => removeNamespace(ns));
    const px = await startSocketProxy({ upstream: testDockerHost().replace(/^unix:\/\//, ''), allow: (m) => m === 'GET' || m === 'HEAD' });
    t.after(() => px.close());
    const admin = await startReceiver();
    t.after(() => admin.close());
    const web = `${ns}web`;
    await runContainer(web, { cmd: NEVER_HEALTHY, health: { cmd: 'test -f /tmp/ok' } });
    const startedAt = await inspectField(web, '{{.State.StartedAt}}');
    const rm = await startRepairman({
      namespace: ns,
      http: true,
      intervalSec: 2,
      env: { DOCKER_HOST: px.dockerHost },
      // Charged, two refusals would give the container up.
      args: ['--notify-url', admin.url('/hooks/admin'), '--seconds-between-restarts', '0', '--max-checks-to-give-up', '2'],
    });
    t.after(() => rm.stop());
    const restarts = (): typeof px.calls => px.calls.filter((c) => c.method === 'POST' && /^\/containers\/[^/]+\/restart/.test(c.path));
    await waitFor('four restart attempts', () => restarts().length >= 4, 40_000, 100)
      .catch(() => assert.fail(`attempts: ${restarts().length}\n${rm.dump().slice(-4000)}`));

    assert.ok(restarts().every((c) => c.refused), 'a POST went through the GET-only proxy');
    assert.equal(await inspectField(web, '{{.State.StartedAt}}'), startedAt, 'the container was restarted');
    // Retried at the re-check's pace (2 s), not in a loop: the first attempt (the health event) may be
    // followed at once by a re-check's, then one per interval.
    const times = restarts().map((c) => c.atMs);
    const span = times.at(-1)! - times[0]!;
    assert.ok(times.length <= span / 2000 + 2, `${times.length} attempts in ${span} ms`);

    const containers = await getJson(rm, '/api/containers');
    const view = (containers.body.containers as { name: string; budget: { state: string; restartsInFrame: number; streak: number } }[]).find((c) => c.name === web);
    assert.deepEqual(view && { state: view.budget.state, inFrame: view.budget.restartsInFrame, streak: view.budget.streak }, { state: 'ok', inFrame: 0, streak: 0 }, 'the refusals were charged to the budget');
    assert.equal(rm.find('gave up').length, 0);

    const health = await getJson(rm, '/healthz');
    assert.equal(health.status, 200, 'a proxy refusing a call is not a reason to restart Repairman');
    assert.equal(health.body.status, 'degraded');
    const line = degradedOf(health.body).find((d) => d.includes(RESTART_CALL));
    assert.ok(line, JSON.stringify(health.body));
    assert.match(line, /tecnativa\/docker-socket-proxy CONTAINERS=1 and POST=1; linuxserver\/socket-proxy ALLOW_RESTARTS=1/);

    // The status page and `repairman status` list it too.
    const page = await (await fetch(rm.url('/'), { headers: { Accept: 'text/html' } })).text();
    assert.ok(page.includes(`the engine refuses ${RESTART_CALL}`), 'the status page does not show the refused call');
    const status = await runCli(['status', '--url', rm.url('/')], { PATH: process.env.PATH ?? '', TZ: 'UTC' }, { timeoutMs: 15_000 });
    assert.equal(status.code, 0, status.err);
    assert.match(status.out, /degraded: the engine refuses POST \/containers\/\{id\}\/restart .*ALLOW_RESTARTS=1/);

    const said = rm.find((l) => l.msg === REFUSED_LOG);
    assert.deepEqual(said.map((l) => l.call), [RESTART_CALL], `said once over ${restarts().length} attempts\n${rm.dump().slice(-3000)}`);
    assert.match(String(said[0]?.error), /403: 403 Forbidden Request forbidden by administrative rules/, 'the proxy\'s answer is in the log');
    assert.equal(rm.find((l) => l.level === 'warn' && l.msg === 'restart failed').length, 0, 'a failure warning per attempt');
    await waitFor('the notification', () => admin.requests.length >= 1, 10_000, 100);
    await new Promise((r) => setTimeout(r, 500));
    const told = admin.requests.filter((r) => r.body.includes(RESTART_CALL));
    assert.equal(told.length, 1, `one notification for the call kind: ${admin.requests.map((r) => r.body).join('\n')}`);
    assert.match(told[0]!.body, /ALLOW_RESTARTS=1/);

    const metrics = await (await fetch(rm.url('/metrics'))).text();
    const counted = Number(/^repairman_engine_refused_calls_total\{call="POST \/containers\/\{id\}\/restart"\} (\d+)$/m.exec(metrics)?.[1]);
    assert.ok(counted >= 4, `refusals counted: ${counted}`);
    assert.doesNotMatch(metrics, /refused_calls_total\{call="[^"]*[0-9a-f]{12}/, 'a container id in a label');
    const events = (await getJson(rm, `/api/events?container=${web}`)).body.events as { kind: string; message: string }[];
    assert.equal(events.filter((e) => e.kind === 'refused').length, 1, 'journaled once, not per attempt');
    assert.equal(events.filter((e) => e.kind === 'restart_failed').length, 0);

    // The admin allows POST: healed at the next re-check, and /healthz is plain ok again.
    px.setAllow(() => true);
    await rm.waitForLog((l) => l.msg === 'restarted' && l.container === web, 20_000);
    await rm.waitForLog((l) => l.msg === 'the engine allows a call it refused before' && l.call === RESTART_CALL, 5_000);
    const after = await getJson(rm, '/healthz');
    assert.deepEqual([after.status, after.body], [200, { status: 'ok' }]);
  });

  it('a proxy refusing DELETE never leaves a duplicate stopped; removed once DELETE is allowed', async (t: TestContext) => {
    if (!hasTestEngine()) return t.skip('no private engine');
    const ns = uniqueNamespace('sec-proxy-del');
    const project = ns.replace(/-$/, '');
    const compose = { 'com.docker.compose.project': project, 'com.docker.compose.service': 'web' };
    const leftover = `${randomBytes(6).toString('hex')}_${ns}web`;
    t.after(async () => {
      await removeNamespace(ns);
      await docker(['rm', '-f', leftover]).catch(() => undefined);
    });
    // linuxserver/socket-proxy with ALLOW_STOP=1 and POST=0: stop goes through, DELETE does not.
    const px = await startSocketProxy({ upstream: testDockerHost().replace(/^unix:\/\//, ''), allow: (m) => m !== 'DELETE' });
    t.after(() => px.close());
    await runContainer(`${ns}web`, { cmd: QUICK_STOP_CMD, labels: { ...compose, [CLEAN]: 'true' } });
    await runContainer(leftover, { cmd: QUICK_STOP_CMD, labels: compose });
    const rm = await startRepairman({ namespace: ns, http: true, intervalSec: 1, env: { DOCKER_HOST: px.dockerHost }, args: ['--duplicate-grace', '0'] });
    t.after(() => rm.stop());
    await waitFor('a refused DELETE', () => px.calls.some((c) => c.method === 'DELETE' && c.refused), 20_000, 100);
    // A few more cleaning cycles.
    await new Promise((r) => setTimeout(r, 3_000));
    assert.equal(await inspectField(leftover, '{{.State.Running}}'), 'true', `the duplicate was left stopped\n${rm.dump().slice(-3000)}`);
    assert.deepEqual(px.calls.filter((c) => c.method === 'POST' && /\/stop/.test(c.path)), [], 'stopped before a removal that was refused');
    const health = await getJson(rm, '/healthz');
    assert.equal(health.status, 200);
    assert.ok(degradedOf(health.body).some((d) => d.includes('DELETE /containers/{id}') && d.includes('CONTAINERS=1 and POST=1')), JSON.stringify(health.body));
    assert.equal(rm.find((l) => l.msg === REFUSED_LOG).length, 1);

    px.setAllow(() => true);
    await waitFor('the duplicate to be removed', async () => (await docker(['ps', '-aq', '--filter', `name=^/${leftover}$`])) === '', 20_000, 250);
    assert.ok(px.calls.some((c) => c.method === 'POST' && /\/stop/.test(c.path) && !c.refused), 'stopped (its stop_timeout) before the removal');
  });
});

// Security findings 1 and 2 (issue 17): a notify_url label is untrusted input.
// 1. Before: a label pointing at a socket proxy's /containers/<victim>/kill, on a container with one
//    bad label, made Repairman POST there at once (the configuration-error notification): the victim
//    was killed. Now a label may only use an origin the admin trusts, never the engine's host.
// 2. Before: one label with 1,500 URLs opened ~1,000 connections at once, filled the queue and the
//    admin's own notifications were dropped. Now: at most 5 URLs per label, and each source has its
//    own share of the queue.
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { docker, hasTestEngine, removeNamespace, runContainer, testDockerHost, uniqueNamespace, waitFor } from '../helpers/engine.js';
import { startReceiver } from '../helpers/receiver.js';
import { startRepairman } from '../helpers/repairman.js';
import { startSocketProxy } from '../helpers/socket-proxy.js';

const P = 'org.riotkit.repairman.';

describe('notify_url labels are untrusted', { concurrency: true }, () => {
  it('a label cannot make Repairman POST to a socket proxy (the victim keeps running)', async (t: TestContext) => {
    if (!hasTestEngine()) return t.skip('no private engine');
    const ns = uniqueNamespace('sec-notify-kill');
    t.after(() => removeNamespace(ns));
    const engineSocket = testDockerHost().replace(/^unix:\/\//, '');
    // A socket proxy the attacker can reach (allowing everything, as a careless one does).
    const px = await startSocketProxy({ upstream: engineSocket });
    t.after(() => px.close());
    const admin = await startReceiver();
    t.after(() => admin.close());
    const victim = `${ns}victim`;
    await runContainer(victim, { cmd: 'sleep 100000' });
    await runContainer(`${ns}attacker`, {
      labels: {
        [`${P}notify_url`]: `${px.url}/v1.41/containers/${victim}/kill`,
        // Any bad label: its configuration-error notification goes out at once.
        [`${P}max_restarts_in_frame`]: 'lots',
      },
    });
    const rm = await startRepairman({ namespace: ns, args: ['--notify-url', admin.url('/hooks/admin')] });
    t.after(() => rm.stop());
    await rm.waitForLog((l) => l.msg === 'label problem' && String(l.label).endsWith('max_restarts_in_frame'), 10_000);
    // The admin hears about it (the container keeps the global URL), so notifications do flow here.
    await admin.waitForRequests(1, 10_000);
    await new Promise((r) => setTimeout(r, 1_500));
    assert.deepEqual(px.calls.filter((c) => c.method === 'POST'), [], 'Repairman posted to the socket proxy');
    assert.equal(await docker(['inspect', '--format', '{{.State.Running}}', victim]), 'true', 'the victim was killed');
    const refused = rm.find((l) => l.msg === 'label problem' && String(l.label).endsWith('notify_url'));
    assert.equal(refused.length, 1, `the notify_url label is reported as a problem\n${rm.dump()}`);
    assert.ok(!JSON.stringify(rm.lines).includes('/kill'), 'the label URL path is not logged');
  });

  it('a label with 1,500 URLs sends nothing to them and the admin gets every notification', async (t: TestContext) => {
    if (!hasTestEngine()) return t.skip('no private engine');
    const ns = uniqueNamespace('sec-notify-flood');
    t.after(() => removeNamespace(ns));
    const rx = await startReceiver();
    t.after(() => rx.close());
    // The flood's destinations answer slowly (so their deliveries pile up); the admin's at once.
    rx.reply = (req) => (req.path.startsWith('/hooks/f') ? { delayMs: 4_000 } : { status: 200 });
    const urls = Array.from({ length: 1500 }, (_, i) => rx.url(`/hooks/f${i}`)).join(',');
    await runContainer(`${ns}flood`, { labels: { [`${P}notify_url`]: urls, [`${P}stop_timeout`]: 'bad' } });
    const others = Array.from({ length: 10 }, (_, i) => `${ns}other${i}`);
    const rm = await startRepairman({ namespace: ns, args: ['--notify-url', rx.url('/hooks/admin')] });
    t.after(() => rm.stop());
    await rm.waitForLog((l) => l.msg === 'label problem' && l.container === `${ns}flood`, 10_000);
    // The admin's own notifications for other containers, while the flood is (or was) under way.
    await Promise.all(others.map((name) => runContainer(name, { labels: { [`${P}max_restarts_in_frame`]: 'lots' } })));
    const adminGot = (): string[] => rx.requests.filter((r) => r.path === '/hooks/admin').map((r) => r.body);
    await waitFor('the admin to hear about every other container', () => others.every((n) => adminGot().some((b) => b.includes(n))), 20_000, 200)
      .catch(() => assert.fail(`the admin got ${adminGot().length} messages, ${rx.requests.length} requests in all\n${rm.dump().slice(-3000)}`));
    assert.equal(rx.requests.filter((r) => r.path.startsWith('/hooks/f')).length, 0, 'the label URLs were posted to');
    assert.equal(rm.find((l) => /queue full/.test(l.msg)).length, 0, 'messages were dropped');
    const problem = rm.find((l) => l.msg === 'label problem' && l.container === `${ns}flood` && String(l.label).endsWith('notify_url'));
    assert.match(String(problem[0]?.expected), /at most 5 URLs/);
  });
});

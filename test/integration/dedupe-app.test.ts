// Duplicate cleaning through the running binary: the app lists duplicates outside the plain
// namespace filter (their names start with hex), removes them on the re-check cycle and on `create`
// events, shows them on /api/containers, and never heals a crashed leftover.
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { docker, hasTestEngine, removeNamespace, runContainer, uniqueNamespace, waitFor } from '../helpers/engine.js';
import { QUICK_STOP_CMD, startRepairman } from '../helpers/repairman.js';

const hex12 = (): string => randomBytes(6).toString('hex');
/** A duplicate and its real container carry the same compose project and service (docs/behaviour.md §4). */
const composeOf = (ns: string): Record<string, string> => ({ 'com.docker.compose.project': ns.replace(/-$/, ''), 'com.docker.compose.service': 'web' });

async function names(ns: string): Promise<string[]> {
  const out = await docker(['ps', '-a', '--format', '{{.Names}}', '--filter', `name=${ns}`]);
  return out ? out.split('\n').sort() : [];
}

async function cleanup(ns: string): Promise<void> {
  await removeNamespace(ns);
  const ids = await docker(['ps', '-aq', '--filter', `name=_${ns}`]);
  if (ids) await docker(['rm', '-f', ...ids.split('\n')]).catch(() => undefined);
}

describe('duplicate cleaning in the running app', { concurrency: true }, () => {
  it('removes a leftover on a create event, keeps the real container, and shows it on the API', async (t: TestContext) => {
    if (!hasTestEngine()) return t.skip('no private engine');
    const ns = uniqueNamespace('dedupe-app');
    t.after(() => cleanup(ns));
    const real = `${ns}web`;
    await runContainer(real, { cmd: QUICK_STOP_CMD, labels: composeOf(ns) });
    const rm = await startRepairman({
      namespace: ns,
      http: true,
      args: ['--enable-cleaning-duplicated-services', '--duplicate-grace', '1'],
    });
    t.after(() => rm.stop());
    // A leftover as compose leaves it: the old container renamed `<hex>_<name>`, still running.
    const dup = `${hex12()}_${real}`;
    await runContainer(dup, { cmd: QUICK_STOP_CMD, labels: composeOf(ns) });
    await waitFor('the duplicate to be removed', async () => !(await names(ns)).includes(dup), 20_000, 250);
    assert.deepEqual(await names(ns), [real]);
    assert.equal(await docker(['inspect', '--format', '{{.State.Running}}', real]), 'true');
    const line = await rm.waitForLog((l) => /duplicate/i.test(l.msg) && JSON.stringify(l).includes(dup), 5_000);
    assert.ok(line, 'the removal is logged');
    const events = (await (await fetch(rm.url('/api/events?limit=50'))).json()) as { events: { kind: string; message: string }[] };
    assert.ok(
      events.events.some((e) => e.kind === 'duplicate_removed' && e.message.includes(dup)),
      `journal has the removal: ${JSON.stringify(events)}`,
    );
  });

  it('leaves duplicates alone when cleaning is off, and never restarts a crashed leftover', async (t: TestContext) => {
    if (!hasTestEngine()) return t.skip('no private engine');
    const ns = uniqueNamespace('dedupe-off');
    t.after(() => cleanup(ns));
    const real = `${ns}web`;
    await runContainer(real, { cmd: QUICK_STOP_CMD, labels: composeOf(ns) });
    // A crashed leftover (exit 3, restart policy no): a crash by every other rule, but not to heal.
    const dup = `${hex12()}_${real}`;
    await runContainer(dup, { cmd: 'exit 3', labels: composeOf(ns) });
    await waitFor('the leftover to exit', async () => (await docker(['inspect', '--format', '{{.State.Status}}', dup])) === 'exited');
    // A control container that does crash, so this test fails if the app is not healing at all.
    const control = `${ns}control`;
    await runContainer(control, { cmd: 'sleep 2; exit 3' });
    const rm = await startRepairman({ namespace: ns, http: true, intervalSec: 1, args: ['--duplicate-grace', '0'] });
    t.after(() => rm.stop());
    await rm.waitForLog((l) => l.container === control && ['started', 'restarted'].includes(l.msg), 20_000);
    // Three re-check cycles later the leftover is still there, still exited, never started.
    await new Promise((r) => setTimeout(r, 3_000));
    assert.ok((await names(ns)).includes(dup), 'cleaning is off: the leftover stays');
    assert.equal(await docker(['inspect', '--format', '{{.State.StartedAt}} {{.State.Status}}', dup]).then((s) => s.split(' ')[1]), 'exited');
    assert.deepEqual(rm.actionsOn(dup), []);
    const api = (await (await fetch(rm.url('/api/containers'))).json()) as { duplicates: { name: string; heldBack: string | null }[] };
    const shown = api.duplicates.find((d) => d.name === dup);
    assert.ok(shown, `the held-back duplicate is shown: ${JSON.stringify(api.duplicates)}`);
    assert.match(shown.heldBack ?? '', /clean/i);
  });
});

// Security finding 4 (issue 17): a container named like a compose leftover but without compose labels
// is somebody else's container, never a duplicate. Before the fix an unrelated `0123456789ab_payments`
// beside a `payments` that enables cleaning was stopped and removed.
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { docker, hasTestEngine, removeNamespace, runContainer, uniqueNamespace, waitFor } from '../helpers/engine.js';
import { QUICK_STOP_CMD, startRepairman } from '../helpers/repairman.js';

const CLEAN = 'org.riotkit.repairman.enable_cleaning_duplicated_services';

async function exists(name: string): Promise<boolean> {
  return (await docker(['ps', '-aq', '--filter', `name=^/${name}$`])) !== '';
}

describe('duplicates need matching compose labels', () => {
  it('removes a compose leftover but never an unrelated look-alike without compose labels', async (t: TestContext) => {
    if (!hasTestEngine()) return t.skip('no private engine');
    const ns = uniqueNamespace('sec-dedupe');
    const lookAlike = `0123456789ab_${ns}payments`;
    const project = ns.replace(/-$/, '');
    const compose = (service: string): Record<string, string> => ({ 'com.docker.compose.project': project, 'com.docker.compose.service': service });
    const leftover = `${randomBytes(6).toString('hex')}_${ns}web`;
    t.after(async () => {
      await removeNamespace(ns);
      for (const n of [lookAlike, leftover]) await docker(['rm', '-f', n]).catch(() => undefined);
    });
    // The admin's container, opted in; an unrelated container that happens to carry a hex prefix.
    await runContainer(`${ns}payments`, { cmd: QUICK_STOP_CMD, labels: { [CLEAN]: 'true' } });
    await runContainer(lookAlike, { cmd: QUICK_STOP_CMD });
    // A real compose leftover (the control: proves cleaning runs in this test).
    await runContainer(`${ns}web`, { cmd: QUICK_STOP_CMD, labels: { ...compose('web'), [CLEAN]: 'true' } });
    await runContainer(leftover, { cmd: QUICK_STOP_CMD, labels: compose('web') });
    const rm = await startRepairman({ namespace: ns, intervalSec: 1, args: ['--duplicate-grace', '0'] });
    t.after(() => rm.stop());
    await waitFor('the compose leftover to be removed', async () => !(await exists(leftover)), 20_000, 250);
    // Two more re-check cycles: the look-alike is still there and still running.
    await new Promise((r) => setTimeout(r, 2_500));
    assert.ok(await exists(lookAlike), `the unrelated container was removed\n${rm.dump()}`);
    assert.equal(await docker(['inspect', '--format', '{{.State.Running}}', lookAlike]), 'true');
  });
});

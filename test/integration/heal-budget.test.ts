// The restart budget on the private engine (docs/behaviour.md §3), with small numbers: gap 1 s, frame 20 s, max 2
// restarts per frame, longer wait 8 s. A container that never recovers gets exactly 2 restarts per
// frame, then the longer wait, then a new frame; another one (labels: no frame limit, give up after 3)
// is given up, left alone, and watched again once it turns healthy.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { docker, hasTestEngine, removeNamespace, runContainer, uniqueNamespace } from '../helpers/engine.js';
import { startRepairman, type LogLine, type RepairmanProcess } from '../helpers/repairman.js';

const NEVER_HEALTHY = 'trap "exit 0" TERM; sleep 100000 & wait'; // with health `test -f /tmp/ok`: never there

const ms = (l: LogLine): number => Date.parse(l.time);

describe('heal: restart budget', { skip: !hasTestEngine() && 'REPAIRMAN_TEST_DOCKER_HOST is not set' }, () => {
  const ns = uniqueNamespace('heal-budget');
  const frame = `${ns}frame`;
  const giveup = `${ns}giveup`;
  let rm: RepairmanProcess;

  before(async () => {
    rm = await startRepairman({
      namespace: ns,
      args: [
        '--seconds-between-restarts', '1',
        '--frame-size-in-seconds', '20',
        '--max-restarts-in-frame', '2',
        '--seconds-between-next-frame', '8',
        '--max-checks-to-give-up', '50',
      ],
    });
    await Promise.all([
      runContainer(frame, { cmd: NEVER_HEALTHY, health: { cmd: 'test -f /tmp/ok' } }),
      runContainer(giveup, {
        cmd: NEVER_HEALTHY,
        health: { cmd: 'test -f /tmp/ok' },
        labels: {
          'org.riotkit.repairman.max_restarts_in_frame': '0',
          'org.riotkit.repairman.max_checks_to_give_up': '3',
        },
      }),
    ]);
  });
  after(async () => {
    await rm?.stop();
    await removeNamespace(ns);
  });

  it('gives exactly max_restarts_in_frame restarts per frame, then the longer wait', async () => {
    const isLonger = (l: LogLine): boolean => l.msg === 'maximum restarts reached, waiting longer' && l.container === frame;
    const first = await rm.waitForLog(isLonger, 30_000);
    // The second longer wait: the new frame after the first one is over.
    const second = await rm.waitForLog((l) => isLonger(l) && l !== first && ms(l) > ms(first), 30_000);
    const restarts = rm.actionsOn(frame).filter((l) => ms(l) <= ms(second));
    const before1 = restarts.filter((l) => ms(l) < ms(first));
    const between = restarts.filter((l) => ms(l) > ms(first));
    assert.equal(before1.length, 2, rm.dump());
    assert.equal(between.length, 2, rm.dump());
    const until = Number(first.untilMs);
    // The wait runs from the decision; its log line is stamped a little later, never earlier (the time
    // is formatted in between, the first time with ICU's data to load: 135 ms once on a busy machine).
    assert.ok(ms(first) + 8000 - 1000 <= until && until <= ms(first) + 8000 + 50, `the longer wait lasts 8 s: ${until - ms(first)} ms`);
    assert.ok(ms(between[0]!) >= until, `no restart before the longer wait ended (restart at ${between[0]!.time}, wait until ${new Date(until).toISOString()})`);
    // "restarted" is logged when the engine has finished the restart, which takes seconds on a loaded
    // machine: this checks liveness (the wait's timer fired), the line above checks the budget.
    assert.ok(ms(between[0]!) - until < 6000, 'restarted soon after the wait ended');
    assert.ok(ms(before1[1]!) - ms(before1[0]!) >= 1000, 'the gap between restarts is kept');
    assert.equal(first.restartsInFrame, 2);
  });

  it('gives up, leaves it alone, and lifts the give-up when it turns healthy', async () => {
    const gave = await rm.waitForLog((l) => l.msg === 'gave up' && l.container === giveup, 30_000);
    assert.equal(rm.actionsOn(giveup).length, 3, 'max_checks_to_give_up=3 restarts in a row');
    // Stays unhealthy, and is left alone.
    await new Promise((r) => setTimeout(r, 4000));
    assert.equal(rm.actionsOn(giveup).length, 3, rm.dump());
    assert.ok(ms(gave) > 0);
    await docker(['exec', giveup, 'touch', '/tmp/ok']);
    const back = await rm.waitForLog((l) => l.msg === 'recovered' && l.container === giveup, 15_000);
    assert.equal(back.wasLimited, true, 'a given-up container coming back is told ("healthy again")');
    // Watched again: failing now gets it restarted.
    await docker(['exec', giveup, 'rm', '-f', '/tmp/ok']);
    await rm.waitForLog((l) => l.msg === 'restarted' && l.container === giveup && ms(l) > ms(back), 15_000);
  });
});

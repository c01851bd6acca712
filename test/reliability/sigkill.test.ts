// Reliability: Repairman SIGKILLed at random moments under load, 20 times, with --db-path on a file
// (docs/behaviour.md §3: the budget survives a restart of Repairman; no journal entry it reported is lost).
// Load: five containers flapping (restarted every few seconds, each restart notified), plus three
// that are always unhealthy and whose budgets must hold across the kills, checked on the ENGINE's
// own record of restarts:
//   limited  max 2 restarts per 600 s frame, then a 600 s longer wait  -> at most 2 restarts, ever
//   giveup   give up after 3 restarts in a row                          -> at most 3 restarts, ever
//   gap      15 s between restarts                                      -> never two starting closer than 15 s
// These three stop slowly (2 s stop timeout), and every other kill is aimed at the moment one of
// their restarts is under way: the engine finishes it while Repairman is dead.
// After every kill the database must open with Repairman's own code and pass SQLite's integrity
// check; at the end every message the receiver got must be in the journal, and every restart
// Repairman asked of the engine must be in it exactly once (those a kill cut short are journaled by
// the next start, from the marker saved with the budget before the engine call).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import { openJournal } from '../../src/journal/journal.js';
import { pragma } from '../../src/journal/sqlite.js';
import type { JournalEntry } from '../../src/journal/types.js';
import { hasTestEngine, removeNamespace, runContainer, testDockerHost, uniqueNamespace } from '../helpers/engine.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { startRepairman, type RepairmanProcess } from '../helpers/repairman.js';
import { followEngineEvents, restartsByName, sleep, assertNoCrashLogged, unjournaled, type EventFollower, type Notified } from './helpers/observe.js';
import { report } from './helpers/report.js';

const KILLS = Number(process.env.REPAIRMAN_SIGKILL_ROUNDS ?? 20);
const FLAP_CMD = 'touch /tmp/ok; trap "exit 0" TERM; (sleep 2; rm -f /tmp/ok) & sleep 100000 & wait';
/** Never healthy, and deaf to SIGTERM: each restart takes the 2 s stop timeout. */
const STUCK_CMD = 'trap "" TERM; while true; do sleep 1; done';
const L = 'org.riotkit.repairman.';
/** "restarting" / "starting" (a crashed container): logged once the restart's marker is saved. */
const requestedRestarts = (rm: RepairmanProcess): number => rm.find((l) => l.msg === 'restarting' || (l.msg === 'starting' && l.container !== undefined)).length;
/** Its stdout read to the end (the exit can be reported before the last lines are). */
const drained = (rm: RepairmanProcess): Promise<void> =>
  rm.child.stdout!.readableEnded ? Promise.resolve() : new Promise((resolve) => {
    rm.child.stdout!.once('end', () => resolve());
    rm.child.stdout!.once('close', () => resolve());
  });

describe(`reliability: ${KILLS} SIGKILLs under load with --db-path on a file`, { skip: !hasTestEngine() && 'REPAIRMAN_TEST_DOCKER_HOST is not set' }, () => {
  const ns = uniqueNamespace('rel-kill');
  const dir = mkdtempSync(join(tmpdir(), 'rm-rel-kill-'));
  const dbPath = join(dir, 'repairman.db');
  const limited = `${ns}limited`;
  const giveup = `${ns}giveup`;
  const gap = `${ns}gap`;
  const guarded = new Set([limited, giveup, gap]);
  let rx: Receiver;
  let events: EventFollower | undefined;
  let current: RepairmanProcess | undefined;

  before(async () => {
    rx = await startReceiver();
    events = await followEngineEvents(testDockerHost(), { type: ['container'] });
    for (let i = 1; i <= 5; i++) await runContainer(`${ns}flap${i}`, { cmd: FLAP_CMD, health: { cmd: 'test -f /tmp/ok' } });
    const stuck = { cmd: STUCK_CMD, health: { cmd: 'test -f /tmp/never' } };
    const common = { [`${L}stop_timeout`]: '2', [`${L}seconds_between_restarts`]: '1' };
    await runContainer(limited, { ...stuck, labels: { ...common, [`${L}max_restarts_in_frame`]: '2', [`${L}frame_size_in_seconds`]: '600', [`${L}seconds_between_next_frame`]: '600', [`${L}max_checks_to_give_up`]: '0' } });
    await runContainer(giveup, { ...stuck, labels: { ...common, [`${L}max_restarts_in_frame`]: '0', [`${L}max_checks_to_give_up`]: '3' } });
    await runContainer(gap, { ...stuck, labels: { ...common, [`${L}seconds_between_restarts`]: '15', [`${L}max_restarts_in_frame`]: '0', [`${L}max_checks_to_give_up`]: '0' } });
  });
  after(async () => {
    await current?.kill();
    await events?.stop();
    await removeNamespace(ns);
    await rx?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the database always opens, no notified entry is lost, no budget is reset early', async () => {
    const args = [
      '--seconds-between-restarts', '1', '--max-restarts-in-frame', '0', '--max-checks-to-give-up', '0', '--max-historic-entries', '10000',
      '--notify-level', 'DEBUG', '--notify-url', `json+${rx.url('/hook')}`,
    ];
    const kills: string[] = [];
    const journalProblems: string[] = [];
    let aimedHits = 0;
    let requested = 0;
    for (let round = 1; round <= KILLS; round++) {
      current = await startRepairman({ namespace: ns, dbPath, args, readyTimeoutMs: 20_000 });
      const rm = current;
      const startedAt = Date.now();
      let when: string;
      if (round % 2 === 0) {
        // Aimed: during a slow restart of a guarded container (if one comes within 6 s).
        const hit = await rm.waitForLog((l) => l.msg === 'restarting' && guarded.has(String(l.container)), 6_000).catch(() => null);
        if (hit) {
          await sleep(200 + Math.random() * 1_200);
          aimedHits++;
          when = `during the restart of ${String(hit.container).slice(ns.length)}`;
        } else when = 'random (no guarded restart came)';
      } else {
        await sleep(300 + Math.random() * 5_700);
        when = 'random';
      }
      assertNoCrashLogged(rm);
      const exit = await rm.kill();
      await drained(rm);
      requested += requestedRestarts(rm);
      for (const l of rm.find((x) => /journal|budget/.test(x.msg) && x.level !== 'info')) journalProblems.push(`${l.msg}: ${String(l.error)}`);
      assert.equal(exit.signal, 'SIGKILL');
      kills.push(`${round}: ${Date.now() - startedAt} ms ${when}`);
      // The database opens with Repairman's own code, and SQLite finds it intact.
      const j = openJournal({ dbPath, onWarning: (m) => assert.fail(`journal warning after kill ${round}: ${m}`) });
      try {
        assert.ok(j.count() >= 0);
        j.loadBudgets();
      } finally {
        j.close();
      }
      const db = new DatabaseSync(dbPath);
      try {
        assert.equal(pragma(db, 'integrity_check'), 'ok', `integrity after kill ${round}`);
      } finally {
        db.close();
      }
    }
    // A last, clean run lets the notifications of the last moments settle.
    current = await startRepairman({ namespace: ns, dbPath, args });
    await sleep(5_000);
    const stop = await current.stop();
    assert.equal(stop.code, 0);
    await drained(current);
    requested += requestedRestarts(current);
    current = undefined;
    await sleep(1_000);

    // ---- every notified event is in the journal ----
    const j = openJournal({ dbPath, readonly: true });
    let all: JournalEntry[];
    let markers: string[];
    try {
      all = j.list({ limit: 100_000 });
      markers = [...j.loadBudgets()].filter(([, b]) => b.inFlight).map(([name]) => name);
    } finally {
      j.close();
    }
    // ---- every restart asked of the engine journaled once, those cut by a kill included ----
    const restartEntries = all.filter((e) => e.kind === 'restart' || e.kind === 'restart_failed');
    const cut = restartEntries.filter((e) => e.details?.interrupted === 'killed').length;
    const abandoned = restartEntries.filter((e) => e.details?.interrupted === 'stopped').length;
    assert.deepEqual(markers, [], 'restart markers left after a clean stop');
    assert.equal(restartEntries.length, requested, `${requested} restarts asked of the engine, ${restartEntries.length} journaled (${cut} of them cut by a kill)`);
    const received = rx.requests.map((r) => r.json() as Notified);
    const lost = unjournaled(received, all);
    const near = (m: Notified): string =>
      all.filter((e) => e.container === m.container && Math.abs(e.atMs - m.atMs) < 30_000).map((e) => `${e.kind}@${e.atMs - m.atMs}ms`).join(' ');
    assert.deepEqual(
      lost.map((m) => `${m.kind} ${m.container} ${new Date(m.atMs).toISOString()} (journal nearby: ${near(m)})`),
      [],
      `${lost.length} of ${received.length} notified events are not in the journal; journal problems logged: ${JSON.stringify(journalProblems)}`,
    );

    // ---- budgets held across the kills, by the engine's own record ----
    const restarts = restartsByName(await events!.stop());
    events = undefined;
    const count = (name: string): number => restarts.get(name)?.length ?? 0;
    assert.ok(count(limited) <= 2, `limited was restarted ${count(limited)} times (max 2 per frame, then a 600 s wait)`);
    assert.ok(count(giveup) <= 3, `giveup was restarted ${count(giveup)} times (gives up after 3)`);
    const gapMarks = restarts.get(gap) ?? [];
    // Start to start: a restart whose end Repairman did not live to see counts from its start, i.e.
    // from Repairman's call, which the engine's own record of it (the kill) follows by up to a few
    // seconds on a busy engine. A budget reset by the kill would restart within a second or two.
    const ENGINE_LAG_SEC = 3;
    for (let i = 1; i < gapMarks.length; i++) {
      const apart = gapMarks[i]!.beganSec - gapMarks[i - 1]!.beganSec;
      assert.ok(apart >= 15 - ENGINE_LAG_SEC, `gap restarted ${apart.toFixed(1)} s after its previous restart began (15 s required)`);
    }
    const flaps = [...restarts.entries()].filter(([n]) => n.startsWith(`${ns}flap`)).reduce((a, [, v]) => a + v.length, 0);
    assert.ok(flaps >= KILLS, `load: ${flaps} flapping restarts`);
    report(
      'SIGKILL',
      `${KILLS} kills (${aimedHits} during a slow restart of a guarded container); database opened and intact every time; ${received.length} notifications, all in the journal (${all.length} entries); ` +
        `${requested} restarts asked of the engine, each journaled once (${cut} cut by a kill, journaled at the next start; ${abandoned} abandoned at the final SIGTERM); ` +
        `engine restarts: limited ${count(limited)} (max 2), giveup ${count(giveup)} (max 3), gap ${gapMarks.length} at >= 15 s apart; ${flaps} flapping restarts`,
      { kills },
    );
  });
});

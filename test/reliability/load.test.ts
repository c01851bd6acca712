// Reliability under load: 50 containers flapping between healthy and unhealthy (half of them by
// themselves, half broken again soon after every restart, so they reach their frame limit), with
// short frames, for REPAIRMAN_LOAD_SEC seconds (default 60; `scripts/run-reliability.sh --long` runs
// 600). On this test's OWN engine (/tmp/rm-rel-load), so 50 containers' health checks do not slow the shared one.
// The engine's own event stream is the judge:
// - no container ever exceeds its budget: before each restart, fewer than max_restarts_in_frame
//   restarts of that container in the frame before it, and never two closer than the gap;
// - every restart the engine did is in the journal (and nothing is journaled that it did not do);
// - Repairman's RSS stays flat (the curve is reported).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openJournal } from '../../src/journal/journal.js';
import type { JournalEntry } from '../../src/journal/types.js';
import { hasTestEngine, uniqueNamespace } from '../helpers/engine.js';
import { startRepairman, type RepairmanProcess } from '../helpers/repairman.js';
import { assertAliveAndClean, followEngineEvents, meanRss, restartsByName, rssCurve, sampleRss, sleep, type EventFollower, type RssSampler } from './helpers/observe.js';
import { ownEngine, type OwnEngine } from './helpers/own-engine.js';
import { report } from './helpers/report.js';

const LOAD_SEC = Number(process.env.REPAIRMAN_LOAD_SEC ?? 60);
/** Flags for Repairman's node (e.g. "--max-semi-space-size=1"), to compare launch flags under load. */
const NODE_FLAGS = (process.env.REPAIRMAN_LOAD_NODE_FLAGS ?? '').split(' ').filter(Boolean);
const CONTAINERS = Number(process.env.REPAIRMAN_LOAD_CONTAINERS ?? 50);
const GAP_SEC = 2;
// Short frames, but long enough that a container broken again right after each restart reaches its
// limit even when a busy engine takes ~10 s per restart.
const FRAME_SEC = 40;
const MAX_IN_FRAME = 2;
/** At least a frame, so "fewer than the maximum in any frame before a restart" is exactly the rule. */
const NEXT_FRAME_SEC = 45;
/** Our reading of the engine's clock against Repairman's decisions (an inspect, a busy engine). */
const TOLERANCE_SEC = 0.3;

/** Healthy for `up` s, unhealthy for `down` s, forever (a restart starts the cycle again). */
const flapCmd = (up: number, down: number): string =>
  `trap "exit 0" TERM; while true; do touch /tmp/ok; sleep ${up}; rm -f /tmp/ok; sleep ${down}; done & wait`;
/** Healthy for `up` s after each start, then unhealthy until restarted: these run into the budget. */
const breakCmd = (up: number): string => `trap "exit 0" TERM; (touch /tmp/ok; sleep ${up}; rm -f /tmp/ok) & sleep 100000 & wait`;
/** Half flap by themselves, half stay broken until restarted (and so reach their frame limit). */
const cmdFor = (i: number): string => (i % 2 === 0 ? breakCmd(1 + (i % 3)) : flapCmd(3 + (i % 5), 3 + (i % 3)));

describe(`reliability: ${CONTAINERS} containers flapping for ${LOAD_SEC} s`, { skip: !hasTestEngine() && 'REPAIRMAN_TEST_DOCKER_HOST is not set' }, () => {
  const ns = uniqueNamespace('rel-load');
  const dir = mkdtempSync(join(tmpdir(), 'rm-rel-load-'));
  const dbPath = join(dir, 'repairman.db');
  let eng: OwnEngine | undefined;
  let rm: RepairmanProcess | undefined;
  let events: EventFollower | undefined;
  let rss: RssSampler | undefined;

  before(async () => {
    eng = await ownEngine('load');
    const names = Array.from({ length: CONTAINERS }, (_, i) => `${ns}c${String(i).padStart(2, '0')}`);
    // 2 s health checks: 50 containers checked every second would keep a 2-core machine busy alone.
    for (let i = 0; i < names.length; i += 5) {
      await Promise.all(names.slice(i, i + 5).map((n, k) => eng!.run(n, { cmd: cmdFor(i + k), health: { cmd: 'test -f /tmp/ok', intervalSec: 2 } })));
    }
  });
  after(async () => {
    rss?.stop();
    await rm?.stop();
    await events?.stop();
    await eng?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('no container exceeds its budget, every restart is journaled, RSS stays flat', async () => {
    assert.ok(eng);
    events = await followEngineEvents(eng.host, { type: ['container'], event: ['kill', 'start', 'restart', 'die'] });
    const t0 = Date.now();
    rm = await startRepairman({
      namespace: ns,
      dbPath,
      intervalSec: 10,
      env: eng.env(),
      readyTimeoutMs: 30_000,
      nodeFlags: NODE_FLAGS,
      args: [
        '--seconds-between-restarts', String(GAP_SEC), '--frame-size-in-seconds', String(FRAME_SEC), '--max-restarts-in-frame', String(MAX_IN_FRAME),
        '--seconds-between-next-frame', String(NEXT_FRAME_SEC), '--max-checks-to-give-up', '0', '--max-historic-entries', '100000',
      ],
    });
    rss = sampleRss(rm.child.pid!, LOAD_SEC >= 300 ? 5_000 : 1_000);
    const deadline = t0 + LOAD_SEC * 1000;
    while (Date.now() < deadline) {
      await sleep(Math.min(10_000, deadline - Date.now()));
      assertAliveAndClean(rm, 'repairman under load');
    }
    const samples = rss.stop();
    const proc = rm;
    const stop = await rm.stop();
    assert.equal(stop.code, 0);
    assert.ok(stop.ms <= 1_000, `stopped ${stop.ms} ms after SIGTERM`);
    rm = undefined;
    await sleep(500);
    const evs = await events.stop();
    events = undefined;

    // ---- the engine's record: budget per container ----
    const restarts = [...restartsByName(evs).entries()].filter(([n]) => n.startsWith(ns));
    const violations: string[] = [];
    let total = 0;
    let maxSeen = 0;
    for (const [name, marks] of restarts) {
      total += marks.length;
      for (let k = 0; k < marks.length; k++) {
        const at = marks[k]!.beganSec;
        const inFrame = marks.slice(0, k).filter((m) => m.endSec > at - FRAME_SEC + TOLERANCE_SEC).length;
        maxSeen = Math.max(maxSeen, inFrame + 1);
        if (inFrame >= MAX_IN_FRAME) violations.push(`${name}: restart ${k + 1} with ${inFrame} restarts in the ${FRAME_SEC} s before it`);
        if (k > 0 && at - marks[k - 1]!.endSec < GAP_SEC - TOLERANCE_SEC) violations.push(`${name}: restart ${k + 1} only ${(at - marks[k - 1]!.endSec).toFixed(2)} s after the previous one`);
      }
    }
    assert.deepEqual(violations.slice(0, 20), [], `${violations.length} budget violations`);
    // The rate depends on the machine (a loaded 2-core box restarts slowly); the rules do not.
    assert.ok(total >= 10, `load: only ${total} restarts`);

    // ---- every restart journaled ----
    const j = openJournal({ dbPath, readonly: true });
    const entries: JournalEntry[] = [];
    try {
      // Page by page: one list() returns at most 10 000 entries (newest first), and a run of 20
      // minutes journals more than that.
      for (let page = j.list({ limit: 10_000 }); page.length > 0; page = j.list({ limit: 10_000, beforeNum: page[page.length - 1]!.num })) entries.push(...page);
    } finally {
      j.close();
    }
    const journaled = new Map<string, number>();
    const journaledFailed = new Map<string, number>();
    const journaledAbandoned = new Map<string, number>();
    const add = (m: Map<string, number>, name: string): void => void m.set(name, (m.get(name) ?? 0) + 1);
    for (const e of entries) {
      if (e.kind === 'restart' && e.details?.interrupted !== undefined) add(journaledAbandoned, e.container);
      else if (e.kind === 'restart') add(journaled, e.container);
      if (e.kind === 'restart_failed') add(journaledFailed, e.container);
    }
    // A restart still in flight at the SIGTERM (Repairman logged "restarting" and never learnt the
    // outcome) is abandoned (docs/behaviour.md §7) and finished by the engine: counted in the budget, and journaled
    // as abandoned (interrupted: stopped), which the engine's record may not show yet. Every other one
    // must be in the journal as done or failed; and every "restarting" has exactly one entry.
    let inFlightAtStop = 0;
    const mismatch: string[] = [];
    for (const [name, marks] of restarts) {
      const began = proc.find((l) => l.container === name && l.msg === 'restarting').length;
      const ended = proc.find((l) => l.container === name && (l.msg === 'restarted' || l.msg === 'restart failed')).length;
      const abandoned = Math.max(0, began - ended);
      inFlightAtStop += abandoned;
      const all = (journaled.get(name) ?? 0) + (journaledFailed.get(name) ?? 0) + (journaledAbandoned.get(name) ?? 0);
      if (all !== began) mismatch.push(`${name}: ${began} restarts asked of the engine, ${all} journaled`);
      const n = journaled.get(name) ?? 0;
      // (a restart whose call failed, e.g. at its deadline, may still have been done by the engine)
      const failedHere = journaledFailed.get(name) ?? 0;
      if (n < marks.length - abandoned - failedHere || n > marks.length) {
        mismatch.push(`${name}: engine ${marks.length} (${abandoned} abandoned at the stop), journal ${n} (+${failedHere} failed)`);
      }
    }
    for (const [name, n] of journaled) if (!restarts.some(([r]) => r === name)) mismatch.push(`${name}: journal ${n}, engine 0`);
    assert.deepEqual(mismatch, [], 'restarts and journal entries differ');
    const failed = entries.filter((e) => e.kind === 'restart_failed').length;
    const longer = entries.filter((e) => e.kind === 'longer_wait').length;

    // ---- RSS flat: the last quarter against the second (after warm-up) ----
    const span = samples[samples.length - 1]!.tMs;
    const early = meanRss(samples, span / 4, span / 2);
    const late = meanRss(samples, (span * 3) / 4, span + 1);
    const peak = Math.max(...samples.map((s) => s.rssMb));
    assert.ok(late - early < (LOAD_SEC >= 300 ? 8 : 10), `RSS grew from ${early.toFixed(1)} MB to ${late.toFixed(1)} MB`);
    report(
      `load ${LOAD_SEC} s`,
      `${NODE_FLAGS.length ? `node ${NODE_FLAGS.join(' ')}: ` : ''}${CONTAINERS} containers, ${total} restarts (${(total / (LOAD_SEC / 60)).toFixed(0)}/min), all journaled (${inFlightAtStop} in flight at the final SIGTERM: journaled as abandoned, finished by the engine); ${longer} longer waits; ${failed} failed restarts; ` +
        `most restarts of one container in a ${FRAME_SEC} s frame: ${maxSeen} (max ${MAX_IN_FRAME}); RSS ${early.toFixed(1)} -> ${late.toFixed(1)} MB (peak ${peak.toFixed(1)}): ${rssCurve(samples, 12)}`,
      { loadSec: LOAD_SEC, containers: CONTAINERS, nodeFlags: NODE_FLAGS.join(' '), restarts: total, rss: samples.filter((_, i) => i % Math.max(1, Math.floor(samples.length / 60)) === 0) },
    );
  });
});

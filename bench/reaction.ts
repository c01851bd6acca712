// Reaction time (issue 9): from the engine's own `health_status: unhealthy` event to the first event of
// the restart Repairman asks for, and from a crash's `die` (non-zero exit code) to the `start` that
// follows; both ends are engine timestamps (timeNano), matched per container id.
//
// Containers trigger themselves, staggered at random so trials rarely overlap: an "unhealthy" one
// removes its health file 3..5 s after each start (health check every 1 s, 1 retry); a "crash" one
// exits with code 3 2..5 s after each start (restart policy no). Repairman runs with a budget that
// never holds a restart back, so every trigger is a trial. Few containers (8) cycle: every health check
// is a `runc exec` and every trial a container start, and on a 2-core machine more of them would
// measure the engine's queue, not Repairman.
import { BENCH_LABEL, benchNamespace, createFleet, removeFleet } from './lib/fleet.js';
import { EventCollector } from './lib/events.js';
import { pairCrashes, pairUnhealthy, type Pairing } from './lib/pairing.js';
import { LOOSE_BUDGET, startBenchRepairman } from './lib/repairman.js';
import { summarize, type Summary } from './lib/stats.js';
import { loadNow } from './lib/proc.js';
import type { Load } from './lib/results.js';
import { TEST_ENGINE } from '../test/helpers/engine.js';

export interface ReactionPhase {
  kind: 'unhealthy' | 'crash';
  containers: number;
  latencyMs: Summary;
  /**
   * Repairman's own share: from the trigger to its "restarting"/"starting" log line, written just
   * before the engine call (same host clock as the engine's, millisecond resolution). The rest of the
   * latency is the engine acting on the call (for a crash, `start` is emitted once the container runs).
   */
  decisionMs: Summary;
  firstActions: Record<string, number>;
  unanswered: number;
  /** Restarts/starts Repairman logged, against the trials seen (equal unless a trial is still open). */
  repairmanActions: number;
  load: Load;
  wallSec: number;
}

export interface ReactionFigures {
  unhealthy: ReactionPhase;
  crash: ReactionPhase;
}

export const UNHEALTHY_CMD = 'touch /tmp/ok; (sleep $((3 + RANDOM % 3)); rm -f /tmp/ok) & trap "exit 0" TERM; sleep 100000 & wait';
export const CRASH_CMD = 'sleep $((2 + RANDOM % 4)); exit 3';

async function phase(kind: 'unhealthy' | 'crash', containers: number, trials: number, log: (m: string) => void): Promise<ReactionPhase> {
  const ns = benchNamespace(kind === 'unhealthy' ? 'react-u' : 'react-c');
  const events = await EventCollector.start({ key: BENCH_LABEL, value: ns });
  const startedAt = Date.now();
  const rm = await startBenchRepairman({ namespace: ns, args: [...LOOSE_BUDGET] });
  try {
    await createFleet(ns, containers, kind === 'unhealthy'
      ? { cmd: UNHEALTHY_CMD, health: { cmd: 'test -f /tmp/ok', intervalSec: 1, retries: 1 } }
      : { cmd: CRASH_CMD, restart: 'no' });
    log(`${kind}: ${containers} containers cycling; waiting for ${trials} trials`);
    const pair = (ev: Parameters<typeof pairUnhealthy>[0]): Pairing => (kind === 'unhealthy' ? pairUnhealthy(ev, TEST_ENGINE) : pairCrashes(ev));
    let lastShown = 0;
    const result = await events.until(`${trials} ${kind} trials`, (ev) => {
      const p = pair(ev);
      if (p.trials.length >= lastShown + 20) {
        lastShown = p.trials.length;
        log(`${kind}: ${p.trials.length} trials`);
      }
      return p.trials.length >= trials ? p : null;
    }, Math.max(120_000, trials * 4_000));
    const load = loadNow();
    const actions = rm.rm.find((l) => l.msg === (kind === 'unhealthy' ? 'restarted' : 'started')).length;
    const latencies = result.trials.map((t) => t.latencyMs);
    const verb = kind === 'unhealthy' ? 'restarting' : 'starting';
    const decisions: number[] = [];
    for (const t of result.trials) {
      const fromMs = Number(t.triggerNano / 1_000_000n) - 5;
      const toMs = Number(t.reactionNano / 1_000_000n) + 5;
      const line = rm.rm.lines.find((l) => l.msg === verb && l.container === t.name && Date.parse(l.time) >= fromMs && Date.parse(l.time) <= toMs);
      if (line) decisions.push(Date.parse(line.time) - Number(t.triggerNano) / 1e6);
    }
    return {
      kind,
      containers,
      latencyMs: summarize(latencies),
      decisionMs: summarize(decisions),
      firstActions: result.firstActions,
      unanswered: result.unanswered,
      repairmanActions: actions,
      load,
      wallSec: Math.round((Date.now() - startedAt) / 100) / 10,
    };
  } finally {
    await rm.stop();
    await events.close();
    await removeFleet(ns);
  }
}

export async function runReaction(opts: { containers: number; trials: number; log: (m: string) => void }): Promise<ReactionFigures> {
  const unhealthy = await phase('unhealthy', opts.containers, opts.trials, opts.log);
  const crash = await phase('crash', opts.containers, opts.trials, opts.log);
  return { unhealthy, crash };
}

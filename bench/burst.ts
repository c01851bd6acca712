// Burst healing (issue 9): N containers turn unhealthy at once; how long until all are restarted, with
// the default parallelism and with 1. Every container's health check compares the "round" it was
// started in (copied from a bind-mounted host file at each start) with the current round in that file:
// writing the next round makes all of them unhealthy at their next check, and one restart makes each
// healthy again, so the same fleet serves every parallelism. The checks run every 10 s, not 1 s: 100
// checks a second (each a `runc exec`) saturate a 2-core engine on their own. The unhealthy events
// then arrive over up to 10 s, faster than even 8 parallel restarts drain them, so the queue is never
// empty and the spread barely shows in the total (it is reported). The containers ignore SIGTERM and run
// with a 1 s stop timeout: a restart takes about a second of the engine's waiting, which is what
// parallelism is for (a restart that only costs CPU would gain little from it on 2 cores).
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_LABEL, benchNamespace, createFleet, healthCounts, removeFleet } from './lib/fleet.js';
import { EventCollector } from './lib/events.js';
import type { BenchEvent } from './lib/pairing.js';
import { loadNow } from './lib/proc.js';
import { LOOSE_BUDGET, sleep, startBenchRepairman } from './lib/repairman.js';
import type { Load } from './lib/results.js';
import { overlap, summarize, type Summary } from './lib/stats.js';

export interface BurstRound {
  parallelism: number;
  containers: number;
  restarted: number;
  /** False when the round ran out of time: the figures then cover the restarts done by then. */
  complete: boolean;
  /** Restarts finished per second, first unhealthy event to the last restart (comparable when incomplete). */
  restartsPerSec: number;
  /** From the first `health_status: unhealthy` of the round to the last `restart` event (engine clock). */
  totalSec: number;
  /** From the first to the last unhealthy event: how "at once" the burst was. */
  unhealthySpreadSec: number;
  /** Per container: its unhealthy event to its `restart` event (restart finished). */
  perContainerSec: Summary;
  /** Per container: `kill` to `restart` (how long one restart takes in the engine). */
  restartSec: Summary;
  /** Restarts in progress in the engine (between their kill and restart events): time-weighted mean and max. */
  meanInFlight: number;
  maxInFlight: number;
  load: Load;
}

export interface BurstFigures {
  rounds: BurstRound[];
  /**
   * Restarts per second with the first (default) parallelism / with parallelism 1: the same as
   * totalSec(1) / totalSec(default) when both rounds finished.
   */
  speedup: number | null;
}

const CMD = 'cp /flag/round /tmp/round; trap "" TERM; while true; do sleep 1; done';
const HEALTH = 'test "$(cat /tmp/round)" = "$(cat /flag/round)"';

function writeRound(dir: string, round: number): void {
  // Atomic: a health check must never read a half-written file (it would fail for the wrong reason).
  writeFileSync(join(dir, 'round.tmp'), `${round}\n`);
  renameSync(join(dir, 'round.tmp'), join(dir, 'round'));
}

function sec(ns: bigint): number {
  return Number(ns) / 1e9;
}

/**
 * The round's figures once every container has a `restart` after its unhealthy event (null before),
 * or, with `partial`, for the restarts done so far (null when none).
 */
function roundDone(events: readonly BenchEvent[], count: number, partial = false): Omit<BurstRound, 'parallelism' | 'load'> | null {
  const firstUnhealthy = new Map<string, bigint>();
  const kills = new Map<string, bigint>();
  const restarts = new Map<string, bigint>();
  for (const e of events) {
    if (e.action === 'health_status: unhealthy') {
      if (!firstUnhealthy.has(e.id)) firstUnhealthy.set(e.id, e.timeNano);
    } else if (e.action === 'kill' && firstUnhealthy.has(e.id) && !kills.has(e.id)) {
      kills.set(e.id, e.timeNano);
    } else if (e.action === 'restart' && firstUnhealthy.has(e.id) && !restarts.has(e.id)) {
      restarts.set(e.id, e.timeNano);
    }
  }
  if (restarts.size < count && !(partial && restarts.size > 0)) return null;
  const spans = [...restarts].filter(([id]) => kills.has(id)).map(([id, t]) => [kills.get(id) as bigint, t] as const);
  const unhealthyTimes = [...firstUnhealthy.values()];
  const t0 = unhealthyTimes.reduce((a, b) => (b < a ? b : a));
  const tU = unhealthyTimes.reduce((a, b) => (b > a ? b : a));
  const tEnd = [...restarts.values()].reduce((a, b) => (b > a ? b : a));
  const totalSec = sec(tEnd - t0);
  return {
    containers: count,
    restarted: restarts.size,
    complete: restarts.size >= count,
    restartsPerSec: totalSec > 0 ? Math.round((restarts.size / totalSec) * 100) / 100 : NaN,
    totalSec,
    unhealthySpreadSec: sec(tU - t0),
    perContainerSec: summarize([...restarts].map(([id, t]) => sec(t - (firstUnhealthy.get(id) as bigint)))),
    restartSec: summarize(spans.map(([a, b]) => sec(b - a))),
    ...overlap(spans),
  };
}

export async function runBurst(opts: {
  containers: number;
  parallelism: number[];
  stopTimeoutSec: number;
  healthIntervalSec: number;
  log: (m: string) => void;
}): Promise<BurstFigures> {
  const { containers: count, log } = opts;
  const ns = benchNamespace('burst');
  const dir = mkdtempSync(join(tmpdir(), 'rmb-burst-'));
  writeRound(dir, 0);
  const events = await EventCollector.start({ key: BENCH_LABEL, value: ns });
  const rounds: BurstRound[] = [];
  try {
    log(`burst: creating ${count} containers`);
    await createFleet(ns, count, {
      cmd: CMD,
      health: { cmd: HEALTH, intervalSec: opts.healthIntervalSec, retries: 1 },
      // A check that merely times out on a busy engine must not count as the burst (nor start it early).
      extra: ['-v', `${dir}:/flag:ro`, '--stop-timeout', String(opts.stopTimeoutSec), '--health-timeout', `${Math.max(2, opts.healthIntervalSec)}s`],
    });
    let round = 0;
    for (const p of opts.parallelism) {
      await waitAllHealthy(ns, count, log);
      const rm = await startBenchRepairman({
        namespace: ns,
        args: [...LOOSE_BUDGET, '--parallelism', String(p), '--stop-timeout', String(opts.stopTimeoutSec)],
      });
      try {
        await sleep(1000); // let the first full check settle: the burst starts on a quiet Repairman
        const mark = events.events.length;
        round++;
        log(`burst: round ${round}, parallelism ${p}: ${count} containers turn unhealthy now`);
        writeRound(dir, round);
        const timeoutMs = 120_000 + (count * (opts.stopTimeoutSec + 3) * 1000) / p;
        let done = await events
          .until(`all ${count} restarted (parallelism ${p})`, (ev) => roundDone(ev.slice(mark), count), timeoutMs)
          .catch(() => null);
        done ??= roundDone(events.since(mark), count, true);
        if (!done) throw new Error(`burst: no restart at all within ${timeoutMs} ms (parallelism ${p})`);
        rounds.push({ parallelism: p, ...done, load: loadNow() });
        log(`burst: parallelism ${p}: ${done.totalSec.toFixed(1)} s for ${done.restarted} of ${count} restarts`);
        if (!done.complete) {
          log(`burst: parallelism ${p} ran out of time; the remaining containers stay unhealthy, no further round`);
          break;
        }
      } finally {
        await rm.stop();
      }
    }
  } finally {
    await events.close();
    await removeFleet(ns);
    rmSync(dir, { recursive: true, force: true });
  }
  const first = rounds[0];
  const serial = rounds.find((r) => r.parallelism === 1);
  return { rounds, speedup: first && serial && first !== serial ? first.restartsPerSec / serial.restartsPerSec : null };
}

async function waitAllHealthy(ns: string, count: number, log: (m: string) => void): Promise<void> {
  const deadline = Date.now() + 300_000;
  let last: Record<string, number> = {};
  while (Date.now() < deadline) {
    last = await healthCounts(ns);
    if ((last.healthy ?? 0) === count) return;
    await sleep(1000);
  }
  log(`burst: not all healthy: ${JSON.stringify(last)}`);
  throw new Error(`burst: ${count} containers did not all turn healthy (${JSON.stringify(last)})`);
}

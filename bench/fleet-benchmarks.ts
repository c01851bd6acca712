// Footprint and growth (issue 9), on idle fleets of healthy containers: what Repairman costs while it
// only watches. One fleet per size, each under its own namespace, so one Repairman per size sees
// exactly that many containers. One container in four has a health check, every 30 s (Docker's
// default): a check is a `runc exec`, and 200 containers checked every second would be 200 execs a
// second, which a 2-core engine cannot do; idle watching does not depend on it (the engine emits
// health_status only when a status changes).
import { EventCollector } from './lib/events.js';
import { runContainer } from '../test/helpers/engine.js';
import { BENCH_LABEL, benchNamespace, createFleet, healthCounts, removeFleet } from './lib/fleet.js';
import { loadNow } from './lib/proc.js';
import { sleep, startBenchRepairman, type BenchRepairman } from './lib/repairman.js';
import type { Load } from './lib/results.js';
import { summarize, type Summary } from './lib/stats.js';

export interface Fleet {
  size: number;
  namespace: string;
}

const FLEET_CMD = 'touch /tmp/ok; trap "exit 0" TERM; sleep 100000 & wait';
/** Crashes (exit 3) at its first start only; runs quietly once Repairman has started it again. */
const PATIENT_CMD = 'if [ ! -e /tmp/once ]; then touch /tmp/once; sleep 1; exit 3; fi; trap "exit 0" TERM; sleep 100000 & wait';
const HEALED_SETTLE_SEC = 10;
const FLEET_HEALTH_INTERVAL_SEC = 30;

/** Create one fleet per size (size 0: a namespace with no container), run fn, always remove them. */
export async function withFleets(sizes: number[], log: (m: string) => void, fn: (fleets: Map<number, Fleet>) => Promise<void>): Promise<void> {
  const fleets = new Map<number, Fleet>();
  for (const size of [...new Set(sizes)].sort((a, b) => a - b)) fleets.set(size, { size, namespace: benchNamespace(`fleet${size}`) });
  try {
    const total = [...fleets.values()].reduce((a, f) => a + f.size, 0);
    log(`fleets: creating ${total} containers (${[...fleets.keys()].join(', ')})`);
    const t0 = Date.now();
    for (const f of fleets.values()) {
      const withHealth = Math.ceil(f.size / 4);
      // Generous timeout and retries: on a busy machine a check that merely times out must not make an
      // idle container unhealthy (Repairman would restart it, and the fleet would not be idle).
      if (withHealth) {
        await createFleet(`${f.namespace}h`, withHealth, {
          labels: { [BENCH_LABEL]: f.namespace },
          cmd: FLEET_CMD,
          health: { cmd: 'test -f /tmp/ok', intervalSec: FLEET_HEALTH_INTERVAL_SEC, retries: 3 },
          extra: ['--health-timeout', '10s'],
        });
      }
      if (f.size - withHealth) await createFleet(`${f.namespace}n`, f.size - withHealth, { labels: { [BENCH_LABEL]: f.namespace }, cmd: FLEET_CMD });
    }
    log(`fleets: created in ${Math.round((Date.now() - t0) / 1000)} s; waiting for their first health checks`);
    // Idle means idle: no starting -> healthy transitions (events) while measuring.
    const deadline = Date.now() + (FLEET_HEALTH_INTERVAL_SEC + 60) * 1000;
    for (const f of fleets.values()) {
      while (f.size && Date.now() < deadline) {
        const c = await healthCounts(f.namespace);
        if ((c.healthy ?? 0) === Math.ceil(f.size / 4)) break;
        await sleep(2000);
      }
    }
    await fn(fleets);
  } finally {
    log('fleets: removing');
    for (const f of fleets.values()) await removeFleet(f.namespace);
  }
}

export interface FootprintRow {
  containers: number;
  watched: number;
  startupMs: number;
  /** Engine API calls from start until the first full check was done (negotiation and stream included). */
  startupApiCalls: number | null;
  rssSettledMiB: number | null;
  rssEndMiB: number | null;
  /** Of rssEndMiB: RssAnon (Repairman's own memory) and RssFile+RssShmem (node binary pages, shareable). */
  rssAnonEndMiB: number | null;
  rssFileEndMiB: number | null;
  /** After the window, once it has repaired one crashed container (and 10 s later): VmRSS and its RssAnon. */
  rssHealedMiB: number | null;
  rssAnonHealedMiB: number | null;
  heapEndMiB: number | null;
  cpuSecPerHour: number | null;
  /** Every engine call in the window (re-checks, and duplicate-cleaner listings that other containers' events trigger), per minute. */
  apiCallsPerMinute: number | null;
  rechecksInWindow: number | null;
  /** Restarts Repairman did in the window (0 when the fleet stayed idle, as it should). */
  restartsInWindow: number | null;
  load: Load;
}

export interface FootprintFigures {
  intervalSec: number;
  rows: FootprintRow[];
  /**
   * Container events on the whole engine during the window (create, start, die, health_status...):
   * every Repairman receives them all (the engine filters events by type, not by name), and
   * create/rename ones trigger the duplicate cleaner's listing. Zero on a quiet host.
   */
  engineEventsInWindow: number;
}

function mib(bytes: number | null | undefined): number | null {
  return bytes === null || bytes === undefined ? null : Math.round((bytes / 2 ** 20) * 10) / 10;
}

const CALLS = 'repairman_engine_api_calls_total';

function restartsOf(m: Map<string, number>): number {
  return (m.get('repairman_restarts_total{reason="unhealthy"}') ?? 0) + (m.get('repairman_restarts_total{reason="crashed"}') ?? 0);
}
const CHECKS = 'repairman_checks_total';

/**
 * One Repairman per fleet, default --interval (30 s), started one after the other (startup time is
 * not shared with another start); then all settle, and over the same window their CPU time, their
 * re-checks and engine calls are counted. RSS is read from /proc (VmRSS).
 */
export async function runFootprint(opts: { fleets: Map<number, Fleet>; sizes: number[]; settleSec: number; windowSec: number; log: (m: string) => void }): Promise<FootprintFigures> {
  const intervalSec = 30;
  const started: { size: number; r: BenchRepairman; startupCalls: number | null }[] = [];
  try {
    for (const size of opts.sizes) {
      const f = opts.fleets.get(size) as Fleet;
      const r = await startBenchRepairman({ namespace: f.namespace, http: true, intervalSec });
      const m = await r.metrics();
      started.push({ size, r, startupCalls: m.get(CALLS) ?? null });
      opts.log(`footprint: ${size} containers: first full check after ${Math.round(r.startupMs)} ms`);
    }
    await sleep(opts.settleSec * 1000);
    const foreign = await EventCollector.start(null);
    const begin = await Promise.all(started.map(async (s) => ({ rss: s.r.rss(), cpu: s.r.cpu(), m: await s.r.metrics() })));
    opts.log(`footprint: settled; measuring for ${opts.windowSec} s`);
    await sleep(opts.windowSec * 1000);
    const end = await Promise.all(started.map(async (s) => ({ rss: s.r.rss(), parts: s.r.rssParts(), cpu: s.r.cpu(), m: await s.r.metrics() })));
    await foreign.close();
    const load = loadNow();
    // A Repairman that has healed something has run more of its code (inspect, restart, journal, the
    // time formatting of messages) than one that only watched: one container per fleet crashes once.
    opts.log('footprint: one container per fleet crashes once; reading RSS after its repair');
    const healed = await Promise.all(
      started.map(async (s) => {
        const name = `${(opts.fleets.get(s.size) as Fleet).namespace}patient`;
        await runContainer(name, { cmd: PATIENT_CMD, restart: 'no', labels: { [BENCH_LABEL]: (opts.fleets.get(s.size) as Fleet).namespace } });
        await s.r.rm.waitForLog((l) => l.msg === 'started' && l.container === name, 60_000);
        await sleep(HEALED_SETTLE_SEC * 1000);
        return { rss: s.r.rss(), parts: s.r.rssParts() };
      }),
    );
    const rows = started.map((s, i): FootprintRow => {
      const b = begin[i]!;
      const e = end[i]!;
      const calls = (e.m.get(CALLS) ?? NaN) - (b.m.get(CALLS) ?? NaN);
      const checks = (e.m.get(CHECKS) ?? NaN) - (b.m.get(CHECKS) ?? NaN);
      const cpu = e.cpu !== null && b.cpu !== null ? e.cpu - b.cpu : null;
      return {
        containers: s.size,
        watched: e.m.get('repairman_watched_containers') ?? NaN,
        startupMs: Math.round(s.r.startupMs),
        startupApiCalls: s.startupCalls,
        rssSettledMiB: mib(b.rss),
        rssEndMiB: mib(e.rss),
        rssAnonEndMiB: mib(e.parts?.anonBytes),
        rssFileEndMiB: mib(e.parts?.fileBytes),
        rssHealedMiB: mib(healed[i]?.rss),
        rssAnonHealedMiB: mib(healed[i]?.parts?.anonBytes),
        heapEndMiB: mib(e.m.get('repairman_process_heap_used_bytes')),
        cpuSecPerHour: cpu === null ? null : Math.round((cpu / opts.windowSec) * 3600 * 10) / 10,
        apiCallsPerMinute: Number.isFinite(calls) ? Math.round((calls / opts.windowSec) * 60 * 10) / 10 : null,
        rechecksInWindow: Number.isFinite(checks) ? checks : null,
        restartsInWindow: restartsOf(e.m) - restartsOf(b.m),
        load,
      };
    });
    return { intervalSec, rows, engineEventsInWindow: foreign.events.length };
  } finally {
    for (const s of started) await s.r.stop();
  }
}

export interface GrowthRow {
  containers: number;
  fullCheckMs: number | null;
  quickCheckMs: Summary;
  apiCallsPerRecheck: number | null;
  rechecks: number;
  load: Load;
}

export interface GrowthFigures {
  intervalSec: number;
  rows: GrowthRow[];
}

/**
 * Re-check time and engine calls per re-check as the fleet grows: one Repairman at a time with
 * --interval 1 and --debug (each re-check logs its duration), for `seconds` seconds.
 */
export async function runGrowth(opts: { fleets: Map<number, Fleet>; sizes: number[]; seconds: number; log: (m: string) => void }): Promise<GrowthFigures> {
  const rows: GrowthRow[] = [];
  for (const size of opts.sizes) {
    const f = opts.fleets.get(size) as Fleet;
    const r = await startBenchRepairman({ namespace: f.namespace, http: true, intervalSec: 1, debug: true });
    try {
      // Read right after "watching": the last check is still the first full one.
      const fullSec = (await r.metrics()).get('repairman_check_duration_seconds');
      // Both readings at the same phase of the 1 s cycle (between two re-checks), so that the window
      // holds whole re-checks with all their calls.
      const b = await betweenRechecks(r);
      await sleep(opts.seconds * 1000);
      const e = await betweenRechecks(r);
      const done = r.rm.find('re-check done');
      const quick = done.filter((l) => l.mode === 'quick').map((l) => Number(l.ms));
      const calls = (e.get(CALLS) ?? NaN) - (b.get(CALLS) ?? NaN);
      const checks = (e.get(CHECKS) ?? NaN) - (b.get(CHECKS) ?? NaN);
      rows.push({
        containers: size,
        fullCheckMs: fullSec === undefined ? null : Math.round(fullSec * 10_000) / 10,
        quickCheckMs: summarize(quick),
        apiCallsPerRecheck: checks > 0 ? Math.round((calls / checks) * 100) / 100 : null,
        rechecks: checks,
        load: loadNow(),
      });
      opts.log(`growth: ${size} containers: ${quick.length} quick re-checks, ${checks > 0 ? (calls / checks).toFixed(2) : '?'} calls each`);
    } finally {
      await r.stop();
    }
  }
  return { intervalSec: 1, rows };
}

/** /metrics read 400 ms after the next `re-check done` line (with --interval 1: between two re-checks). */
async function betweenRechecks(r: BenchRepairman): Promise<Map<string, number>> {
  const seen = r.rm.find('re-check done').length;
  await r.rm.waitForLog(() => r.rm.find('re-check done').length > seen, 10_000);
  await sleep(400);
  return r.metrics();
}

export { BENCH_LABEL };

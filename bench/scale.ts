// The scale curve (issue 16, docs/behaviour.md §9): Repairman on the private engine with 10 / 1,000 /
// 5,000 / 10,000 containers (created, never started, ~3 KB of compose-like labels each; creating them
// is part of the benchmark) beside one container that is made unhealthy `trials` times. Per size:
// /healthz 200 after start, RSS (median of the last samples) and peak RSS, the first full re-check's
// duration, engine calls per re-check interval, unhealthy -> kill reaction median (engine clock).
//
//   bash bench/run.sh scale [--sizes 10,1000,5000,10000] [--trials 5] [--variants "none;--max-semi-space-size=1"]
//
// --variants: the flags given to Repairman's node, one variant per ';' ("none": no flag); each size is
// measured with each variant on the same containers (a fresh Repairman per variant).
//
// The containers are removed at the end (one prune). Not a test: nothing here passes or fails.
import { performance } from 'node:perf_hooks';
import { docker, inspectField, removeNamespace, runContainer, testDockerHost, uniqueNamespace, waitFor } from '../test/helpers/engine.js';
import { massCreate, massRemove } from '../test/helpers/mass-create.js';
import { engineEvents, engineNowSec, QUICK_STOP_CMD } from '../test/helpers/repairman.js';
import { machineInfo } from './lib/machine.js';
import { loadNow } from './lib/proc.js';
import { LOOSE_BUDGET, sleep, startBenchRepairman } from './lib/repairman.js';
import { saveResult } from './lib/results.js';
import { summarize } from './lib/stats.js';

export interface ScalePoint {
  containers: number;
  /** Repairman's node flags ('' for none). */
  nodeFlags: string;
  createSec: number;
  healthzMs: number;
  rssMb: number;
  peakRssMb: number;
  fullCheckSec: number;
  callsPerCheck: number;
  reactionMedianMs: number;
  reactions: number[];
  load1: number;
}

const INTERVAL_SEC = 10;

async function healthz(url: string): Promise<number> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(5_000) })).status;
  } catch {
    return 0;
  }
}

async function measure(ns: string, containers: number, trials: number, nodeFlags: string): Promise<Omit<ScalePoint, 'createSec'>> {
  const t0 = performance.now();
  const b = await startBenchRepairman({
    namespace: ns, http: true, intervalSec: INTERVAL_SEC, readyTimeoutMs: 600_000, args: LOOSE_BUDGET,
    nodeFlags: nodeFlags.split(' ').filter(Boolean),
  });
  const samples: number[] = [];
  const sampler = setInterval(() => {
    const r = b.rss();
    if (r !== null) samples.push(r / 1024 / 1024);
  }, 500);
  try {
    await waitFor('/healthz 200', async () => (await healthz(b.rm.url('/healthz'))) === 200, 600_000, 250);
    const healthzMs = performance.now() - t0;
    const m0 = await b.metrics();
    const fullCheckSec = m0.get('repairman_check_duration_seconds') ?? Number.NaN;
    // Calls per re-check: the counters over a few quick re-checks (the duplicate cleaner's listing
    // and the event stream's connection count too: what the engine really sees).
    await sleep(INTERVAL_SEC * 3 * 1000);
    const m1 = await b.metrics();
    const checks = (m1.get('repairman_checks_total') ?? 0) - (m0.get('repairman_checks_total') ?? 0);
    const calls = (m1.get('repairman_engine_api_calls_total') ?? 0) - (m0.get('repairman_engine_api_calls_total') ?? 0);
    const reactions: number[] = [];
    for (let i = 0; i < trials; i++) {
      // On a very loaded machine a trial can fail (health checks time out, an exec is lost): it is
      // left out and said so, the other figures stay.
      try {
        await waitFor('sick healthy', async () => (await inspectField(`${ns}sick`, '{{.State.Health.Status}}')) === 'healthy', 180_000, 200);
        const since = (await engineNowSec()) - 1;
        const before = b.rm.actionsOn(`${ns}sick`).length;
        await docker(['exec', `${ns}sick`, 'rm', '-f', '/tmp/ok']);
        await waitFor('restarted', () => b.rm.actionsOn(`${ns}sick`).length > before, 180_000, 100);
        const events = await engineEvents({ since, filters: { container: [`${ns}sick`] } });
        const unhealthy = events.findLast((e) => e.Action === 'health_status: unhealthy');
        const kill = unhealthy && events.find((e) => e.Action === 'kill' && e.timeNano >= unhealthy.timeNano);
        if (unhealthy && kill) reactions.push((kill.timeNano - unhealthy.timeNano) / 1e6);
      } catch (err) {
        process.stderr.write(`bench: trial ${i + 1} of ${containers} containers left out: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    }
    await sleep(5_000);
    const tail = samples.slice(-10);
    return {
      containers,
      nodeFlags,
      healthzMs,
      rssMb: summarize(tail).median,
      peakRssMb: Math.max(...samples),
      fullCheckSec,
      callsPerCheck: checks > 0 ? calls / checks : Number.NaN,
      reactionMedianMs: summarize(reactions).median,
      reactions,
      load1: loadNow().load1,
    };
  } finally {
    clearInterval(sampler);
    await b.stop();
  }
}

export async function runScale(opts: { sizes: number[]; trials: number; variants: string[] }): Promise<void> {
  if (!testDockerHost()) throw new Error('no private engine');
  const started = performance.now();
  const loadBefore = loadNow();
  const ns = uniqueNamespace('bench-scale');
  const points: ScalePoint[] = [];
  await runContainer(`${ns}sick`, { cmd: QUICK_STOP_CMD, health: { cmd: 'test -f /tmp/ok' } });
  let have = 1;
  try {
    for (const size of [...opts.sizes].sort((a, b) => a - b)) {
      const more = Math.max(0, size - have);
      const createMs = more ? await massCreate({ prefix: ns, count: more, from: have }) : 0;
      have += more;
      process.stderr.write(`bench: scale ${have} containers (created ${more} in ${(createMs / 1000).toFixed(0)} s), load ${loadNow().load1.toFixed(1)}\n`);
      for (const flags of opts.variants) {
        const p = await measure(ns, have, opts.trials, flags);
        points.push({ ...p, createSec: createMs / 1000 });
        process.stderr.write(`bench: ${JSON.stringify(points.at(-1))}\n`);
      }
    }
  } finally {
    await massRemove(ns).catch(() => undefined);
    await removeNamespace(ns);
  }
  const file = saveResult({
    bench: 'scale',
    date: new Date().toISOString(),
    command: process.env.REPAIRMAN_BENCH_COMMAND ?? 'bash bench/run.sh scale',
    machine: await machineInfo(),
    loadBefore,
    loadAfter: loadNow(),
    durationSec: (performance.now() - started) / 1000,
    params: { sizes: opts.sizes, trials: opts.trials, variants: opts.variants, intervalSec: INTERVAL_SEC, labelBytes: 3000 },
    figures: points,
    notes: [],
  });
  console.log(renderScale(points));
  process.stderr.write(`bench: saved ${file}\n`);
}

export function renderScale(points: ScalePoint[]): string {
  const f = (n: number, d = 1): string => (Number.isFinite(n) ? n.toFixed(d) : '-');
  const lines = [
    '| containers | node flags | created in (s) | /healthz 200 after (s) | RSS (MB) | peak RSS (MB) | full re-check (s) | engine calls per re-check | unhealthy -> kill median (ms) | load (1 min) |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const p of points) {
    lines.push(`| ${p.containers} | ${p.nodeFlags ? `\`${p.nodeFlags}\`` : 'none'} | ${f(p.createSec, 0)} | ${f(p.healthzMs / 1000)} | ${f(p.rssMb)} | ${f(p.peakRssMb)} | ${f(p.fullCheckSec, 2)} | ${f(p.callsPerCheck)} | ${f(p.reactionMedianMs, 0)} (${p.reactions.map((r) => r.toFixed(0)).join(', ')}) | ${f(p.load1)} |`);
  }
  return lines.join('\n');
}

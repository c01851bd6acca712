// The built Repairman under benchmark: started with test/helpers/repairman.ts (the same binary and
// private engine as the integration tests), plus what benchmarks read from it: /metrics and /proc.
import { performance } from 'node:perf_hooks';
import { startRepairman, type RepairmanOptions, type RepairmanProcess } from '../../test/helpers/repairman.js';
import { cpuSeconds, rssBytes, rssParts } from './proc.js';

/** Budget settings that never hold a restart back: reactions are measured, not the budget. */
export const LOOSE_BUDGET = ['--max-restarts-in-frame', '0', '--seconds-between-restarts', '0', '--max-checks-to-give-up', '0'];

export interface BenchRepairman {
  rm: RepairmanProcess;
  pid: number;
  /** Milliseconds from just before the spawn to the arrival of the "watching" line (first full check done). */
  startupMs: number;
  metrics(): Promise<Map<string, number>>;
  rss(): number | null;
  rssParts(): ReturnType<typeof rssParts>;
  cpu(): number | null;
  stop(): Promise<void>;
}

export async function startBenchRepairman(opts: RepairmanOptions): Promise<BenchRepairman> {
  const t0 = performance.now();
  const rm = await startRepairman({ ...opts, noWait: true });
  let startupMs = NaN;
  try {
    await rm.waitForLog('watching', opts.readyTimeoutMs ?? 60_000);
    startupMs = performance.now() - t0;
    if (opts.http) await rm.waitForLog('http listening', 5_000);
  } catch (err) {
    await rm.kill();
    throw err;
  }
  const pid = rm.child.pid ?? -1;
  return {
    rm,
    pid,
    startupMs,
    metrics: () => scrapeMetrics(rm.url('/metrics')),
    rss: () => rssBytes(pid),
    rssParts: () => rssParts(pid),
    cpu: () => cpuSeconds(pid),
    async stop() {
      const e = await rm.stop(3000);
      if (e.code !== 0) process.stderr.write(`bench: repairman exited with code ${e.code} signal ${e.signal}\n`);
    },
  };
}

/** Prometheus text -> map of `name{labels}` to value (labels as printed). */
export async function scrapeMetrics(url: string): Promise<Map<string, number>> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  const text = await res.text();
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    m.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return m;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

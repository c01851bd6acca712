// Benchmark containers: created side by side (a bounded number of `docker run` at once), all under one
// name prefix and one label so the run's events can be followed and everything removed afterwards.
import { randomBytes } from 'node:crypto';
import { docker, removeNamespace, runContainer, type RunOpts } from '../../test/helpers/engine.js';

/** Every benchmark container carries this label (value: the run's namespace). */
export const BENCH_LABEL = 'org.riotkit.repairman-bench.run';

/** A fresh `rmb-<what>-<hex>-` prefix: benchmarks never see tests' (`rmt-`) or each other's containers. */
export function benchNamespace(what: string): string {
  return `rmb-${what}-${randomBytes(3).toString('hex')}-`;
}

/** Run fn over items with at most `limit` at once; results in item order. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

export interface FleetSpec extends RunOpts {
  /** How many `docker run` at once (default 6: the engine serialises much of it anyway). */
  concurrency?: number;
}

/** Create `count` containers named `<namespace><index>`, labelled with the namespace unless spec.labels says otherwise; returns their ids. */
export async function createFleet(namespace: string, count: number, spec: FleetSpec): Promise<string[]> {
  const names = Array.from({ length: count }, (_, i) => `${namespace}${String(i).padStart(3, '0')}`);
  return pool(names, spec.concurrency ?? 6, (name) =>
    runContainer(name, { ...spec, labels: { [BENCH_LABEL]: namespace, ...spec.labels } }),
  );
}

/** Remove the run's containers (whatever state they are in). */
export async function removeFleet(namespace: string): Promise<void> {
  await removeNamespace(namespace).catch(() => undefined);
  // A second pass: containers created while the first listing ran (a restart racing the removal).
  await removeNamespace(namespace).catch(() => undefined);
}

/** Remove every benchmark container left by an interrupted run (`bash bench/run.sh clean`). */
export async function removeAllBenchContainers(): Promise<number> {
  const ids = await docker(['ps', '-aq', '--filter', `label=${BENCH_LABEL}`]);
  const list = ids.split('\n').filter(Boolean);
  if (list.length) await docker(['rm', '-f', '-v', ...list], { timeoutMs: 300_000 }).catch(() => undefined);
  return list.length;
}

/** Counts of the run's containers by health ("healthy", "unhealthy", "starting", "none"). */
export async function healthCounts(namespace: string): Promise<Record<string, number>> {
  const out = await docker(['ps', '-a', '--filter', `label=${BENCH_LABEL}=${namespace}`, '--format', '{{.Status}}']);
  const counts: Record<string, number> = {};
  for (const line of out.split('\n').filter(Boolean)) {
    const m = /\((healthy|unhealthy|health: starting)\)/.exec(line);
    const k = m ? (m[1] === 'health: starting' ? 'starting' : (m[1] as string)) : line.startsWith('Up') ? 'none' : 'exited';
    counts[k] = (counts[k] ?? 0) + 1;
  }
  return counts;
}

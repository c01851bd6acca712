// Where benchmark results go: bench/results/<name>.json (one file per benchmark, the latest run),
// read back by `bench/run.sh report` to print the markdown table.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MachineInfo } from './machine.js';
import type { loadNow } from './proc.js';

export type Load = ReturnType<typeof loadNow>;

export interface BenchResult<T = unknown> {
  bench: string;
  /** ISO date-time (UTC) of the end of the run. */
  date: string;
  command: string;
  machine: MachineInfo;
  loadBefore: Load;
  loadAfter: Load;
  durationSec: number;
  /** Benchmark-specific parameters and figures. */
  params: Record<string, unknown>;
  figures: T;
  notes: string[];
}

/** bench/results in the source tree, whether running from the tree or from a build directory. */
export function resultsDir(): string {
  if (process.env.REPAIRMAN_BENCH_RESULTS) return process.env.REPAIRMAN_BENCH_RESULTS;
  return join(process.env.REPAIRMAN_BENCH_ROOT ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..'), 'bench', 'results');
}

export function saveResult(r: BenchResult): string {
  const dir = resultsDir();
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${r.bench}.json`);
  writeFileSync(file, JSON.stringify(r, null, 2) + '\n');
  return file;
}

export function loadResult<T>(bench: string): BenchResult<T> | null {
  try {
    return JSON.parse(readFileSync(join(resultsDir(), `${bench}.json`), 'utf8')) as BenchResult<T>;
  } catch {
    return null;
  }
}

// The journal's driver compared: RSS with the journal of N containers, write latency, reopen time.
// Each variant is a node binary and a built src/journal/journal.js (another build of Repairman, e.g.
// the last commit on better-sqlite3, with its own node_modules); each run is a fresh process, the
// variants interleaved run by run so that the machine's load falls on all of them alike.
//
//   npx tsc -p tsconfig.json
//   node dist/bench/journal.js                                   # this build, this node
//   node dist/bench/journal.js --variant 'better-sqlite3, Node 20|/usr/bin/node|/tmp/old/dist/src/journal/journal.js' ...
//   options: --containers 200,10000  --writes 5000  --runs 5
//
// Per container: one restart budget and 5 entries, written as the healer writes them (a batch: an
// append with trimming to 50, and the budget). Then `--writes` more such batches on random containers,
// each timed alone: the latency of one journal write of a running instance. The journal is a file
// in WAL mode (--db-path), where the drivers differ most.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { initialBudget } from '../src/budget/budget.js';
import type { Journal } from '../src/journal/types.js';

const execFileP = promisify(execFile);

interface ChildResult {
  node: string;
  rssBaseMB: number;
  rssFilledMB: number;
  rssAfterWritesMB: number;
  peakMB: number;
  fillMs: number;
  writeUs: number[];
  reopenMs: number;
  fileKB: number;
}

const mb = (bytes: number): number => bytes / 1024 / 1024;

/** In the child: fill a journal for `containers` containers, then time `writes` writes. */
async function child(journalModule: string, containers: number, writes: number): Promise<void> {
  const { openJournal } = (await import(pathToFileURL(journalModule).href)) as { openJournal: (o: { dbPath: string }) => Journal };
  const dir = mkdtempSync(join(tmpdir(), 'repairman-journal-bench-'));
  const dbPath = join(dir, 'journal.db');
  try {
    const rssBase = process.memoryUsage().rss;
    const budget = initialBudget();
    let j = openJournal({ dbPath });
    const t0 = performance.now();
    const write = (name: string, i: number): void => {
      j.batch(() => {
        j.append({ container: name, kind: 'restart', atMs: 1_700_000_000_000 + i, message: `Restarted ${name} (unhealthy)`, details: { reason: 'unhealthy', exitCode: 0 } }, 50);
        j.saveBudget(name, budget, 1_700_000_000_000 + i);
      });
    };
    for (let c = 0; c < containers; c++) for (let k = 0; k < 5; k++) write(`c${c}`, k);
    const fillMs = performance.now() - t0;
    const rssFilled = process.memoryUsage().rss;
    const writeUs: number[] = [];
    for (let i = 0; i < writes; i++) {
      const name = `c${Math.floor(Math.random() * containers)}`;
      const s = process.hrtime.bigint();
      write(name, 100 + i);
      writeUs.push(Number(process.hrtime.bigint() - s) / 1000);
    }
    const rssAfterWrites = process.memoryUsage().rss;
    j.close();
    const r0 = performance.now();
    j = openJournal({ dbPath });
    j.loadBudgets();
    const reopenMs = performance.now() - r0;
    j.close();
    const out: ChildResult = {
      node: process.version,
      rssBaseMB: mb(rssBase),
      rssFilledMB: mb(rssFilled),
      rssAfterWritesMB: mb(rssAfterWrites),
      peakMB: process.resourceUsage().maxRSS / 1024,
      fillMs,
      writeUs,
      reopenMs,
      fileKB: statSync(dbPath).size / 1024,
    };
    console.log(JSON.stringify(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nearest-rank percentile: a value that was measured. */
function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

async function main(): Promise<void> {
  if (process.argv[2] === 'child') {
    await child(process.argv[3]!, Number(process.argv[4]), Number(process.argv[5]));
    return;
  }
  const sizes = arg('containers', '200,10000').split(',').map(Number);
  const writes = Number(arg('writes', '5000'));
  const runs = Number(arg('runs', '5'));
  const variants: { label: string; node: string; journal: string }[] = [];
  process.argv.forEach((a, i) => {
    if (a !== '--variant') return;
    const [label, node, journal] = (process.argv[i + 1] ?? '').split('|');
    if (!label || !node || !journal) throw new Error(`--variant 'label|node binary|journal.js', got ${process.argv[i + 1]}`);
    variants.push({ label, node, journal });
  });
  if (variants.length === 0) {
    variants.push({ label: 'this build', node: process.execPath, journal: fileURLToPath(new URL('../src/journal/journal.js', import.meta.url)) });
  }
  const self = fileURLToPath(import.meta.url);
  const load = (): string => loadavg()[0]!.toFixed(2);
  console.log(`machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 1024 ** 3).toFixed(1)} GiB, ${new Date().toISOString()}, load average (1 min) ${load()} before`);
  console.log(`${runs} runs per variant and size, interleaved; medians (latency: every write of every run)\n`);
  const results = new Map<string, ChildResult[]>();
  for (let r = 0; r < runs; r++) {
    for (const size of sizes) {
      for (const [vi, v] of variants.entries()) {
        const { stdout } = await execFileP(v.node, [self, 'child', v.journal, String(size), String(writes)], { timeout: 600_000, maxBuffer: 64 * 1024 * 1024 });
        const key = `${vi}\u0000${size}`;
        const list = results.get(key) ?? [];
        list.push(JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildResult);
        results.set(key, list);
      }
    }
  }
  console.log('| driver | node | containers | RSS before opening (MB) | RSS with the journal filled (MB) | after the writes (MB) | peak (MB) | write p50 / p99 / max (µs) | fill (ms) | reopen + load budgets (ms) | file (KB) |');
  console.log('|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|');
  for (const size of sizes) {
    for (const [vi, v] of variants.entries()) {
      const rs = results.get(`${vi}\u0000${size}`)!;
      const med = (f: (x: ChildResult) => number, d = 1): string => median(rs.map(f)).toFixed(d);
      const all = rs.flatMap((x) => x.writeUs);
      console.log(
        `| ${v.label} | ${rs[0]!.node} | ${size} | ${med((x) => x.rssBaseMB)} | ${med((x) => x.rssFilledMB)} | ${med((x) => x.rssAfterWritesMB)} | ${med((x) => x.peakMB)} | ` +
          `${percentile(all, 50).toFixed(0)} / ${percentile(all, 99).toFixed(0)} / ${Math.max(...all).toFixed(0)} | ${med((x) => x.fillMs, 0)} | ${med((x) => x.reopenMs, 1)} | ${med((x) => x.fileKB, 0)} |`,
      );
    }
  }
  console.log(`\nload average (1 min) ${load()} after`);
}

await main();

// Repairman's RSS on one fleet, several builds side by side: e.g. the last commit on Node 20 with
// better-sqlite3 against this one on Node 24 with node:sqlite, each with the default in-memory journal
// (SQLite not loaded while nothing was journaled) and with a journal file (SQLite loaded at start).
// Every variant watches the same idle containers at the same time, so the machine's load and the
// engine are the same for all; readings are medians of 5, a second apart, after settling.
//
//   npx tsc -p tsconfig.json
//   REPAIRMAN_TEST_DOCKER_HOST=unix:///tmp/repairman-engine/docker.sock node dist/bench/runtime-rss.js \
//     --containers 200 --variant 'Node 20, better-sqlite3|/usr/bin/node|/tmp/old/dist/src/cli.js' --variant ...
//   (no --variant: this build on this node)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { engineEnv, removeNamespace, runContainer, uniqueNamespace } from '../test/helpers/engine.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

function status(pid: number): { rss: number; anon: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) / 1024;
    return { rss: kb('VmRSS'), anon: kb('RssAnon') };
  } catch {
    return null;
  }
}

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? NaN;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const containers = Number(arg('containers', '200'));
  const settleSec = Number(arg('settle', '20'));
  const variants: { label: string; node: string; cli: string }[] = [];
  process.argv.forEach((a, i) => {
    if (a !== '--variant') return;
    const [label, node, cli] = (process.argv[i + 1] ?? '').split('|');
    if (!label || !node || !cli) throw new Error(`--variant 'label|node binary|cli.js', got ${process.argv[i + 1]}`);
    variants.push({ label, node, cli });
  });
  if (variants.length === 0) variants.push({ label: 'this build', node: process.execPath, cli: fileURLToPath(new URL('../src/cli.js', import.meta.url)) });

  const ns = uniqueNamespace('rss');
  const dir = mkdtempSync(join(tmpdir(), 'repairman-rss-'));
  const children: { label: string; journal: string; child: ChildProcess }[] = [];
  try {
    console.error(`creating ${containers} idle containers (${ns})`);
    for (let i = 0; i < containers; i += 10) {
      await Promise.all(Array.from({ length: Math.min(10, containers - i) }, (_, j) => runContainer(`${ns}${i + j}`)));
    }
    for (const v of variants) {
      for (const journal of [':memory:', 'file']) {
        const dbPath = journal === 'file' ? join(dir, `${children.length}.db`) : ':memory:';
        const child = spawn(v.node, [v.cli, 'run', '--namespace', ns, '--db-path', dbPath, '--http-port', '0'], {
          env: engineEnv(),
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let out = '';
        child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
        children.push({ label: v.label, journal: journal === 'file' ? '--db-path file' : ':memory: (default)', child });
        const started = Date.now();
        while (!out.includes('"msg":"watching"')) {
          if (Date.now() - started > 120_000 || child.exitCode !== null) throw new Error(`${v.label} did not start watching:\n${out}`);
          await sleep(100);
        }
      }
    }
    console.error(`all watching; settling ${settleSec} s`);
    await sleep(settleSec * 1000);
    const readings = children.map(() => [] as { rss: number; anon: number }[]);
    for (let k = 0; k < 5; k++) {
      children.forEach((c, i) => {
        const s = c.child.pid ? status(c.child.pid) : null;
        if (s) readings[i]!.push(s);
      });
      await sleep(1000);
    }
    console.log(`${containers} idle containers, ${cpus().length} CPUs, ${new Date().toISOString()}, load average (1 min) ${loadavg()[0]!.toFixed(2)}\n`);
    console.log('| build | journal | RSS (MiB) | of which anonymous (MiB) |');
    console.log('|---|---|---:|---:|');
    children.forEach((c, i) => {
      const r = readings[i]!;
      console.log(`| ${c.label} | ${c.journal} | ${median(r.map((x) => x.rss)).toFixed(1)} | ${median(r.map((x) => x.anon)).toFixed(1)} |`);
    });
  } finally {
    for (const c of children) c.child.kill('SIGTERM');
    await sleep(1500);
    await removeNamespace(ns);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();

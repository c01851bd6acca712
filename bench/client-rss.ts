// Client footprint: RSS of a bare node process vs one that imports the Docker client and lists the
// containers of an engine. Each variant runs in a fresh process, RUNS times; medians are reported.
//
//   npx tsc -p tsconfig.json
//   DOCKER_HOST=unix:///tmp/repairman-engine/docker.sock node dist/bench/client-rss.js
//
// DOCKER_HOST is required (never the machine's default engine by accident).
import { execFile } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);
const RUNS = Number(process.env.RUNS ?? 5);
const clientModule = fileURLToPath(new URL('../src/docker/client.js', import.meta.url));

// Each child prints JSON: its RSS at the end and its peak RSS (maxRSS, KB), plus what it listed.
const report = 'const r = process.memoryUsage().rss; const peak = process.resourceUsage().maxRSS * 1024;';
const variants: { name: string; code: string }[] = [
  { name: 'bare `node -e`', code: `${report} console.log(JSON.stringify({ rss: r, peak }));` },
  {
    name: 'import the client only',
    code: `const { createDockerClient } = await import(${JSON.stringify(clientModule)});
      createDockerClient(process.env);
      ${report} console.log(JSON.stringify({ rss: r, peak }));`,
  },
  {
    name: 'import the client + list all containers',
    code: `const { createDockerClient } = await import(${JSON.stringify(clientModule)});
      const c = createDockerClient(process.env);
      const list = await c.listContainers({ all: true });
      ${report} c.close(); console.log(JSON.stringify({ rss: r, peak, containers: list.length, calls: c.callCount }));`,
  },
];

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);

async function main(): Promise<void> {
  const host = process.env.DOCKER_HOST;
  if (!host) throw new Error('set DOCKER_HOST to the engine to list (e.g. the private test engine)');
  console.log(`machine: ${cpus().length} CPUs, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB RAM, node ${process.version}, ${new Date().toISOString()}`);
  console.log(`engine: ${host}; ${RUNS} runs per variant, medians\n`);
  console.log('| process | RSS at end (MB) | peak RSS (MB) | notes |');
  console.log('|---|---|---|---|');
  for (const v of variants) {
    const rss: number[] = [];
    const peak: number[] = [];
    let notes = '';
    for (let i = 0; i < RUNS; i++) {
      const { stdout } = await execFileP(process.execPath, ['--input-type=module', '-e', v.code], { env: process.env, timeout: 30_000 });
      const r = JSON.parse(stdout.trim().split('\n').at(-1)!) as { rss: number; peak: number; containers?: number; calls?: number };
      rss.push(r.rss);
      peak.push(r.peak);
      if (r.containers !== undefined) notes = `${r.containers} containers, ${r.calls} HTTP calls (1 of them the version negotiation)`;
    }
    console.log(`| ${v.name} | ${mb(median(rss))} | ${mb(median(peak))} | ${notes} |`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});

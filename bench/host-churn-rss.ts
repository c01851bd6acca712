// Repairman's RSS while containers it does not watch are created in bulk on the same engine: a
// Repairman with --namespace A, one healthy container of its own, then N containers (3 KB of labels
// each, never started) created in namespace B. Each created container is one event (no inspect since
// ef9f334: outside the namespace the graph knows it from its event). Several variants (launch flags) run
// side by side through the same creation, so load and engine are the same for all. Prints per variant
// the RSS before, its peak and at the end, with RssAnon / RssFile at the peak.
//
//   npx tsc -p tsconfig.json
//   REPAIRMAN_TEST_DOCKER_HOST=unix:///tmp/repairman-engine/docker.sock node dist/bench/host-churn-rss.js \
//     --containers 3000 --variant 'no flags|' --variant 'small young generation|--max-semi-space-size=1'
//   (a third field sets MALLOC_ARENA_MAX: --variant 'both|--max-semi-space-size=1|2')
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { docker, engineEnv, removeNamespace, runContainer, uniqueNamespace } from '../test/helpers/engine.js';
import { massCreate, MASS_LABEL } from '../test/helpers/mass-create.js';
import { rssParts } from './lib/proc.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: number): number => bytes / 1024 / 1024;

interface Sample { tMs: number; rss: number; anon: number; file: number }
interface Variant { label: string; nodeOptions: string; mallocArenas: string; child?: ChildProcess; samples: Sample[] }

async function main(): Promise<void> {
  const containers = Number(arg('containers', '3000'));
  const settleSec = Number(arg('settle', '15'));
  const afterSec = Number(arg('after', '20'));
  const variants: Variant[] = [];
  process.argv.forEach((a, i) => {
    if (a !== '--variant') return;
    const [label, nodeOptions = '', mallocArenas = ''] = (process.argv[i + 1] ?? '').split('|');
    if (!label) throw new Error(`--variant 'label|NODE_OPTIONS[|MALLOC_ARENA_MAX]', got ${process.argv[i + 1]}`);
    variants.push({ label, nodeOptions, mallocArenas, samples: [] });
  });
  if (variants.length === 0) variants.push({ label: 'no flags', nodeOptions: '', mallocArenas: '', samples: [] });
  const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));
  const watched = uniqueNamespace('churn-watched');
  const other = uniqueNamespace('churn-other');
  const t0 = Date.now();
  const marks: string[] = [];
  const mark = (what: string): void => void marks.push(`${what} at ${Math.round((Date.now() - t0) / 1000)} s`);
  let sampler: NodeJS.Timeout | undefined;
  try {
    await runContainer(`${watched}web`, { health: { cmd: 'true' } });
    for (const v of variants) {
      const env = engineEnv({ NODE_OPTIONS: v.nodeOptions, ...(v.mallocArenas ? { MALLOC_ARENA_MAX: v.mallocArenas } : {}) });
      const child = spawn(process.execPath, [cli, 'run', '--namespace', watched, '--http-port', '0'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
      v.child = child;
      let out = '';
      child.stdout?.on('data', (d: Buffer) => { if (out.length < 100_000) out += d.toString(); });
      const started = Date.now();
      while (!out.includes('"msg":"watching"')) {
        if (Date.now() - started > 120_000 || child.exitCode !== null) throw new Error(`${v.label} did not start watching:\n${out}`);
        await sleep(100);
      }
    }
    sampler = setInterval(() => {
      for (const v of variants) {
        const p = v.child?.pid ? rssParts(v.child.pid) : null;
        if (p) v.samples.push({ tMs: Date.now() - t0, rss: mb(p.anonBytes + p.fileBytes), anon: mb(p.anonBytes), file: mb(p.fileBytes) });
      }
    }, 500);
    await sleep(settleSec * 1000);
    mark('creation started');
    const createdAt = Date.now() - t0;
    const createMs = await massCreate({ prefix: other, count: containers });
    mark('all created');
    await sleep(afterSec * 1000);
    clearInterval(sampler);
    const [load1 = 0, load5 = 0] = loadavg();
    console.log(`${containers} containers created in another namespace in ${(createMs / 1000).toFixed(0)} s; ${cpus().length} CPUs, ${new Date().toISOString()}, load average ${load1.toFixed(1)} / ${load5.toFixed(1)} (1 / 5 min); ${marks.join(', ')}\n`);
    console.log('| variant | NODE_OPTIONS | MALLOC_ARENA_MAX | RSS before (MiB) | peak (MiB) | RssAnon / RssFile at the peak | at the end (MiB) |');
    console.log('|---|---|---|---:|---:|---|---:|');
    for (const v of variants) {
      const before = v.samples.filter((s) => s.tMs < createdAt);
      const base = before.length ? before.reduce((a, s) => a + s.rss, 0) / before.length : NaN;
      const peak = v.samples.reduce((a, s) => (s.rss > a.rss ? s : a), v.samples[0]!);
      const last = v.samples[v.samples.length - 1]!;
      console.log(`| ${v.label} | ${v.nodeOptions || '-'} | ${v.mallocArenas || '-'} | ${base.toFixed(1)} | ${peak.rss.toFixed(1)} | ${peak.anon.toFixed(1)} / ${peak.file.toFixed(1)} | ${last.rss.toFixed(1)} |`);
    }
  } finally {
    if (sampler) clearInterval(sampler);
    for (const v of variants) v.child?.kill('SIGTERM');
    await sleep(1500);
    await removeNamespace(watched);
    // One prune for the created ones (never started); the CLI has no deadline of its own here.
    await docker(['container', 'prune', '--force', '--filter', `label=${MASS_LABEL}=${other}`], { timeoutMs: 600_000 }).catch((err: unknown) => console.error(`prune: ${String(err)}`));
  }
}

await main();

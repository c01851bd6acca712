// Which parser reads container listings (issue 16): a 12 MB listing (6,500 containers with compose-sized
// labels, the size that broke the 8 MB cap) fed in 64 KB chunks, as a socket delivers it, to
//   - buffer + JSON.parse + reduce (what Repairman did before),
//   - src/docker/listing.ts (the tokenizer of src/docker/json-stream.ts),
//   - @streamparser/json and stream-json (maintained npm packages), when installed in
//     REPAIRMAN_BENCH_PARSERS (a folder with node_modules; they are not Repairman's dependencies):
//       mkdir -p /tmp/parsers && (cd /tmp/parsers && npm i @streamparser/json stream-json)
// Each variant runs RUNS times in a fresh process; medians of time, RSS at the end and peak RSS.
//
//   npx tsc -p tsconfig.json && REPAIRMAN_BENCH_PARSERS=/tmp/parsers node dist/bench/listing-parser.js
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { createReadStream, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { isKeptLabel, ListingParser } from '../src/docker/listing.js';
import type { ContainerSummary } from '../src/docker/types.js';

const execFileP = promisify(execFile);
const RUNS = Number(process.env.RUNS ?? 5);
const CONTAINERS = Number(process.env.CONTAINERS ?? 6500);
const CHUNK = 64 * 1024;
/** V8 flags for the measured processes, e.g. BENCH_NODE_FLAGS=--max-semi-space-size=1. */
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);

/** One container as `docker ps -a` lists a compose service's: ~1.9 KB. */
function entry(i: number): Record<string, unknown> {
  const id = (i.toString(16).padStart(8, '0') + 'ab'.repeat(28)).slice(0, 64);
  const svc = `service-${i}`;
  return {
    Id: id, Names: [`/project_${svc}_1`], Image: 'registry.example.org/team/app:1.2.3', ImageID: `sha256:${'c'.repeat(64)}`,
    Command: '/docker-entrypoint.sh nginx -g daemon off;', Created: 1_700_000_000 + i, Ports: [],
    Labels: {
      'com.docker.compose.config-hash': 'd'.repeat(64), 'com.docker.compose.container-number': '1', 'com.docker.compose.depends_on': '',
      'com.docker.compose.image': `sha256:${'e'.repeat(64)}`, 'com.docker.compose.oneoff': 'False', 'com.docker.compose.project': 'project',
      'com.docker.compose.project.config_files': '/srv/project/docker-compose.yml', 'com.docker.compose.project.working_dir': '/srv/project',
      'com.docker.compose.service': svc, 'com.docker.compose.version': '2.24.6',
      'org.opencontainers.image.source': 'https://git.example.org/team/app', 'org.opencontainers.image.revision': 'f'.repeat(40),
      'org.opencontainers.image.description': 'An application of the team, packaged for the homelab. '.repeat(3),
      maintainer: 'team@example.org',
    },
    State: i % 3 ? 'exited' : 'created', Status: i % 3 ? 'Exited (0) 3 weeks ago' : 'Created',
    HostConfig: { NetworkMode: 'project_default' },
    NetworkSettings: { Networks: { project_default: { IPAMConfig: null, Links: null, Aliases: null, MacAddress: '', NetworkID: 'a'.repeat(64), EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DriverOpts: null, DNSNames: null } } },
    Mounts: [{ Type: 'volume', Name: `project_${svc}_data`, Source: `/var/lib/docker/volumes/project_${svc}_data/_data`, Destination: '/data', Driver: 'local', Mode: 'z', RW: true, Propagation: '' }],
  };
}

function listing(): Buffer {
  return Buffer.from(JSON.stringify(Array.from({ length: CONTAINERS }, (_, i) => entry(i))));
}

function reduce(o: Record<string, unknown>): ContainerSummary {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries((o.Labels ?? {}) as Record<string, unknown>)) if (typeof v === 'string' && isKeptLabel(k)) labels[k] = v;
  return { Id: o.Id as string, Names: o.Names as string[], Created: o.Created as number, State: o.State as string, Status: o.Status as string, Labels: labels };
}

type Variant = (chunks: Readable, keep: (c: ContainerSummary) => void) => Promise<void>;

const parsersDir = process.env.REPAIRMAN_BENCH_PARSERS;
const requireFrom = parsersDir ? createRequire(join(parsersDir, 'package.json')) : undefined;
async function importFrom(name: string): Promise<Record<string, unknown>> {
  if (!requireFrom) throw new Error('REPAIRMAN_BENCH_PARSERS is not set');
  return (await import(requireFrom.resolve(name))) as Record<string, unknown>;
}

const VARIANTS: Record<string, Variant> = {
  'buffer + JSON.parse (before)': async (chunks, keep) => {
    const parts: Buffer[] = [];
    for await (const c of chunks) parts.push(c as Buffer);
    const whole = Buffer.concat(parts);
    parts.length = 0;
    for (const o of JSON.parse(whole.toString('utf8')) as Record<string, unknown>[]) keep(reduce(o));
  },
  'src/docker/listing.ts (own tokenizer)': async (chunks, keep) => {
    const p = new ListingParser({ maxRecordBytes: 1024 * 1024, maxRecords: 50_000 }, keep);
    for await (const c of chunks) p.write(c as Buffer);
    p.end();
  },
  '@streamparser/json': async (chunks, keep) => {
    const { JSONParser } = requireFrom!('@streamparser/json') as { JSONParser: new (o: object) => { onValue: (v: { value: unknown }) => void; write(c: Uint8Array): void; end(): void; isEnded: boolean } };
    const p = new JSONParser({ paths: ['$.*'], keepStack: false });
    p.onValue = ({ value }) => keep(reduce(value as Record<string, unknown>));
    for await (const c of chunks) p.write(c as Buffer);
    // It ends by itself after the top-level value.
    if (!p.isEnded) p.end();
  },
  'stream-json (parser + streamArray)': async (chunks, keep) => {
    const { default: streamArray } = (await importFrom('stream-json/streamers/stream-array.js')) as { default: { withParserAsStream: () => NodeJS.ReadWriteStream } };
    await new Promise<void>((resolve, reject) => {
      const out = chunks.pipe(streamArray.withParserAsStream());
      out.on('data', ({ value }: { value: Record<string, unknown> }) => keep(reduce(value)));
      out.on('end', resolve);
      out.on('error', reject);
    });
  },
};

async function child(name: string, file: string): Promise<void> {
  const variant = VARIANTS[name]!;
  const bytes = statSync(file).size;
  const before = process.memoryUsage().rss;
  const kept: ContainerSummary[] = [];
  const t0 = performance.now();
  // Read from a file in 64 KB chunks, as a socket delivers them.
  await variant(createReadStream(file, { highWaterMark: CHUNK }), (c) => kept.push(c));
  const ms = performance.now() - t0;
  const rss = process.memoryUsage().rss;
  const peak = process.resourceUsage().maxRSS * 1024;
  console.log(JSON.stringify({ ms, before, rss, peak, bytes, containers: kept.length }));
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') return child(process.argv[3]!, process.argv[4]!);
  const file = join(tmpdir(), `repairman-listing-${CONTAINERS}.json`);
  writeFileSync(file, listing());
  const mb = (b: number): string => (b / 1024 / 1024).toFixed(1);
  console.log(`machine: ${cpus().length} CPUs, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB RAM, node ${process.version}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}, ${new Date().toISOString()}`);
  console.log(`${CONTAINERS} containers in 64 KB chunks; ${RUNS} runs per parser, fresh process each${NODE_FLAGS.length ? ` (node ${NODE_FLAGS.join(' ')})` : ''}, medians\n`);
  console.log('| parser | listing (MB) | time (ms) | RSS before (MB) | RSS after (MB) | peak RSS (MB) |');
  console.log('|---|---|---|---|---|---|');
  for (const name of Object.keys(VARIANTS)) {
    const runs: { ms: number; before: number; rss: number; peak: number; bytes: number; containers: number }[] = [];
    try {
      for (let i = 0; i < RUNS; i++) {
        const { stdout } = await execFileP(process.execPath, [...NODE_FLAGS, fileURLToPath(import.meta.url), '--child', name, file], { timeout: 120_000 });
        runs.push(JSON.parse(stdout.trim().split('\n').at(-1)!));
      }
    } catch (err) {
      console.log(`| ${name} | not measured: ${String((err as Error).message).split('\n')[0]} |||||`);
      continue;
    }
    if (runs[0]!.containers !== CONTAINERS) throw new Error(`${name} found ${runs[0]!.containers} containers`);
    console.log(`| ${name} | ${mb(runs[0]!.bytes)} | ${median(runs.map((r) => r.ms)).toFixed(0)} | ${mb(median(runs.map((r) => r.before)))} | ${mb(median(runs.map((r) => r.rss)))} | ${mb(median(runs.map((r) => r.peak)))} |`);
  }
  if (!process.env.KEEP_LISTING) rmSync(file, { force: true });
}

await main();

// `node dist/bench/main.js <benchmark> [--key value ...]`: runs one benchmark against the private
// engine (REPAIRMAN_TEST_DOCKER_HOST), saves bench/results/<benchmark>.json and prints its table.
// bench/run.sh is the front door (it builds and brings the engine up first).
import { performance } from 'node:perf_hooks';
import { hasTestEngine, TEST_ENGINE, testDockerHost } from '../test/helpers/engine.js';
import { runBurst } from './burst.js';
import { runFootprint, runGrowth, withFleets } from './fleet-benchmarks.js';
import { removeAllBenchContainers } from './lib/fleet.js';
import { machineInfo } from './lib/machine.js';
import { loadNow } from './lib/proc.js';
import { saveResult, type BenchResult } from './lib/results.js';
import { runReaction } from './reaction.js';
import { runScale } from './scale.js';
import { recordReport, renderReport } from './report.js';

type Args = Record<string, string>;

function parseArgs(argv: string[]): { cmd: string; args: Args } {
  const [cmd = 'help', ...rest] = argv;
  const args: Args = {};
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i] as string;
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const eq = a.indexOf('=');
    if (eq > 0) args[a.slice(2, eq)] = a.slice(eq + 1);
    else args[a.slice(2)] = rest[++i] ?? '';
  }
  return { cmd, args };
}

function num(args: Args, key: string, dflt: number): number {
  const v = args[key];
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${key} wants a non-negative number, got ${v}`);
  return n;
}

function list(args: Args, key: string, dflt: number[]): number[] {
  const v = args[key];
  if (v === undefined) return dflt;
  return v.split(',').map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${key} wants comma-separated counts, got ${v}`);
    return n;
  });
}

const log = (m: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
};

async function record<T>(bench: string, params: Record<string, unknown>, fn: () => Promise<{ figures: T; notes?: string[] }>): Promise<BenchResult<T>> {
  const machine = await machineInfo();
  const loadBefore = loadNow();
  const t0 = performance.now();
  log(`${bench}: start (load ${loadBefore.load1} on ${loadBefore.cores} cores)`);
  const { figures, notes = [] } = await fn();
  const r: BenchResult<T> = {
    bench,
    date: new Date().toISOString(),
    command: process.env.REPAIRMAN_BENCH_COMMAND ?? `node dist/bench/main.js ${process.argv.slice(2).join(' ')}`,
    machine,
    loadBefore,
    loadAfter: loadNow(),
    durationSec: Math.round((performance.now() - t0) / 1000),
    params,
    figures,
    notes,
  };
  const file = saveResult(r as BenchResult);
  log(`${bench}: done in ${r.durationSec} s -> ${file}`);
  return r;
}

const USAGE = `usage: node dist/bench/main.js <benchmark> [options]
  reaction   [--containers 8] [--trials 100]
  burst      [--containers 100] [--parallelism 8,1] [--stop-timeout 1] [--health-interval 10]
  footprint  [--sizes 0,50,200] [--settle 20] [--window 60] [--name footprint]
  soak       same as footprint with --window 600 --name soak (RSS after 10 minutes)
  growth     [--sizes 10,50,200] [--seconds 20]
  fleet      footprint and growth on the same containers (what \`bench/run.sh\` runs)
  scale      [--sizes 10,1000,5000,10000] [--trials 5] [--variants "none;<node flags for Repairman>"]
  report     print the markdown tables of bench/results/*.json
  record     write them into BENCHMARKS.md, between its bench:results markers (appended when missing)
  clean      remove every benchmark container left by an interrupted run
`;

async function main(): Promise<number> {
  const { cmd, args } = parseArgs(process.argv.slice(2));
  if (cmd === 'help' || cmd === '--help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (cmd === 'report') {
    process.stdout.write(renderReport());
    return 0;
  }
  if (cmd === 'record') {
    const file = recordReport();
    log(`results written into ${file}`);
    return 0;
  }
  if (!hasTestEngine()) {
    process.stderr.write('REPAIRMAN_TEST_DOCKER_HOST is not set: run `bash bench/run.sh` (it starts the private engine)\n');
    return 2;
  }
  testDockerHost(); // refuses the default engine
  // Ctrl-C: remove the benchmark containers before leaving (Repairman children are killed on exit).
  process.once('SIGINT', () => {
    log('interrupted: removing benchmark containers');
    void removeAllBenchContainers().finally(() => process.exit(130));
  });
  switch (cmd) {
    case 'clean': {
      const n = await removeAllBenchContainers();
      log(`removed ${n} benchmark containers`);
      return 0;
    }
    case 'scale': {
      const variants = (args.variants ?? 'none').split(';').map((v) => v.trim()).map((v) => (v === 'none' ? '' : v));
      await runScale({ sizes: list(args, 'sizes', [10, 1000, 5000, 10000]), trials: num(args, 'trials', 5), variants });
      break;
    }
    case 'reaction': {
      const params = { containers: num(args, 'containers', 8), trials: num(args, 'trials', 100) };
      // On Podman (REPAIRMAN_TEST_ENGINE=podman, bench/run.sh reaction-engines) a result of its own.
      await record(TEST_ENGINE === 'podman' ? 'reaction-podman' : 'reaction', params, async () => ({ figures: await runReaction({ ...params, log }) }));
      if (TEST_ENGINE === 'podman') {
        process.stdout.write(renderReport(['reaction', 'reaction-podman']));
        return 0;
      }
      break;
    }
    case 'burst': {
      const params = {
        containers: num(args, 'containers', 100),
        parallelism: list(args, 'parallelism', [8, 1]),
        stopTimeoutSec: num(args, 'stop-timeout', 1),
        healthIntervalSec: num(args, 'health-interval', 10),
      };
      await record('burst', params, async () => ({ figures: await runBurst({ ...params, log }) }));
      break;
    }
    case 'footprint':
    case 'soak': {
      const soak = cmd === 'soak';
      const params = {
        sizes: list(args, 'sizes', [0, 50, 200]),
        settleSec: num(args, 'settle', 20),
        windowSec: num(args, 'window', soak ? 600 : 60),
      };
      await withFleets(params.sizes, log, async (fleets) => {
        await record(args.name ?? cmd, params, async () => ({ figures: await runFootprint({ ...params, fleets, log }) }));
      });
      break;
    }
    case 'growth': {
      const params = { sizes: list(args, 'sizes', [10, 50, 200]), seconds: num(args, 'seconds', 20) };
      await withFleets(params.sizes, log, async (fleets) => {
        await record('growth', params, async () => ({ figures: await runGrowth({ ...params, fleets, log }) }));
      });
      break;
    }
    case 'fleet': {
      const fp = { sizes: list(args, 'footprint-sizes', [0, 50, 200]), settleSec: num(args, 'settle', 20), windowSec: num(args, 'window', 60) };
      const gr = { sizes: list(args, 'growth-sizes', [10, 50, 200]), seconds: num(args, 'seconds', 20) };
      await withFleets([...new Set([...fp.sizes, ...gr.sizes])], log, async (fleets) => {
        await record('footprint', fp, async () => ({ figures: await runFootprint({ ...fp, fleets, log }) }));
        await record('growth', gr, async () => ({ figures: await runGrowth({ ...gr, fleets, log }) }));
      });
      break;
    }
    default:
      process.stderr.write(`unknown benchmark ${cmd}\n${USAGE}`);
      return 2;
  }
  process.stdout.write(renderReport([cmd === 'fleet' ? 'footprint' : cmd, ...(cmd === 'fleet' ? ['growth'] : [])]));
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);

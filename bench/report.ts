// Markdown tables from bench/results/*.json: what `bench/run.sh` prints and BENCHMARKS.md records.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BurstFigures } from './burst.js';
import type { FootprintFigures, GrowthFigures } from './fleet-benchmarks.js';
import { loadResult, type BenchResult, type Load } from './lib/results.js';
import { fmt } from './lib/stats.js';
import type { ReactionFigures } from './reaction.js';

const ALL = ['reaction', 'reaction-podman', 'burst', 'footprint', 'growth', 'soak'];

function loadText(l: Load): string {
  return `${l.load1.toFixed(2)} / ${l.cores} cores`;
}

function meta(r: BenchResult): string {
  const m = r.machine;
  return (
    `_${r.date.slice(0, 16).replace('T', ' ')} UTC · \`${r.command}\` · ${r.durationSec} s · ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ` +
    `${m.kernel}, Node ${m.node}, Docker Engine ${m.engine} (API ${m.engineApi}, ${m.storageDriver}${m.engineHost ? `, ${m.engineHost}` : ''}) · ` +
    `load average (1 min) ${r.loadBefore.load1} before, ${r.loadAfter.load1} after_`
  );
}

function notes(r: BenchResult): string {
  return r.notes.length ? r.notes.map((n) => `- ${n}`).join('\n') + '\n\n' : '';
}

function reaction(r: BenchResult<ReactionFigures>, title = 'Reaction time', engine: 'docker' | 'podman' = 'docker'): string {
  const rows = [r.figures.unhealthy, r.figures.crash].map((p) => {
    const s = p.latencyMs;
    const turn = engine === 'podman' ? "the failing check's `exec_died`" : '`health_status: unhealthy`';
    const from = p.kind === 'unhealthy' ? `${turn} → first event of the restart` : '`die` (exit code 3) → `start`';
    const first = Object.entries(p.firstActions).map(([a, n]) => `${a} ×${n}`).join(', ');
    const d = p.decisionMs ?? { median: NaN, p99: NaN };
    return `| ${from} | ${s.n} | ${fmt(s.median)} | ${fmt(s.p95)} | ${fmt(s.p99)} | ${fmt(s.max)} | ${fmt(d.median, 0)} / ${fmt(d.p99, 0)} | ${first} | ${p.containers} | ${loadText(p.load)} |`;
  });
  return (
    `### ${title}\n\n${meta(r)}\n\n` +
    '| trial (engine timestamps) | trials | median ms | p95 ms | p99 ms | max ms | of which Repairman until its call, median / p99 ms | first engine event after the trigger | containers cycling | load |\n' +
    '|---|---:|---:|---:|---:|---:|---:|---|---:|---|\n' +
    rows.join('\n') +
    '\n\n' +
    notes(r)
  );
}

function burst(r: BenchResult<BurstFigures>): string {
  const rows = r.figures.rounds.map(
    (x) =>
      `| ${x.parallelism} | ${x.restarted}/${x.containers}${x.complete === false ? ' (ran out of time)' : ''} | ${fmt(x.totalSec)} | ${fmt(x.restartsPerSec, 2)} | ${fmt(x.unhealthySpreadSec)} | ${fmt(x.perContainerSec.median)} | ${fmt(x.perContainerSec.max)} | ${fmt(x.restartSec.median, 2)} | ${fmt(x.meanInFlight)} / ${x.maxInFlight ?? 'n/a'} | ${loadText(x.load)} |`,
  );
  const speed = r.figures.speedup === null ? '' : `Speed-up of parallelism ${r.figures.rounds[0]?.parallelism} over 1 (restarts per second): **${r.figures.speedup.toFixed(1)}×**.\n\n`;
  return (
    `### Burst: ${r.figures.rounds[0]?.containers ?? '?'} containers unhealthy at once\n\n${meta(r)}\n\n` +
    '| --parallelism | restarted | first unhealthy → last restart done (s) | restarts per second | unhealthy events spread over (s) | per container: unhealthy → restarted, median (s) | max (s) | one restart in the engine, `kill` → `restart`, median (s) | restarts in flight, mean / max | load |\n' +
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n' +
    rows.join('\n') +
    '\n\n' +
    speed +
    notes(r)
  );
}

function footprint(r: BenchResult<FootprintFigures>, title: string): string {
  const w = Number(r.params.windowSec);
  const rows = r.figures.rows.map(
    (x) =>
      `| ${x.containers} | ${x.watched} | ${x.startupMs} | ${x.startupApiCalls ?? 'n/a'} | ${fmt(x.rssSettledMiB)} | ${fmt(x.rssEndMiB)} | ${fmt(x.rssAnonEndMiB)} / ${fmt(x.rssFileEndMiB)} | ${fmt(x.rssHealedMiB)} (${fmt(x.rssAnonHealedMiB)}) | ${fmt(x.heapEndMiB)} | ${fmt(x.cpuSecPerHour)} | ${fmt(x.apiCallsPerMinute)} (${x.rechecksInWindow ?? '?'} re-checks, ${x.restartsInWindow ?? '?'} restarts) | ${loadText(x.load)} |`,
  );
  return (
    `### ${title}\n\n${meta(r)}\n\n` +
    `Idle fleets of healthy containers, default \`--interval ${r.figures.intervalSec}\`; RSS from /proc/<pid>/status (VmRSS) after ${r.params.settleSec} s of settling and again ${w} s later; CPU = utime+stime over those ${w} s, scaled to an hour.\n\n` +
    `| containers | watched | spawn → first full check (ms) | API calls by then | RSS settled (MiB) | RSS after ${w >= 600 ? `${w / 60} min more` : `${w} s more`} (MiB) | of which anon / file (MiB) | RSS after repairing one crash (anon) (MiB) | V8 heap (MiB) | CPU s per hour idle | engine API calls per minute | load |\n` +
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|\n' +
    rows.join('\n') +
    '\n\n' +
    (r.figures.engineEventsInWindow === undefined
      ? ''
      : `Other activity on the engine during the window: ${r.figures.engineEventsInWindow} container events (every Repairman receives them all, and \`create\`/\`rename\` ones make the duplicate cleaner list; 0 on a quiet host).\n\n`) +
    notes(r)
  );
}

function growth(r: BenchResult<GrowthFigures>): string {
  const rows = r.figures.rows.map(
    (x) =>
      `| ${x.containers} | ${fmt(x.fullCheckMs)} | ${x.quickCheckMs.n} | ${fmt(x.quickCheckMs.median, 0)} | ${fmt(x.quickCheckMs.p95, 0)} | ${fmt(x.quickCheckMs.max, 0)} | ${fmt(x.apiCallsPerRecheck, 2)} | ${loadText(x.load)} |`,
  );
  return (
    `### Growth\n\n${meta(r)}\n\n` +
    `One Repairman at a time with \`--interval 1 --debug\` for ${r.params.seconds} s per fleet; re-check durations from its \`re-check done\` log lines, API calls from \`repairman_engine_api_calls_total\` / \`repairman_checks_total\`.\n\n` +
    '| containers | first full re-check (ms) | periodic re-checks | median (ms) | p95 (ms) | max (ms) | API calls per re-check | load |\n' +
    '|---:|---:|---:|---:|---:|---:|---:|---|\n' +
    rows.join('\n') +
    '\n\n' +
    notes(r)
  );
}

function targets(results: Map<string, BenchResult>): string {
  const out: string[] = [];
  const yes = (ok: boolean): string => (ok ? '**met**' : '**not met**');
  const re = results.get('reaction') as BenchResult<ReactionFigures> | undefined;
  if (re) {
    for (const p of [re.figures.unhealthy, re.figures.crash]) {
      const s = p.latencyMs;
      out.push(`| reaction (${p.kind}): median < 20 ms, p99 < 100 ms | median ${fmt(s.median)} ms, p99 ${fmt(s.p99)} ms (${s.n} trials) | ${yes(s.median < 20 && s.p99 < 100)} |`);
    }
  }
  const fpRuns = ['footprint', 'soak'].map((b) => results.get(b) as BenchResult<FootprintFigures> | undefined).filter((x): x is BenchResult<FootprintFigures> => Boolean(x));
  for (const fp of fpRuns) {
    const big = [...fp.figures.rows].sort((a, b) => b.containers - a.containers)[0];
    if (big && big.containers > 0) {
      const idle = Math.max(big.rssSettledMiB ?? Infinity, big.rssEndMiB ?? Infinity);
      const mb = (v: number): string => `${fmt(v)} MiB = ${fmt((v * 2 ** 20) / 1e6)} MB`;
      out.push(`| RSS < 60 MB with ${big.containers} containers, watching (${fp.bench}) | ${mb(idle)} | ${yes(idle * 2 ** 20 < 60e6)} |`);
      if (big.rssHealedMiB !== undefined && big.rssHealedMiB !== null) {
        out.push(`| RSS < 60 MB with ${big.containers} containers, after repairing one (${fp.bench}) | ${mb(big.rssHealedMiB)}, of which anonymous ${fmt(big.rssAnonHealedMiB)} MiB | ${yes(big.rssHealedMiB * 2 ** 20 < 60e6)} |`);
      }
    }
  }
  const gr = results.get('growth') as BenchResult<GrowthFigures> | undefined;
  if (gr) {
    const calls = gr.figures.rows.map((x) => x.apiCallsPerRecheck ?? NaN);
    const spread = Math.max(...calls) - Math.min(...calls);
    out.push(`| API calls per re-check constant in the number of containers | ${gr.figures.rows.map((x) => `${x.containers}: ${fmt(x.apiCallsPerRecheck, 2)}`).join(', ')} | ${yes(Number.isFinite(spread) && spread < 0.5)} |`);
  }
  const bu = results.get('burst') as BenchResult<BurstFigures> | undefined;
  if (bu && bu.figures.speedup !== null) {
    const [a, b] = [bu.figures.rounds[0], bu.figures.rounds.find((x) => x.parallelism === 1)];
    const figure = a?.complete !== false && b?.complete !== false
      ? `${fmt(b?.totalSec)} s / ${fmt(a?.totalSec)} s = ${bu.figures.speedup.toFixed(1)}×`
      : `${fmt(a?.restartsPerSec, 2)} / ${fmt(b?.restartsPerSec, 2)} restarts per second = ${bu.figures.speedup.toFixed(1)}× (a round ran out of time)`;
    out.push(`| ${a?.containers}-container burst ≥ 8× faster than one at a time | ${figure} | ${yes(bu.figures.speedup >= 8)} |`);
  }
  if (!out.length) return '';
  return '### Targets\n\n| target | figure | |\n|---|---|---|\n' + out.join('\n') + '\n\n';
}

/** The markdown for the benchmarks named (default: every result there is), targets first. */
export function renderReport(names: string[] = ALL): string {
  const results = new Map<string, BenchResult>();
  for (const n of names) {
    const r = loadResult(n);
    if (r) results.set(n, r);
  }
  if (!results.size) return 'No results yet: run `bash bench/run.sh`.\n';
  let out = targets(results);
  for (const [n, r] of results) {
    if (n === 'reaction') out += reaction(r as BenchResult<ReactionFigures>);
    else if (n === 'reaction-podman') out += reaction(r as BenchResult<ReactionFigures>, 'Reaction time on Podman (`podman system service`; health checks run by `podman healthcheck run` every second)', 'podman');
    else if (n === 'burst') out += burst(r as BenchResult<BurstFigures>);
    else if (n === 'footprint') out += footprint(r as BenchResult<FootprintFigures>, 'Footprint');
    else if (n === 'soak') out += footprint(r as BenchResult<FootprintFigures>, 'Footprint after 10 minutes (soak)');
    else if (n === 'growth') out += growth(r as BenchResult<GrowthFigures>);
  }
  return out;
}

const BEGIN_PREFIX = '<!-- bench:results:begin';
export const BEGIN_MARK = `${BEGIN_PREFIX} (generated by \`bash bench/run.sh record\`; edit around it) -->`;
export const END_MARK = '<!-- bench:results:end -->';

/** Replace the text between the markers with `generated` (or append a marked block when missing). */
export function spliceBetweenMarks(doc: string, generated: string): string {
  const block = `${BEGIN_MARK}\n\n${generated.trimEnd()}\n\n${END_MARK}`;
  const b = doc.indexOf(BEGIN_PREFIX);
  const e = doc.indexOf(END_MARK);
  if (b >= 0 && e > b) return doc.slice(0, b) + block + doc.slice(e + END_MARK.length);
  return `${doc.trimEnd()}${doc.trim() ? '\n\n' : ''}${block}\n`;
}

/** Write the current results into BENCHMARKS.md at the repository root; returns its path. */
export function recordReport(): string {
  const file = join(process.env.REPAIRMAN_BENCH_ROOT ?? process.cwd(), 'BENCHMARKS.md');
  let doc = '';
  try {
    doc = readFileSync(file, 'utf8');
  } catch {
    doc = '# Benchmarks\n';
  }
  writeFileSync(file, spliceBetweenMarks(doc, renderReport()));
  return file;
}

// Helpers for the examples/prometheus and examples/grafana tests: YAML read through python3's PyYAML
// (no YAML parser among Repairman's dependencies; Debian's python3-yaml comes with docker-compose),
// promtool runs, the metric names a PromQL expression reads, and families of a /metrics scrape.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** The repository root, from dist/test/helpers/monitoring.js. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export async function readYaml<T>(path: string): Promise<T> {
  const { stdout } = await execFileP('python3', ['-c', 'import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)', path], { timeout: 30_000 });
  return JSON.parse(stdout) as T;
}

export interface ToolRun {
  code: number;
  out: string;
}

/** Run promtool (or any tool); never throws: the exit code and output are in the result. */
export async function runTool(cmd: string, args: string[], opts: { stdin?: string; cwd?: string } = {}): Promise<ToolRun> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { cwd: opts.cwd ?? REPO_ROOT, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, out: `${stdout}${stderr}${err && code === 1 && !stdout && !stderr ? err.message : ''}` });
    });
    child.stdin?.end(opts.stdin ?? '');
  });
}

/** Metric names a PromQL expression reads: Repairman's own, and `up`. */
export function metricsInExpr(expr: string): string[] {
  const names = new Set(expr.match(/\brepairman_[a-zA-Z0-9_]+/g) ?? []);
  if (/\bup\s*\{/.test(expr)) names.add('up');
  return [...names];
}

export interface Family {
  type: string;
  samples: { labels: Record<string, string>; value: string }[];
}

/** The families of a Prometheus text-format scrape, by name (enough for Repairman's own output). */
export function parseScrape(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      families.set(type[1]!, { type: type[2]!, samples: [] });
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample) continue;
    const labels: Record<string, string> = {};
    for (const m of (sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]!] = m[2]!;
    families.get(sample[1]!)?.samples.push({ labels, value: sample[3]! });
  }
  return families;
}

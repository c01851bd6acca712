// `repairman check-labels [NAME...] [--json]`: decode the org.riotkit.repairman.* labels of the engine's
// containers (all states; under --namespace; or only the NAMEs) and print each one's settings and
// problems. Exit 1 when there is any problem (or a NAME matches no container), 0 otherwise.
import { decodeLabels, engineHostOf, fallbackWords, type LabelContext } from '../config/labels.js';
import { POLICY_ROWS } from '../config/settings-table.js';
import type { ContainerPolicy, LabelProblem } from '../config/types.js';
import { createDockerClient } from '../docker/client.js';
import { engineAddress } from '../docker/endpoint.js';
import type { ContainerSummary, EngineApi } from '../docker/types.js';
import { errorMessage } from '../errors.js';
import { maskUrl, maskUrlsInText } from '../util/mask.js';
import { printable } from '../util/printable.js';
import type { CommandRun } from './types.js';
import { openSettings } from './open-settings.js';

export interface ContainerReport {
  name: string;
  id: string;
  state: string;
  policy: ContainerPolicy;
  fromLabels: (keyof ContainerPolicy)[];
  /** Fields set by willfarrell's or deunhealth's labels, with the label (docs/behaviour.md §11). */
  compatFrom?: Partial<Record<keyof ContainerPolicy, string>>;
  problems: LabelProblem[];
}

export interface LabelReport {
  containers: ContainerReport[];
  /** NAMEs asked for that match no container. */
  missing: string[];
  problemCount: number;
}

/** The name people use: the engine's first name without its slash (links add "/other/alias" names). */
export function containerName(c: ContainerSummary): string {
  const names = Array.isArray(c.Names) ? c.Names : [];
  const plain = names.find((n) => typeof n === 'string' && n.lastIndexOf('/') === 0) ?? names[0] ?? '';
  return plain.startsWith('/') ? plain.slice(1) : plain || c.Id.slice(0, 12);
}

export async function checkLabels(
  engine: Pick<EngineApi, 'listContainers'>,
  opts: { defaults: ContainerPolicy; namespace: string; names: string[]; signal?: AbortSignal; context?: LabelContext },
): Promise<LabelReport> {
  const list = await engine.listContainers({ all: true, signal: opts.signal });
  // A NAME is a container name, or an id prefix of at least 12 hex digits (as `docker ps` shows them).
  const matches = (c: ContainerSummary, name: string, n: string): boolean => name === n || (n.length >= 12 && c.Id.startsWith(n));
  const found = new Set<string>();
  const containers: ContainerReport[] = [];
  for (const c of list) {
    const name = containerName(c);
    if (!name.startsWith(opts.namespace)) continue;
    if (opts.names.length) {
      const hits = opts.names.filter((n) => matches(c, name, n));
      if (!hits.length) continue;
      for (const n of hits) found.add(n);
    }
    const decoded = decodeLabels(name, c.Labels, opts.defaults, opts.context);
    containers.push({
      name, id: c.Id, state: c.State, policy: decoded.policy, fromLabels: decoded.fromLabels ?? [], problems: decoded.problems,
      ...(decoded.compatFrom ? { compatFrom: decoded.compatFrom } : {}),
    });
  }
  containers.sort((a, b) => a.name.localeCompare(b.name));
  const missing = opts.names.filter((n) => !found.has(n));
  const problemCount = containers.reduce((sum, c) => sum + c.problems.length, 0);
  return { containers, missing, problemCount };
}

function showPolicy(r: ContainerReport): string {
  return POLICY_ROWS.map((row) => `${row.key}=${row.show(r.policy[row.field])}${r.fromLabels.includes(row.field) ? ' (label)' : r.compatFrom?.[row.field] ? ` (label ${r.compatFrom[row.field]})` : ''}`).join(', ');
}

export function formatReport(report: LabelReport): string {
  const lines: string[] = [];
  for (const c of report.containers) {
    const n = c.problems.length;
    lines.push(`${c.name} (${c.state}): ${n === 0 ? 'ok' : n === 1 ? '1 problem' : `${n} problems`}`);
    lines.push(`  settings: ${showPolicy(c)}`);
    // What these settings mean for the container, with the engine's view and the budget (issue 19).
    lines.push(`  whether and why it is healed: repairman explain ${c.name}`);
    for (const p of c.problems) {
      const what = p.code === 'RM_LABEL_UNKNOWN' ? 'unknown label' : 'bad label';
      lines.push(`  ${what} ${p.label}=${JSON.stringify(p.value)}: expected ${p.expected}; ${fallbackWords(p.fallback)} [${p.code}]`);
    }
  }
  for (const name of report.missing) lines.push(`${name}: no such container`);
  const count = report.containers.length;
  lines.push(
    `${count} container${count === 1 ? '' : 's'} checked, ${report.problemCount} problem${report.problemCount === 1 ? '' : 's'}` +
      (report.missing.length ? `, ${report.missing.length} not found` : ''),
  );
  // Names, keys and values come from containers: nothing in them may act on the terminal.
  return lines.map(printable).join('\n') + '\n';
}

export function reportJson(report: LabelReport): string {
  const containers = report.containers.map((c) => ({
    ...c,
    policy: { ...c.policy, notifyUrls: c.policy.notifyUrls.map(maskUrl) },
  }));
  return JSON.stringify({ containers, missing: report.missing, problemCount: report.problemCount }, null, 2) + '\n';
}

export const run: CommandRun = async (ctx) => {
  const loaded = openSettings(ctx, 'check-labels');
  if (typeof loaded === 'number') return loaded;
  let engine;
  try {
    engine = createDockerClient(ctx.env);
  } catch (err) {
    ctx.stderr.write(`repairman check-labels: ${maskUrlsInText(errorMessage(err))}\n`);
    return 2;
  }
  try {
    const report = await checkLabels(engine, {
      defaults: loaded.settings.defaults,
      namespace: loaded.settings.namespace,
      names: loaded.positionals,
      signal: ctx.signal,
      context: { notifyOrigins: loaded.settings.labelNotifyOrigins, engineHost: engineHostOf(engineAddress(ctx.env)), autohealLabel: loaded.settings.autohealLabel },
    });
    ctx.stdout.write(loaded.options.json === true ? reportJson(report) : formatReport(report));
    return report.problemCount > 0 || report.missing.length > 0 ? 1 : 0;
  } catch (err) {
    if (ctx.signal.aborted) return 0;
    ctx.stderr.write(`repairman check-labels: cannot list containers: ${maskUrlsInText(errorMessage(err))}\n`);
    return 1;
  } finally {
    engine.close();
  }
};

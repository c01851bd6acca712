// `repairman status`: the state of a running instance, read over HTTP from <root>/api/containers
// (--url, else from --http-address/--http-port/--http-prefix), printed as a table with times in TZ,
// or as JSON with --json. Sources are tried in order (STATUS_SOURCES): when no instance answers, the
// engine and the --db-path file (status-file.ts); --db-path on the command line asks for the file only.
import { fallbackWords } from '../config/labels.js';
import type { GlobalSettings } from '../config/types.js';
import { errorMessage } from '../errors.js';
import { instanceRootUrl } from '../http/address.js';
import { readTokenFile } from '../http/token-file.js';
import { httpGet } from '../http-client/client.js';
import { pageView } from '../http/page-view.js';
import { isConstantlyFailing, type ContainersPayload } from '../http/payloads.js';
import type { ContainerView } from '../state/types.js';
import { formatClock, resolveTimeZone, shortDuration } from '../util/time-format.js';
import type { CommandContext, CommandRun } from './types.js';
import { openSettings } from './open-settings.js';
import { readStatusFile } from './status-file.js';

/** The whole answer: 10,000 containers took 1-2 s on a loaded 2-CPU machine (BENCHMARKS.md "Scale"). */
export const STATUS_TIMEOUT_MS = 30_000;
/** /api/containers takes 0.5-2 KB per container: room for 30,000 of them. */
export const STATUS_MAX_BODY_BYTES = 64 * 1024 * 1024;

export type StatusRead =
  | { ok: true; payload: ContainersPayload; from: string }
  | { ok: false; from: string; why: string };

export interface StatusSource {
  name: string;
  read(ctx: CommandContext, settings: GlobalSettings, options: Record<string, string | boolean>): Promise<StatusRead>;
}

function looksLikePayload(v: unknown): v is ContainersPayload {
  if (!v || typeof v !== 'object') return false;
  const p = v as Partial<ContainersPayload>;
  return Array.isArray(p.containers) && Array.isArray(p.duplicates) && typeof p.health === 'object' && p.health !== null
    && typeof p.generatedAtMs === 'number';
}

/** The root URL given with --url, with a trailing slash so relative paths land under it. */
export function rootFromOption(raw: string): string {
  const u = new URL(raw);
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  u.search = '';
  u.hash = '';
  return u.toString();
}

/** The running instance's root URL: --url, else --http-address/--http-port/--http-prefix (status, explain). */
export function instanceRoot(
  settings: GlobalSettings,
  options: Record<string, string | boolean>,
): { ok: true; root: string } | { ok: false; from: string; why: string } {
  if (typeof options.url === 'string') {
    try {
      return { ok: true, root: rootFromOption(options.url) };
    } catch {
      return { ok: false, from: options.url, why: 'not a URL (expected e.g. http://127.0.0.1:8080/prefix/)' };
    }
  }
  if (settings.httpPort === 0) return { ok: false, from: 'http', why: 'the HTTP server is disabled (--http-port 0) and no --url was given' };
  return { ok: true, root: instanceRootUrl(settings) };
}

export const httpSource: StatusSource = {
  name: 'http',
  async read(ctx, settings, options) {
    const found = instanceRoot(settings, options);
    if (!found.ok) return found;
    const url = `${found.root}api/containers`;
    try {
      // The same --http-token-file as the instance (docs/behaviour.md §6).
      const bearer = readTokenFile(settings.httpTokenFile);
      const res = await httpGet(url, { timeoutMs: STATUS_TIMEOUT_MS, signal: ctx.signal, maxBodyBytes: STATUS_MAX_BODY_BYTES, ...(bearer === undefined ? {} : { bearer }) });
      if (res.status === 401) return { ok: false, from: url, why: 'answered 401: give the instance\'s --http-token-file (HTTP_TOKEN_FILE)' };
      if (res.status === 404) return { ok: false, from: url, why: 'answered 404: is --http-prefix (or the --url path) right?' };
      if (res.status !== 200) return { ok: false, from: url, why: `answered ${res.status}` };
      let body: unknown;
      try {
        body = JSON.parse(res.body);
      } catch {
        return { ok: false, from: url, why: 'answered something that is not JSON: is this a Repairman?' };
      }
      if (!looksLikePayload(body)) return { ok: false, from: url, why: 'answered JSON that is not a Repairman status: is this a Repairman?' };
      return { ok: true, payload: body, from: url };
    } catch (err) {
      return { ok: false, from: url, why: errorMessage(err) };
    }
  },
};

/** The engine and the journal file, without a running instance (issue 22). */
export const fileSource: StatusSource = {
  name: 'file',
  read: (ctx, settings) => readStatusFile(ctx, settings),
};

/** Tried in order until one answers. */
export const STATUS_SOURCES: StatusSource[] = [httpSource, fileSource];

// ---- the table -----------------------------------------------------------------------------

/** Names and messages come from containers: keep terminal control sequences out of the output. */
export function clean(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

function table(rows: string[][], maxWidth: number | undefined): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, [...cell].length)));
  return rows.map((r) => {
    let line = r.map((cell, i) => (i === r.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - [...cell].length))).join('  ');
    if (maxWidth !== undefined && [...line].length > maxWidth) line = `${[...line].slice(0, Math.max(10, maxWidth - 1)).join('')}…`;
    return line.trimEnd();
  });
}

const URGENCY: Record<string, number> = { given_up: 0, longer_wait: 1, waiting: 2 };

export function renderStatus(p: ContainersPayload, opts: { timeZone: string; from: string; columns?: number }): string {
  const v = pageView();
  const tz = opts.timeZone;
  const now = p.generatedAtMs;
  const out: string[] = [];
  const health = p.health.ok ? 'engine OK' : `NOT HEALTHY: ${clean(p.health.reason)}`;
  // An older instance answers without the list.
  const degraded: unknown[] = Array.isArray(p.health.degraded) ? p.health.degraded : [];
  if (p.source?.kind === 'file') {
    const alive = p.source.lastAliveMs === null ? 'never recorded' : `${formatClock(p.source.lastAliveMs, now, tz)} (${shortDuration(now - p.source.lastAliveMs)} ago)`;
    out.push(`Read from the engine and ${clean(p.source.dbPath)}, not from a running Repairman; one on this file was last alive ${alive}; times in ${tz}`);
  } else out.push(`Repairman ${clean(String(p.version))} at ${opts.from}: ${health}${degraded.length ? ', DEGRADED' : ''}; up ${shortDuration(now - p.startedAtMs)}; times in ${tz}`);
  for (const d of degraded) out.push(`  degraded: ${clean(String(d))}`);
  const watchedCount = p.containers.reduce((n, c) => n + (c.watched ? 1 : 0), 0);
  out.push(`Containers: ${p.containers.length} (${watchedCount} watched, ${p.containers.length - watchedCount} not watched)`);
  const watched = p.containers.filter((c) => c.watched).sort((a, b) =>
    (URGENCY[a.budget.state] ?? 9) - (URGENCY[b.budget.state] ?? 9) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const healthOf = (c: ContainerView): string =>
    (c.state === 'running' ? c.health ?? 'running' : c.state === 'exited' && c.stoppedByHand ? 'stopped by hand, left alone' : c.state);
  if (watched.length) {
    const rows = [['NAME', 'HEALTH', 'BUDGET', 'IN FRAME', 'STREAK', 'LAST EVENT']];
    for (const c of watched) {
      const e = c.lastEvent;
      rows.push([
        clean(c.name),
        clean(healthOf(c)),
        v.budgetText(c, now, tz),
        `${c.budget.restartsInFrame}${c.budget.reachedMaxInPreviousFrame ? ' (max before)' : ''}`,
        String(c.budget.streak),
        e ? `${formatClock(e.atMs, now, tz)} ${clean(e.message)}` : '-',
      ]);
    }
    out.push('', ...table(rows, opts.columns));
  } else {
    out.push('', 'No container is watched.');
  }
  const unwatched = p.containers.filter((c) => !c.watched);
  if (unwatched.length) out.push('', `Not watched: ${unwatched.map((c) => `${clean(c.name)} (${clean(c.excludedReason ?? 'excluded')})`).join(', ')}`);
  const problems = p.containers.flatMap((c) => c.labelProblems);
  if (problems.length) {
    out.push('', 'Label problems:');
    for (const x of problems) out.push(`  ${clean(x.container)}: ${clean(x.label)}=${JSON.stringify(clean(x.value))}: expected ${clean(x.expected)}; ${clean(fallbackWords(x.fallback))}`);
  }
  const linked = p.containers.filter((c) => c.dependencies && (c.dependencies.providers.length || c.dependencies.cycle));
  if (linked.length) {
    out.push('', 'Dependencies (docs/behaviour.md §10):');
    for (const c of linked) {
      const d = c.dependencies;
      const after = d.providers.map((x) => `${clean(x.name)} (${x.kinds.join(', ')})`).join(', ');
      out.push(`  ${clean(c.name)}${after ? `: restarted after ${after}` : ''}${d.cycle ? `; in a cycle ${d.cycle.map(clean).join(' -> ')}: never followed` : ''}`);
    }
  }
  if (p.duplicates.length) {
    out.push('', 'Duplicates:');
    for (const d of p.duplicates) {
      out.push(`  ${clean(d.name)} (duplicate of ${clean(d.duplicateOf)}): ${d.heldBack === null ? 'to be removed' : `held back: ${clean(d.heldBack)}`}`);
    }
  }
  const failing = watched.filter(isConstantlyFailing);
  out.push('', failing.length
    ? `Global status: FAILING (${failing.map((c) => clean(c.name)).join(', ')})`
    : 'Global status: OK');
  return `${out.join('\n')}\n`;
}

export const run: CommandRun = async (ctx) => {
  const loaded = openSettings(ctx, 'status');
  if (typeof loaded === 'number') return loaded;
  if (loaded.positionals.length) {
    ctx.stderr.write(`repairman status: takes no arguments (got ${loaded.positionals.map((a) => JSON.stringify(a)).join(' ')}) [RM_USAGE]\n`);
    return 2;
  }
  const failures: string[] = [];
  const fileOnly = loaded.sources.db_path?.source === 'switch';
  for (const source of fileOnly ? [fileSource] : STATUS_SOURCES) {
    const r = await source.read(ctx, loaded.settings, loaded.options);
    if (!r.ok) {
      failures.push(`${r.from}: ${r.why}`);
      continue;
    }
    if (loaded.options.json === true) {
      ctx.stdout.write(`${JSON.stringify(r.payload, null, 2)}\n`);
    } else {
      const columns = (ctx.stdout as { isTTY?: boolean; columns?: number }).isTTY ? (ctx.stdout as { columns?: number }).columns : undefined;
      const opts: { timeZone: string; from: string; columns?: number } = { timeZone: resolveTimeZone(ctx.env.TZ), from: r.from.replace(/api\/containers$/, '') };
      if (columns) opts.columns = columns;
      ctx.stdout.write(renderStatus(r.payload, opts));
    }
    return 0;
  }
  if (fileOnly) {
    ctx.stderr.write(`repairman status: cannot read the state [RM_STATE_UNAVAILABLE]\n${failures.map((f) => `  - ${f}\n`).join('')}`);
    return 1;
  }
  ctx.stderr.write(
    `repairman status: no running Repairman answered [RM_STATE_UNAVAILABLE]\n${failures.map((f) => `  - ${f}\n`).join('')}` +
      '  Is it running? Give its address with --url http://HOST:PORT/PREFIX/ or the same --http-port/--http-prefix it uses;\n' +
      '  or read the engine and its journal file with --db-path FILE.\n',
  );
  return 1;
};

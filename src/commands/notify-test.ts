// `repairman notify-test`: send one test message to every configured notify URL, the global ones
// (--notify-url / DEFAULT_NOTIFY_URL) and those from org.riotkit.repairman.notify_url labels of the
// engine's containers under --namespace, and print each result with its HTTP status, URLs masked.
//
// One attempt per URL, with the notifier's per-attempt timeout and no retries: this is a diagnosis,
// and a retry would hide exactly the flaky 5xx or 429 a person wants to see. URLs are tried in parallel.
// Exit 0 when every URL accepted the message; 1 when any failed, when a notify_url label is unusable,
// or when no URL is configured at all; 2 on a configuration error. An unreachable engine is reported
// on stderr and the global URLs are still tested (the exit code then reflects those alone).
import { hostname } from 'node:os';
import { decodeLabels, engineHostOf, type LabelContext } from '../config/labels.js';
import { LABEL_PREFIX } from '../config/settings-table.js';
import type { GlobalSettings, LabelProblem } from '../config/types.js';
import { createDockerClient } from '../docker/client.js';
import type { ContainerSummary, EngineApi } from '../docker/types.js';
import { errorMessage } from '../errors.js';
import { attemptDelivery, type AttemptResult, type NotifyTransport } from '../notify/delivery.js';
import { buildRequest } from '../notify/format.js';
import { NOTIFIER_DEFAULTS } from '../notify/notifier.js';
import { parseNotifyTarget, type NotifyFormat } from '../notify/targets.js';
import type { NotifyEvent } from '../notify/types.js';
import { maskUrl, maskUrlsInText } from '../util/mask.js';
import type { CommandRun } from './types.js';
import { openSettings } from './open-settings.js';

const NOTIFY_URL_LABEL = `${LABEL_PREFIX}notify_url`;
/** Listing the containers must not make a diagnosis hang on a dead engine. */
const ENGINE_TIMEOUT_MS = 5000;

export interface Destination {
  url: string;
  /** Configured globally (the admin's): its reply is shown; a label-only URL's reply never is. */
  global?: boolean;
  /** Where it is configured, for people: "--notify-url", "label on web, db". */
  from: string[];
}

export interface DestinationResult {
  masked: string;
  format: NotifyFormat | undefined;
  from: string[];
  ok: boolean;
  status?: number;
  error?: string;
  durationMs: number;
}

function containerName(c: ContainerSummary): string {
  const names = Array.isArray(c.Names) ? c.Names : [];
  const plain = names.find((n) => typeof n === 'string' && n.lastIndexOf('/') === 0) ?? names[0] ?? '';
  return plain.startsWith('/') ? plain.slice(1) : plain || String(c.Id).slice(0, 12);
}

/**
 * Every distinct URL with where it comes from: the global setting first, then labels of the
 * containers under the namespace, by container name. Bad notify_url labels come back as problems.
 */
export function collectDestinations(
  settings: GlobalSettings,
  globalFrom: string,
  containers: ContainerSummary[],
  context: LabelContext = {},
): { destinations: Destination[]; problems: LabelProblem[] } {
  const byUrl = new Map<string, Destination>();
  const add = (url: string, from: string): void => {
    const d = byUrl.get(url) ?? { url, from: [] };
    if (!d.from.includes(from)) d.from.push(from);
    byUrl.set(url, d);
  };
  for (const url of settings.defaults.notifyUrls) add(url, globalFrom);
  for (const d of byUrl.values()) d.global = true;
  const problems: LabelProblem[] = [];
  const named = containers.map((c) => ({ c, name: containerName(c) })).filter(({ name }) => name.startsWith(settings.namespace));
  named.sort((a, b) => a.name.localeCompare(b.name));
  for (const { c, name } of named) {
    const decoded = decodeLabels(name, c.Labels, settings.defaults, context);
    problems.push(...decoded.problems.filter((p) => p.label === NOTIFY_URL_LABEL));
    if (!decoded.fromLabels?.includes('notifyUrls')) continue;
    for (const url of decoded.policy.notifyUrls) add(url, `label on ${name}`);
  }
  return { destinations: [...byUrl.values()], problems };
}

export function testEvent(settings: GlobalSettings, d: Destination, atMs: number, host: string): NotifyEvent {
  return {
    kind: 'test',
    severity: 'warning',
    container: '',
    host,
    atMs,
    summary: 'This is a test message from `repairman notify-test`: Repairman can notify you here.',
    reason: `this destination is configured by ${d.from.join('; ')}`,
    next: 'nothing: no container was touched.',
    urls: [d.url],
    level: settings.defaults.notifyLevel,
  };
}

/** One attempt to each destination, all at once. Never throws. */
export async function sendTests(
  settings: GlobalSettings,
  destinations: Destination[],
  opts: { timeoutMs?: number; signal?: AbortSignal; transport?: NotifyTransport; host?: string; now?: () => number } = {},
): Promise<DestinationResult[]> {
  const now = opts.now ?? Date.now;
  const host = opts.host ?? hostname();
  return Promise.all(destinations.map(async (d): Promise<DestinationResult> => {
    const parsed = parseNotifyTarget(d.url);
    if (!parsed.ok) return { masked: maskUrl(d.url), format: undefined, from: d.from, ok: false, error: parsed.error, durationMs: 0 };
    const t = parsed.target;
    const request = buildRequest(t, testEvent(settings, d, now(), host));
    const r: AttemptResult = await attemptDelivery(t, request, {
      timeoutMs: opts.timeoutMs ?? NOTIFIER_DEFAULTS.timeoutMs,
      signal: opts.signal,
      transport: opts.transport,
      // What a label's URL answers is not ours to print (it may be an internal service's reply).
      readBody: d.global === true,
    });
    return {
      masked: t.masked,
      format: t.format,
      from: d.from,
      ok: r.ok,
      ...(r.status === undefined ? {} : { status: r.status }),
      ...(r.error === undefined ? {} : { error: r.error }),
      durationMs: r.durationMs,
    };
  }));
}

export function formatResult(r: DestinationResult): string {
  const what = `${r.masked} (${r.format ?? 'unusable'}, from ${r.from.join('; ')})`;
  if (r.ok) return `ok    ${what}: HTTP ${r.status ?? '?'} in ${r.durationMs} ms`;
  // Errors with an answer start with "HTTP <status> <text>: <what the server said>".
  // An unusable URL was never sent: its error says why.
  const why = r.format === undefined ? (r.error ?? 'unusable URL')
    : r.status === undefined ? `no HTTP answer: ${r.error ?? 'unknown error'}` : (r.error ?? `HTTP ${r.status}`);
  return `FAIL  ${what}: ${maskUrlsInText(why)}`;
}

async function listContainers(engine: Pick<EngineApi, 'listContainers'>, signal: AbortSignal): Promise<ContainerSummary[]> {
  const timeout = AbortSignal.timeout(ENGINE_TIMEOUT_MS);
  const both = new AbortController();
  const abort = (): void => both.abort();
  timeout.addEventListener('abort', abort, { once: true });
  signal.addEventListener('abort', abort, { once: true });
  try {
    return await engine.listContainers({ all: true, signal: both.signal });
  } finally {
    timeout.removeEventListener('abort', abort);
    signal.removeEventListener('abort', abort);
  }
}

export const run: CommandRun = async (ctx) => {
  const loaded = openSettings(ctx, 'notify-test');
  if (typeof loaded === 'number') return loaded;
  const { settings } = loaded;
  const src = loaded.sources.notify_url;
  const globalFrom = src && src.source !== 'default' ? (src.name ?? src.source) : 'the global setting';

  let containers: ContainerSummary[] = [];
  let engine: ReturnType<typeof createDockerClient> | undefined;
  try {
    engine = createDockerClient(ctx.env, { callTimeoutMs: ENGINE_TIMEOUT_MS });
    containers = await listContainers(engine, ctx.signal);
  } catch (err) {
    if (ctx.signal.aborted) return 1;
    ctx.stderr.write(
      `repairman notify-test: the Docker engine is not reachable, so ${NOTIFY_URL_LABEL} labels were not read; ` +
        // Engine errors name DOCKER_HOST, not a notify URL: shown as they are, the socket path helps.
        `testing the global URLs only (${errorMessage(err)})\n`,
    );
  } finally {
    engine?.close();
  }

  const { destinations, problems } = collectDestinations(settings, globalFrom, containers, {
    notifyOrigins: settings.labelNotifyOrigins,
    engineHost: engineHostOf(ctx.env.DOCKER_HOST),
  });
  for (const p of problems) {
    ctx.stdout.write(`FAIL  ${p.label} on ${p.container}: "${p.value}" is not usable (expected ${p.expected}); it uses ${p.fallback}\n`);
  }
  if (destinations.length === 0) {
    ctx.stderr.write(
      'repairman notify-test: no notification URL is configured (set --notify-url or DEFAULT_NOTIFY_URL, ' +
        `or the label ${NOTIFY_URL_LABEL} on a container)\n`,
    );
    return 1;
  }
  const results = await sendTests(settings, destinations, { signal: ctx.signal });
  for (const r of results) ctx.stdout.write(formatResult(r) + '\n');
  const failed = results.filter((r) => !r.ok).length;
  const n = results.length;
  ctx.stdout.write(`${n} destination${n === 1 ? '' : 's'} tested, ${failed} failed` +
    (problems.length ? `; ${problems.length} unusable notify_url label${problems.length === 1 ? '' : 's'}` : '') + '\n');
  return failed > 0 || problems.length > 0 ? 1 : 0;
};

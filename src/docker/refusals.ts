// Engine API calls refused with 403 (docs/behaviour.md §9): behind a socket proxy
// (tecnativa/docker-socket-proxy, linuxserver/socket-proxy) a call the proxy does not allow is answered
// 403 before it reaches dockerd. Such a call is named as people configure proxies (method and path
// template, `POST /containers/{id}/restart`), with the proxy setting that allows it, and remembered per
// call kind until the same kind of call goes through again: the log and the notification say it once,
// /healthz, the page and `status` list it while it lasts, a counter counts every refusal.
import { RepairmanError } from '../errors.js';
import type { MetricsRegistry } from '../metrics/registry.js';

/**
 * The settings of each proxy that let a call through, read from their rules (haproxy.cfg): tecnativa
 * checks POST=1 before everything, so its ALLOW_* switches need POST=1 too and add nothing once
 * CONTAINERS=1 is on; linuxserver's ALLOW_START/STOP/RESTARTS work with POST=0 (since 2024-08-26) and
 * its ALLOW_LOGS (2026-08-18) gates /containers/{id}/logs even with CONTAINERS=1.
 */
const POST_CONTAINERS = 'CONTAINERS=1 and POST=1';
const ALLOW: ReadonlyMap<string, { tecnativa: string; linuxserver: string }> = new Map([
  ['GET /_ping', { tecnativa: 'PING=1', linuxserver: 'PING=1' }],
  ['GET /version', { tecnativa: 'VERSION=1', linuxserver: 'VERSION=1' }],
  ['GET /events', { tecnativa: 'EVENTS=1', linuxserver: 'EVENTS=1' }],
  ['GET /containers/json', { tecnativa: 'CONTAINERS=1', linuxserver: 'CONTAINERS=1' }],
  ['GET /containers/{id}/json', { tecnativa: 'CONTAINERS=1', linuxserver: 'CONTAINERS=1' }],
  ['GET /containers/{id}/logs', { tecnativa: 'CONTAINERS=1', linuxserver: 'CONTAINERS=1 and ALLOW_LOGS=1' }],
  ['GET /libpod/containers/{id}/json', { tecnativa: 'no setting (its rules have no /libpod path)', linuxserver: 'LIBPOD_CONTAINERS=1' }],
  ['POST /containers/{id}/restart', { tecnativa: POST_CONTAINERS, linuxserver: 'ALLOW_RESTARTS=1' }],
  ['POST /containers/{id}/kill', { tecnativa: POST_CONTAINERS, linuxserver: 'ALLOW_RESTARTS=1' }],
  ['POST /containers/{id}/start', { tecnativa: POST_CONTAINERS, linuxserver: 'ALLOW_START=1' }],
  ['POST /containers/{id}/stop', { tecnativa: POST_CONTAINERS, linuxserver: 'ALLOW_STOP=1 (or ALLOW_RESTARTS=1)' }],
  ['DELETE /containers/{id}', { tecnativa: POST_CONTAINERS, linuxserver: POST_CONTAINERS }],
  ['POST /containers/create', { tecnativa: POST_CONTAINERS, linuxserver: POST_CONTAINERS }],
  ['POST /containers/{id}/rename', { tecnativa: POST_CONTAINERS, linuxserver: POST_CONTAINERS }],
]);

/** The calls Repairman makes, in the order of the README's table. */
export const KNOWN_CALLS: readonly string[] = [...ALLOW.keys()];

/** A call as proxies are configured by: `POST /containers/{id}/restart` (no version prefix, no query). */
export function callKindOf(method: string, path: string): string {
  const bare = (path.split('?')[0] ?? '').replace(/^\/v[\d.]+(?=\/)/, '');
  const templated = bare.replace(/^(\/libpod)?\/containers\/([^/]+)/, (whole, libpod: string | undefined, segment: string) =>
    segment === 'json' || segment === 'create' ? whole : `${libpod ?? ''}/containers/{id}`);
  return `${method.toUpperCase()} ${templated}`;
}

/** Which setting of each proxy allows the call, as one phrase. */
export function allowingSettings(call: string): string {
  const known = ALLOW.get(call);
  if (known) return `tecnativa/docker-socket-proxy ${known.tecnativa}; linuxserver/socket-proxy ${known.linuxserver}`;
  // Both proxies name a section after the path's first segment, and want POST=1 for other methods.
  const [method = 'GET', path = '/'] = call.split(' ');
  const section = (path.split('/').find((s) => s !== '' && s !== 'libpod') ?? '').replace(/^_/, '').toUpperCase();
  return `the proxy's ${section || 'matching'}=1${method === 'GET' || method === 'HEAD' ? '' : ' and POST=1'}`;
}

/** The proxy's (or engine's) 403 body as one short line: tags out, spaces collapsed. */
function bodyLine(text: string): string {
  const line = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

/** dockerd's answer when an authorization plugin (--authorization-plugin) denies a call. */
const AUTHZ_PLUGIN = /authorization denied by plugin ([^\s:]+)/i;

/** The error of a call answered 403. `what` is "METHOD /path" as the client names calls. */
export function refusedCallError(what: string, endpoint: string, engineText: string): RepairmanError {
  const space = what.indexOf(' ');
  const call = callKindOf(what.slice(0, space), what.slice(space + 1));
  const said = bodyLine(engineText);
  const plugin = AUTHZ_PLUGIN.exec(said)?.[1]?.slice(0, 100);
  const by = plugin ? `the engine's authorization plugin ${plugin}` : 'a socket proxy in front of it';
  const allow = plugin ? `a rule of ${plugin}'s policy for the user Repairman connects as` : allowingSettings(call);
  return new RepairmanError(
    'RM_ENGINE_REFUSED',
    `${what}: refused by the engine at ${endpoint} (403${said ? `: ${said}` : ''}); ${by} does not allow ${call}: allow it with ${allow}`,
    { details: { status: 403, engineMessage: said, call, allow, plugin: plugin ?? null } },
  );
}

/** A call kind refused now, as /healthz, the page and `status` list it. */
export interface RefusedCall {
  call: string;
  allow: string;
  /** The engine's authorization plugin that refused (named in its answer); null: a socket proxy, presumably. */
  plugin: string | null;
  /** The last refusal's error message (with the proxy's answer). */
  message: string;
  firstAtMs: number;
  lastAtMs: number;
  count: number;
}

export interface RefusedCallsOptions {
  metrics?: MetricsRegistry;
  now?: () => number;
  /** A call kind was refused for the first time (or again after it went through): say it once. */
  onRefused?: (r: RefusedCall) => void;
  /** A refused call kind went through again. */
  onAllowed?: (r: RefusedCall) => void;
}

/** The call kinds refused now. The engine client feeds it; listeners must not throw (they are guarded). */
export class RefusedCalls {
  private readonly refusedNow = new Map<string, RefusedCall>();
  private readonly counter: { inc(labels?: Record<string, string>, by?: number): void } | undefined;

  constructor(private readonly o: RefusedCallsOptions = {}) {
    this.counter = o.metrics?.counter('repairman_engine_refused_calls_total', 'Engine API calls refused with 403 (a socket proxy that does not allow them), by call (method and path template; never a container id).');
    for (const call of KNOWN_CALLS) this.counter?.inc({ call }, 0);
  }

  /** How many call kinds are refused now (0: the client need not report successes). */
  get size(): number {
    return this.refusedNow.size;
  }

  /** An RM_ENGINE_REFUSED error from the client. */
  refused(err: RepairmanError): void {
    const call = typeof err.details.call === 'string' ? err.details.call : 'unknown call';
    const at = (this.o.now ?? Date.now)();
    this.counter?.inc({ call });
    const known = this.refusedNow.get(call);
    if (known) {
      known.lastAtMs = at;
      known.count++;
      known.message = err.message;
      return;
    }
    const allow = typeof err.details.allow === 'string' ? err.details.allow : allowingSettings(call);
    const plugin = typeof err.details.plugin === 'string' ? err.details.plugin : null;
    const r: RefusedCall = { call, allow, plugin, message: err.message, firstAtMs: at, lastAtMs: at, count: 1 };
    this.refusedNow.set(call, r);
    guarded(() => this.o.onRefused?.({ ...r }));
  }

  /** A call of this kind got an answer other than 403: it is allowed (again). */
  allowed(call: string): void {
    const r = this.refusedNow.get(call);
    if (!r) return;
    this.refusedNow.delete(call);
    guarded(() => this.o.onAllowed?.({ ...r }));
  }

  list(): RefusedCall[] {
    return [...this.refusedNow.values()].map((r) => ({ ...r }));
  }

  /** One sentence per refused call kind (the degraded list of /healthz, the page and `status`). */
  sentences(): string[] {
    return this.list().map((r) => `the engine refuses ${r.call} (403, ${r.count} time${r.count === 1 ? '' : 's'}; ${r.plugin ? `authorization plugin ${r.plugin}` : 'a socket proxy?'}): allow it with ${r.allow}`);
  }
}

function guarded(fn: () => void): void {
  try {
    fn();
  } catch {
    // A listener's failure must not turn an engine answer into an exception of the caller's.
  }
}

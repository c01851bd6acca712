// What differs when the engine is Podman (`podman system service`, which serves the Docker Engine
// API): how to tell it is Podman, and the filters it reads differently. Its event stream is made
// Docker-like in podman-events.ts.
import type { ContainerInspect, Filters } from './types.js';

export type EngineKind = 'docker' | 'podman';

/** Podman answers /_ping with Libpod-Api-Version (and Server: Libpod/x.y); dockerd never does. */
export function engineKindFromPing(headers: Record<string, string | string[] | undefined>): EngineKind {
  const libpod = headers['libpod-api-version'];
  const server = headers.server;
  if (libpod !== undefined || (typeof server === 'string' && /^libpod\//i.test(server))) return 'podman';
  return 'docker';
}

/** From /version, when no ping header said it: Podman lists a "Podman Engine" component. */
export function engineKindFromVersion(version: object): EngineKind {
  const components = (version as { Components?: unknown }).Components;
  const parts: unknown[] = Array.isArray(components) ? components : [];
  return parts.some((c) => typeof c === 'object' && c !== null && /^podman/i.test(String((c as { Name?: unknown }).Name ?? ''))) ? 'podman' : 'docker';
}

/** Podman's own name for a Docker action, as its event filters need it. */
const FILTER_ALIASES: Record<string, string[]> = { die: ['died'], destroy: ['remove'], health_status: ['exec_died'] };

/** The event filters to send Podman: each Docker action plus Podman's name for it. */
export function podmanEventFilters(filters: Filters | undefined): Filters | undefined {
  const events = filters?.event;
  if (!filters || !events) return filters;
  const more = events.flatMap((e) => FILTER_ALIASES[e] ?? []);
  return { ...filters, event: [...new Set([...events, ...more])] };
}

/**
 * The listing filters to send Podman. Docker matches a name filter against "/name", Podman against
 * "name": an anchored `^/prefix` matches nothing on Podman, so it becomes `^prefix`.
 */
export function podmanListFilters(filters: Filters | undefined): Filters | undefined {
  const names = filters?.name;
  if (!filters || !names) return filters;
  return { ...filters, name: names.map((n) => n.replace(/^\^\//, '^')) };
}

/**
 * The Docker form `health_status: <status>` of a bare `health_status` action, from Podman's top-level
 * HealthStatus (4.3) or an attribute health_status; other actions unchanged.
 */
export function dockerHealthAction(action: string, raw: Record<string, unknown>, attributes: Record<string, string>): string {
  if (action !== 'health_status') return action;
  const status = typeof raw.HealthStatus === 'string' && raw.HealthStatus !== '' ? raw.HealthStatus : attributes.health_status;
  return status ? `health_status: ${status}` : action;
}

/** Podman's --health-on-failure actions that act on the container (none leaves it to others). */
export const PODMAN_HEALTH_ACTIONS = ['kill', 'restart', 'stop'];

/**
 * Docker's name for a Podman container state. Podman's compat API lets libpod's own states through:
 * a container that just exited is "stopped" until Podman's cleanup process runs (about 0.7 s on
 * 4.3.1), and only then "exited"; Docker has no such states.
 */
const DOCKER_STATE: Record<string, string> = { stopped: 'exited', stopping: 'running', configured: 'created', initialized: 'created' };

export function dockerState(status: string): string {
  return DOCKER_STATE[status] ?? status;
}

/**
 * An inspect in Docker's form: libpod's states named as Docker names them, and no Health for a
 * container without a health check (Podman answers `Health: {Status: ""}` where Docker has none; read
 * as a status, "" is "not healthy" and a provider without a check was waited for until its bound).
 */
export function dockerInspect(info: ContainerInspect): ContainerInspect {
  info.State.Status = dockerState(info.State.Status);
  if (info.State.Health && !info.State.Health.Status) delete info.State.Health;
  return info;
}

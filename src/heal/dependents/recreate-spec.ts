// The create request that gives a dependent back exactly its configuration with its network mode
// pointed at the provider's new id (docs/behaviour.md §10). Pure. What the engine filled in at the first create and
// refuses to be told again with a `container:` network mode is left for it to fill in again (the
// mistake behind watchtower's "conflicting options: hostname and the network mode", containrrr/
// watchtower 188 and 1286): the hostname and domain name (the provider's), exposed ports (the
// image's), the MAC address; a `container:` mode has no endpoints, so no NetworkingConfig is sent
// (watchtower's "network-scoped alias" failures came from copying endpoints back).
import { networkProviderRef } from './graph.js';

/** The parts of a raw inspect the create API takes back. */
export interface InspectForCreate {
  Id: string;
  Name: string;
  Config: Record<string, unknown>;
  HostConfig: Record<string, unknown>;
  Mounts?: unknown;
}

export interface CreateRequest {
  name: string;
  body: Record<string, unknown>;
}

/** Config fields the engine derives with a `container:` network mode and rejects when sent. */
const DERIVED_CONFIG = ['Hostname', 'Domainname', 'ExposedPorts', 'MacAddress'] as const;

/**
 * The create request for `info` with its network mode naming `providerId`; null when its network mode
 * is not `container:` (nothing to re-point). Anonymous volumes are mounted again by name, so the new
 * container keeps their data (a plain copy of the config would give it new, empty ones).
 */
export function recreateRequest(info: InspectForCreate, providerId: string): CreateRequest | null {
  const host = info.HostConfig ?? {};
  if (typeof host.NetworkMode !== 'string' || networkProviderRef(host.NetworkMode) === null) return null;
  const config: Record<string, unknown> = { ...info.Config };
  for (const k of DERIVED_CONFIG) delete config[k];
  const hostConfig: Record<string, unknown> = { ...host, NetworkMode: `container:${providerId}` };
  const anonymous = anonymousVolumes(info);
  if (anonymous.length > 0) {
    const binds = Array.isArray(host.Binds) ? (host.Binds as unknown[]).filter((b): b is string => typeof b === 'string') : [];
    hostConfig.Binds = [...binds, ...anonymous.map((v) => `${v.name}:${v.destination}${v.rw ? '' : ':ro'}`)];
  }
  return { name: info.Name.replace(/^\//, ''), body: { ...config, HostConfig: hostConfig } };
}

interface AnonymousVolume {
  name: string;
  destination: string;
  rw: boolean;
}

/** Volumes the container got from Config.Volumes (an image VOLUME or `-v /path`), not named by the user. */
function anonymousVolumes(info: InspectForCreate): AnonymousVolume[] {
  if (!Array.isArray(info.Mounts)) return [];
  const declared = new Set<string>();
  const host = info.HostConfig ?? {};
  for (const b of Array.isArray(host.Binds) ? host.Binds : []) {
    if (typeof b !== 'string') continue;
    const parts = b.split(':');
    if (parts.length >= 2) declared.add(parts[1]!);
  }
  for (const m of Array.isArray(host.Mounts) ? host.Mounts : []) {
    const target = (m as { Target?: unknown })?.Target;
    if (typeof target === 'string') declared.add(target);
  }
  const out: AnonymousVolume[] = [];
  for (const m of info.Mounts as unknown[]) {
    if (!m || typeof m !== 'object') continue;
    const { Type, Name, Destination, RW } = m as Record<string, unknown>;
    if (Type !== 'volume' || typeof Name !== 'string' || typeof Destination !== 'string' || declared.has(Destination)) continue;
    out.push({ name: Name, destination: Destination, rw: RW !== false });
  }
  return out;
}

/** The name the old container is kept under until its replacement runs (never a compose leftover's `<id>_<name>`). */
export function keptName(name: string, oldId: string): string {
  return `${name}-repairman-old-${oldId.slice(0, 12)}`;
}

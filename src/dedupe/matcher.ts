// Finds docker-compose's leftovers: containers named `<12 hex>_<name>` (prefixes may stack) beside
// the container named exactly `<name>`. Pure: the caller passes the listing, the clock and the
// per-container "cleaning enabled" decision; nothing here talks to the engine.
//
// Why the name shape: compose v1 re-creates a service by stopping the old container and renaming it
// to `<its own short id>_<name>` before creating the new one; compose v2 creates the new container as
// `<replaced container's short id>_<name>` (label com.docker.compose.replace) and renames it once the
// old one is gone. A failure half way leaves the prefixed container beside the real one.
import type { ContainerSummary } from '../docker/types.js';

export const COMPOSE_PROJECT_LABEL = 'com.docker.compose.project';
export const COMPOSE_SERVICE_LABEL = 'com.docker.compose.service';
export const COMPOSE_REPLACE_LABEL = 'com.docker.compose.replace';
export const DEFAULT_DUPLICATE_GRACE_SEC = 60;

/** Exactly 12 lowercase hex digits and an underscore: compose's short-id prefix. */
const PREFIX = /^[0-9a-f]{12}_/;
const PREFIX_LENGTH = 13;

export type HoldCode = 'cleaning_disabled' | 'compose_labels_differ' | 'replace_pending' | 'young' | 'unknown_age';

export interface Hold {
  code: HoldCode;
  text: string;
}

export interface DuplicateMatch {
  id: string;
  name: string; // without the leading slash
  duplicateOf: { id: string; name: string };
  /** Why it is a duplicate, for people. */
  reason: string;
  /** Null when it may be removed; otherwise every hold joined with "; ". */
  heldBack: string | null;
  holds: Hold[];
  /** When only age holds it back: the moment it stops doing so (epoch ms); null otherwise. */
  releaseAtMs: number | null;
  running: boolean;
  state: string;
  labels: Record<string, string>;
  /** The real container's labels (for its policy: notify routing, journal size). */
  realLabels: Record<string, string>;
  /** The prefixes in front of the real name, outermost first (hex digits only). */
  prefixes: string[];
}

export interface MatchOptions {
  nowMs: number;
  /** Whether duplicates of this (real) container may be removed: its label over the global setting. */
  cleaningEnabled: (realName: string, realLabels: Record<string, string>) => boolean;
  graceSec?: number;
}

/** The name people and the CLI use: the one without a second slash (legacy links add `/a/b`). */
export function containerName(c: Pick<ContainerSummary, 'Names' | 'Id'>): string {
  const names = Array.isArray(c.Names) ? c.Names : [];
  const canonical = names.find((n) => typeof n === 'string' && n.lastIndexOf('/') === 0) ?? names[0];
  return typeof canonical === 'string' && canonical !== '' ? canonical.replace(/^\//, '') : c.Id;
}

/** Split `<hex>_<hex>_name` into its prefixes and `name`; no prefixes when it has none. */
export function splitPrefixes(name: string): { prefixes: string[]; base: string } {
  const prefixes: string[] = [];
  let rest = name;
  // A prefix must leave a non-empty name behind it.
  while (PREFIX.test(rest) && rest.length > PREFIX_LENGTH) {
    prefixes.push(rest.slice(0, 12));
    rest = rest.slice(PREFIX_LENGTH);
  }
  return { prefixes, base: rest };
}

function labelsOf(c: ContainerSummary): Record<string, string> {
  return c.Labels && typeof c.Labels === 'object' ? c.Labels : {};
}

function composeIdentity(labels: Record<string, string>): { project?: string; service?: string } {
  return { project: labels[COMPOSE_PROJECT_LABEL], service: labels[COMPOSE_SERVICE_LABEL] };
}

/**
 * Null when both carry the same compose project and service; otherwise why not. A container without
 * compose labels is never a compose duplicate (docs/behaviour.md §4): a hex-prefixed name alone is something anyone
 * can choose, and the container may belong to somebody else.
 */
export function composeLabelsDiffer(dup: Record<string, string>, real: Record<string, string>): string | null {
  const a = composeIdentity(dup);
  const b = composeIdentity(real);
  const complete = (x: { project?: string; service?: string }): boolean => x.project !== undefined && x.service !== undefined;
  if (complete(a) && complete(b) && a.project === b.project && a.service === b.service) return null;
  const carries = (x: { project?: string; service?: string }): boolean => x.project !== undefined || x.service !== undefined;
  const show = (x: { project?: string; service?: string }): string =>
    carries(x) ? `project ${JSON.stringify(x.project ?? null)}, service ${JSON.stringify(x.service ?? null)}` : 'no compose labels';
  if (!carries(a) && !carries(b)) return 'neither carries compose labels (project and service): not a compose duplicate';
  return `compose labels differ (duplicate: ${show(a)}; real: ${show(b)})`;
}

/**
 * The container a `com.docker.compose.replace` value names, if it still exists. Compose v2 writes
 * the replaced container's full id there; some v2 releases wrote `<service>-<number>` (or the
 * custom container_name), so a name, a name inside the duplicate's project and an id prefix count.
 */
export function replaceTarget(
  value: string,
  dup: ContainerSummary,
  all: readonly { c: ContainerSummary; name: string }[],
): { id: string; name: string } | null {
  const v = value.trim();
  if (v === '') return null;
  const project = labelsOf(dup)[COMPOSE_PROJECT_LABEL];
  const names = new Set([v]);
  if (project) {
    names.add(`${project}-${v}`);
    names.add(`${project}_${v}`);
  }
  const idPrefix = /^[0-9a-f]{12,64}$/.test(v) ? v : null;
  for (const { c, name } of all) {
    if (c.Id === dup.Id) continue;
    if (names.has(name) || (idPrefix !== null && c.Id.startsWith(idPrefix))) return { id: c.Id, name };
  }
  return null;
}

function describePrefixes(prefixes: string[]): string {
  const shown = prefixes.map((p) => `${p}_`).join('');
  return prefixes.length > 1 ? `${prefixes.length} stacked re-create prefixes "${shown}"` : `the re-create prefix "${shown}"`;
}

function age(sec: number): string {
  return `${Math.max(0, Math.floor(sec))} s`;
}

/**
 * Every duplicate in the listing, sorted by name. Never returns a real container: a duplicate always
 * carries at least one prefix and its base name belongs to another container in the listing.
 */
export function findDuplicates(containers: readonly ContainerSummary[], opts: MatchOptions): DuplicateMatch[] {
  const graceMs = (opts.graceSec ?? DEFAULT_DUPLICATE_GRACE_SEC) * 1000;
  const all = containers
    .filter((c) => c && typeof c.Id === 'string' && c.Id !== '')
    .map((c) => ({ c, name: containerName(c) }));
  const byName = new Map(all.map((e) => [e.name, e]));
  const out: DuplicateMatch[] = [];
  const enabledCache = new Map<string, boolean>();

  for (const { c, name } of all) {
    const { prefixes, base } = splitPrefixes(name);
    if (prefixes.length === 0) continue;
    const real = byName.get(base);
    if (!real || real.c.Id === c.Id) continue;
    // A container already being removed by the engine is not ours to act on.
    if (c.State === 'removing') continue;

    const dupLabels = labelsOf(c);
    const realLabels = labelsOf(real.c);
    const holds: Hold[] = [];

    let enabled = enabledCache.get(real.name);
    if (enabled === undefined) {
      enabled = opts.cleaningEnabled(real.name, realLabels) === true;
      enabledCache.set(real.name, enabled);
    }
    if (!enabled) {
      holds.push({ code: 'cleaning_disabled', text: `enable_cleaning_duplicated_services is off for ${real.name}` });
    }

    const differ = composeLabelsDiffer(dupLabels, realLabels);
    if (differ) holds.push({ code: 'compose_labels_differ', text: differ });

    const replace = dupLabels[COMPOSE_REPLACE_LABEL];
    if (replace !== undefined) {
      const target = replaceTarget(replace, c, all);
      if (target) {
        holds.push({
          code: 'replace_pending',
          text: `its ${COMPOSE_REPLACE_LABEL} names ${target.name} (${target.id.slice(0, 12)}), which still exists: compose may be mid-way`,
        });
      }
    }

    // Compose v1 renames the OLD container and then creates the real one, so a young real container
    // means a re-create may be in progress just as much as a young prefixed one does.
    let releaseAtMs: number | null = null;
    const createdOk = Number.isFinite(c.Created) && Number.isFinite(real.c.Created);
    if (!createdOk) {
      holds.push({ code: 'unknown_age', text: 'creation time unknown: compose may be mid-way' });
    } else {
      const newestCreatedMs = Math.max(c.Created, real.c.Created) * 1000;
      if (opts.nowMs - newestCreatedMs < graceMs) {
        releaseAtMs = newestCreatedMs + graceMs;
        const who = c.Created >= real.c.Created ? 'it' : `the real container ${real.name}`;
        holds.push({
          code: 'young',
          text: `${who} was created ${age((opts.nowMs - newestCreatedMs) / 1000)} ago, less than the ${age(graceMs / 1000)} grace: compose may be mid-way`,
        });
      }
    }

    const onlyAge = holds.length > 0 && holds.every((h) => h.code === 'young');
    out.push({
      id: c.Id,
      name,
      duplicateOf: { id: real.c.Id, name: real.name },
      reason: `${name} carries ${describePrefixes(prefixes)} in front of ${real.name}, which exists (${real.c.Id.slice(0, 12)})`,
      heldBack: holds.length ? holds.map((h) => h.text).join('; ') : null,
      holds,
      releaseAtMs: onlyAge ? releaseAtMs : null,
      running: c.State === 'running' || c.State === 'restarting' || c.State === 'paused',
      state: c.State,
      labels: dupLabels,
      realLabels,
      prefixes,
    });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Whether a container is inside --namespace. A duplicate's name starts with its prefixes, not with
 * the namespace, so the name behind the prefixes is what must start with it.
 */
export function inNamespace(name: string, namespace: string): boolean {
  const bare = name.replace(/^\//, '');
  return namespace === '' || bare.startsWith(namespace) || splitPrefixes(bare).base.startsWith(namespace);
}

/**
 * The engine's `name` filter (a regular expression on names with their slash) selecting the same
 * containers as inNamespace, so a listing stays one call; null for no namespace. Filter the reply
 * with inNamespace too: the engine matches any of a container's names (link aliases included).
 */
export function namespaceNameFilter(namespace: string): string | null {
  if (namespace === '') return null;
  return `^/([0-9a-f]{12}_)*${escapeRegex(namespace)}`;
}

/** The `name` filter selecting only prefixed names (possible duplicates) inside --namespace. */
export function prefixedNameFilter(namespace: string): string {
  return `^/([0-9a-f]{12}_)+${escapeRegex(namespace)}`;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// Who depends on whom (docs/behaviour.md §10), from what the engine reports about each container: pure, no I/O.
// A container D depends on a provider P when
// - D runs in P's network namespace (HostConfig.NetworkMode `container:<P's id or name>`; compose's
//   `network_mode: service:P` arrives as the id), the only kind a recreated P forces to be recreated;
// - D's compose `depends_on` entry for P's service asks for restarts (`com.docker.compose.depends_on`
//   = `svc:condition:true,...`, same compose project);
// - D carries `org.riotkit.repairman.depends_on=P[,Q]` (container names).
// Labels are untrusted: a name that matches nothing is no edge, and cycles are found and left out of
// every order (reported by the caller, never followed).

export const DEPENDS_ON_LABEL = 'org.riotkit.repairman.depends_on';
export const COMPOSE_DEPENDS_ON_LABEL = 'com.docker.compose.depends_on';
export const COMPOSE_PROJECT_LABEL = 'com.docker.compose.project';
export const COMPOSE_SERVICE_LABEL = 'com.docker.compose.service';

/** What the graph needs to know of one container (a listing or an inspect gives it). */
export interface GraphNode {
  id: string;
  /** Without the leading slash. */
  name: string;
  /** HostConfig.NetworkMode as the engine reports it ('' when unknown). */
  networkMode: string;
  labels: Readonly<Record<string, string>>;
}

/** The labels the graph reads; a node keeps no other. */
export const GRAPH_LABELS: readonly string[] = [DEPENDS_ON_LABEL, COMPOSE_DEPENDS_ON_LABEL, COMPOSE_PROJECT_LABEL, COMPOSE_SERVICE_LABEL];

/**
 * A node with only the labels the graph reads: every container created anywhere on the host is
 * inspected and kept until the next full re-check, whatever the size of its other labels.
 */
export function graphNode(id: string, name: string, networkMode: unknown, labels: Readonly<Record<string, string>> | null | undefined): GraphNode {
  const kept: Record<string, string> = {};
  for (const k of GRAPH_LABELS) {
    const v = labels?.[k];
    if (typeof v === 'string') kept[k] = v;
  }
  return { id, name, networkMode: typeof networkMode === 'string' ? networkMode : '', labels: kept };
}

export type EdgeKind = 'network' | 'compose' | 'label';

export interface Edge {
  provider: string;
  dependent: string;
  kind: EdgeKind;
  /**
   * A network edge whose network mode still names a removed container's id, the provider's name then
   * (the provider was recreated): the engine cannot start the dependent any more, only a recreate helps.
   */
  staleRef?: string;
}

/** A `container:<ref>` network mode whose ref names no known container (an id of a removed one). */
export interface DanglingNetwork {
  dependent: string;
  ref: string;
}

export interface DependencyGraph {
  /** By dependent name, then provider name: the kinds that link them. */
  readonly edges: readonly Edge[];
  readonly dangling: readonly DanglingNetwork[];
  /** Each cycle once, as the names in it, sorted (a container naming itself is a cycle of one). */
  readonly cycles: readonly string[][];
  providersOf(name: string): Edge[];
  dependentsOf(name: string): Edge[];
  inCycle(name: string): boolean;
}

/** Upper bounds on what an untrusted label may ask for. */
const MAX_NAMES_PER_LABEL = 64;
const MAX_NAME_CHARS = 255;

/** The names in a depends_on label: comma or space separated, a leading slash dropped, empties ignored. */
export function parseDependsOnNames(raw: string): string[] {
  const out: string[] = [];
  for (const part of raw.split(/[,\s]+/)) {
    const name = part.trim().replace(/^\//, '');
    if (name === '' || name.length > MAX_NAME_CHARS || out.includes(name)) continue;
    out.push(name);
    if (out.length >= MAX_NAMES_PER_LABEL) break;
  }
  return out;
}

/** Compose services whose depends_on entry asks for restarts: `svc:condition:true` (v2.17+). */
export function composeRestartServices(raw: string): string[] {
  const out: string[] = [];
  for (const entry of raw.split(',')) {
    const [svc, , restart] = entry.trim().split(':');
    if (svc && restart?.trim().toLowerCase() === 'true' && !out.includes(svc.trim())) out.push(svc.trim());
    if (out.length >= MAX_NAMES_PER_LABEL) break;
  }
  return out;
}

/** The ref of a `container:<ref>` network mode, or null for any other mode. */
export function networkProviderRef(networkMode: string): string | null {
  if (!networkMode.startsWith('container:')) return null;
  const ref = networkMode.slice('container:'.length).trim().replace(/^\//, '');
  return ref === '' ? null : ref;
}

/**
 * The graph of these containers (duplicate names: the first wins, as names are unique in an engine).
 * `departed`: ids of removed containers -> the name they had, so a network mode naming the id of a
 * container since recreated under the same name links to the new one (a stale edge).
 */
export function buildGraph(nodes: readonly GraphNode[], departed: ReadonlyMap<string, string> = new Map()): DependencyGraph {
  const byName = new Map<string, GraphNode>();
  const byId = new Map<string, GraphNode>();
  for (const n of nodes) {
    if (!byName.has(n.name)) byName.set(n.name, n);
    byId.set(n.id, n);
  }
  const resolveRef = (ref: string): GraphNode | undefined => {
    const exact = byId.get(ref) ?? byName.get(ref);
    if (exact) return exact;
    // The engine accepts an unambiguous id prefix; an ambiguous one matches nothing.
    if (!/^[0-9a-f]{4,63}$/.test(ref)) return undefined;
    let found: GraphNode | undefined;
    for (const n of byId.values()) {
      if (!n.id.startsWith(ref)) continue;
      if (found) return undefined;
      found = n;
    }
    return found;
  };
  const edges: Edge[] = [];
  const seen = new Set<string>();
  const add = (provider: string, dependent: string, kind: EdgeKind, staleRef?: string): void => {
    const key = `${provider}\u0000${dependent}\u0000${kind}`;
    if (seen.has(key)) return;
    seen.add(key);
    edges.push(staleRef === undefined ? { provider, dependent, kind } : { provider, dependent, kind, staleRef });
  };
  const dangling: DanglingNetwork[] = [];
  for (const d of byName.values()) {
    const ref = networkProviderRef(d.networkMode);
    if (ref !== null) {
      const p = resolveRef(ref);
      const formerName = p ? undefined : departed.get(ref);
      if (p) add(p.name, d.name, 'network');
      else if (formerName !== undefined && byName.has(formerName) && formerName !== d.name) add(formerName, d.name, 'network', ref);
      else dangling.push({ dependent: d.name, ref });
    }
    const project = d.labels[COMPOSE_PROJECT_LABEL];
    const composeRaw = d.labels[COMPOSE_DEPENDS_ON_LABEL];
    if (project !== undefined && typeof composeRaw === 'string') {
      for (const svc of composeRestartServices(composeRaw)) {
        for (const p of byName.values()) {
          if (p.labels[COMPOSE_PROJECT_LABEL] === project && p.labels[COMPOSE_SERVICE_LABEL] === svc) add(p.name, d.name, 'compose');
        }
      }
    }
    const ours = d.labels[DEPENDS_ON_LABEL];
    if (typeof ours === 'string') {
      for (const name of parseDependsOnNames(ours)) if (byName.has(name)) add(name, d.name, 'label');
    }
  }
  const providers = new Map<string, Edge[]>();
  const dependents = new Map<string, Edge[]>();
  for (const e of edges) {
    (providers.get(e.dependent) ?? providers.set(e.dependent, []).get(e.dependent)!).push(e);
    (dependents.get(e.provider) ?? dependents.set(e.provider, []).get(e.provider)!).push(e);
  }
  const cycles = findCycles([...byName.keys()], (n) => (dependents.get(n) ?? []).map((e) => e.dependent));
  const cyclic = new Set(cycles.flat());
  return {
    edges,
    dangling,
    cycles,
    providersOf: (name) => [...(providers.get(name) ?? [])],
    dependentsOf: (name) => [...(dependents.get(name) ?? [])],
    inCycle: (name) => cyclic.has(name),
  };
}

/**
 * Strongly connected components with more than one member, or one that points at itself (Tarjan's,
 * iterative so a long chain cannot overflow the stack). Each sorted; the list sorted by first name.
 */
export function findCycles(names: readonly string[], next: (name: string) => readonly string[]): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  let counter = 0;
  for (const root of names) {
    if (index.has(root)) continue;
    const work: { node: string; children: readonly string[]; i: number }[] = [];
    const open = (node: string): void => {
      index.set(node, counter);
      low.set(node, counter);
      counter++;
      stack.push(node);
      onStack.add(node);
      work.push({ node, children: next(node), i: 0 });
    };
    open(root);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      if (top.i < top.children.length) {
        const child = top.children[top.i++]!;
        if (!index.has(child)) open(child);
        else if (onStack.has(child)) low.set(top.node, Math.min(low.get(top.node)!, index.get(child)!));
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1]!.node;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.node)!));
      }
      if (low.get(top.node) === index.get(top.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== top.node);
        if (component.length > 1 || next(top.node).includes(top.node)) out.push(component.sort());
      }
    }
  }
  return out.sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : 0));
}

/** One dependent to act on, with the providers it waits for (the started one, or earlier steps). */
export interface OrderedDependent {
  name: string;
  /** The edges from providers inside this order (or the started provider) to it. */
  via: Edge[];
}

/**
 * Everything that depends on `start`, directly or through a chain, providers before their
 * dependents (ties by name). Containers in a cycle are left out and not followed through.
 */
export function dependentsInOrder(graph: DependencyGraph, start: string): OrderedDependent[] {
  const reach = new Set<string>();
  const queue = [start];
  while (queue.length > 0) {
    const n = queue.shift()!;
    for (const e of graph.dependentsOf(n)) {
      const d = e.dependent;
      if (d === start || reach.has(d) || graph.inCycle(d)) continue;
      reach.add(d);
      queue.push(d);
    }
  }
  const inScope = (n: string): boolean => n === start || reach.has(n);
  const waitsFor = new Map<string, Edge[]>();
  const pending = new Map<string, number>();
  for (const d of reach) {
    const via = graph.providersOf(d).filter((e) => inScope(e.provider));
    waitsFor.set(d, via);
    pending.set(d, new Set(via.map((e) => e.provider).filter((p) => p !== start)).size);
  }
  const ready = [...reach].filter((d) => pending.get(d) === 0).sort();
  const order: OrderedDependent[] = [];
  while (ready.length > 0) {
    const d = ready.shift()!;
    order.push({ name: d, via: waitsFor.get(d) ?? [] });
    const released = new Set<string>();
    for (const e of graph.dependentsOf(d)) {
      if (!reach.has(e.dependent) || released.has(e.dependent)) continue;
      released.add(e.dependent);
      const left = pending.get(e.dependent)! - 1;
      pending.set(e.dependent, left);
      if (left === 0) {
        ready.push(e.dependent);
        ready.sort();
      }
    }
  }
  return order;
}

/** A container's providers and dependents by name, for the status page, `status` and `explain`. */
export interface DependencyView {
  providers: { name: string; kinds: EdgeKind[] }[];
  dependents: { name: string; kinds: EdgeKind[] }[];
  /** Set when the container is in a cycle: the names in it (never followed). */
  cycle?: string[];
}

export function dependencyView(graph: DependencyGraph, name: string): DependencyView {
  const group = (edges: Edge[], pick: (e: Edge) => string): { name: string; kinds: EdgeKind[] }[] => {
    const m = new Map<string, EdgeKind[]>();
    for (const e of edges) {
      const k = pick(e);
      const kinds = m.get(k) ?? m.set(k, []).get(k)!;
      if (!kinds.includes(e.kind)) kinds.push(e.kind);
    }
    return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([n, kinds]) => ({ name: n, kinds }));
  };
  const view: DependencyView = {
    providers: group(graph.providersOf(name), (e) => e.provider),
    dependents: group(graph.dependentsOf(name), (e) => e.dependent),
  };
  const cycle = graph.cycles.find((c) => c.includes(name));
  if (cycle) view.cycle = [...cycle];
  return view;
}

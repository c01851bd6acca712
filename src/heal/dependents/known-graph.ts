// What the dependents coordinator knows of the containers, as graph nodes: rebuilt from each full
// re-check's listing, then kept current by create, start, destroy and rename events. The graph itself
// is pure (graph.ts) and built again only after a change.
import type { ContainerInspect, ContainerSummary } from '../../docker/types.js';
import { bareName, summaryName } from '../classify.js';
import { buildGraph, graphNode, type DependencyGraph, type GraphNode } from './graph.js';

/** Removed containers' ids remembered (to recognise a provider recreated under the same name). */
const MAX_DEPARTED = 1_000;

export class KnownGraph {
  private readonly nodes = new Map<string, GraphNode>();
  /** Removed containers' names by id. */
  private readonly departed = new Map<string, string>();
  private cache: DependencyGraph | null = null;

  /** `onBuilt` sees every graph built (the coordinator reports its cycles). */
  constructor(private readonly onBuilt: (graph: DependencyGraph) => void) {}

  graph(): DependencyGraph {
    if (!this.cache) {
      this.cache = buildGraph([...this.nodes.values()], this.departed);
      this.onBuilt(this.cache);
    }
    return this.cache;
  }

  /** Everything from a full listing (no call of its own). */
  replaceAll(list: readonly ContainerSummary[]): void {
    this.nodes.clear();
    for (const c of list) this.nodes.set(c.Id, graphNode(c.Id, summaryName(c), c.HostConfig?.NetworkMode, c.Labels));
    this.cache = null;
    this.graph();
  }

  fromInspect(info: ContainerInspect): void {
    const host = info.HostConfig as { NetworkMode?: unknown };
    this.set(graphNode(info.Id, bareName(info.Name), host.NetworkMode, info.Config?.Labels));
  }

  /** A container known only by its event (id, name and the labels the event carries), unless known already. */
  fromEvent(id: string, name: string, attrs: Readonly<Record<string, string>>): void {
    if (!id || this.nodes.has(id)) return;
    this.set(graphNode(id, name, '', attrs));
  }

  removed(id: string, name: string): void {
    const former = this.nodes.get(id)?.name ?? name;
    this.nodes.delete(id);
    if (id && former) {
      this.departed.set(id, former);
      if (this.departed.size > MAX_DEPARTED) this.departed.delete(this.departed.keys().next().value!);
    }
    this.cache = null;
  }

  renamed(id: string, name: string): void {
    const known = this.nodes.get(id);
    if (known && name) this.nodes.set(id, { ...known, name });
    this.cache = null;
  }

  named(name: string): GraphNode | undefined {
    for (const n of this.nodes.values()) if (n.name === name) return n;
    return undefined;
  }

  /** The name a removed container had (by its id). */
  departedName(id: string): string | undefined {
    return this.departed.get(id);
  }

  private set(node: GraphNode): void {
    this.nodes.set(node.id, node);
    this.cache = null;
  }
}

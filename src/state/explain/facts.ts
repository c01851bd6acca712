// Gathering the facts `explain` needs about one container (src/state/explain/types.ts): the engine's
// listing and inspect, its labels decoded as `run` decodes them, and what Repairman knows of it. What
// Repairman knows comes from a running instance (live.ts) or from the journal file (journalKnowledge),
// so both ways give the same explanation of the same facts.
import { initialBudget, type BudgetState } from '../../budget/budget.js';
import { decodeLabels, type LabelContext } from '../../config/labels.js';
import type { SourceInfo } from '../../config/load.js';
import type { GlobalSettings } from '../../config/types.js';
import type { ContainerInspect, ContainerSummary, EngineApi } from '../../docker/types.js';
import { isRepairmanError } from '../../errors.js';
import { bareName, stopMarkHolds, summaryName } from '../../heal/classify.js';
import { buildGraph, dependencyView, type DependencyView, type GraphNode } from '../../heal/dependents/graph.js';
import { isSelfContainer, type SelfIdentity } from '../../heal/self-id.js';
import type { Journal, PauseMark } from '../../journal/types.js';
import type { CrashWindow, ExplainFacts, ExplainSource } from './types.js';

export interface FactsContext {
  engine: Pick<EngineApi, 'listContainers' | 'inspect'>;
  settings: GlobalSettings;
  sources: Readonly<Record<string, SourceInfo>>;
  labelContext: LabelContext;
  self: SelfIdentity;
  source: ExplainSource;
  signal?: AbortSignal;
}

/** What a healer saw of one container (Healer.seenOf). */
export interface SeenFacts {
  deliberateStop: boolean;
  /** The stop or kill was Repairman's own (on_unhealthy). */
  ownStop: boolean;
  sawAlive: boolean;
  unhealthySinceMs: number | null;
}

/** What Repairman knows about containers beyond the engine: a running healer's memory, or the journal. */
export interface ExplainKnowledge {
  /** The stored budget (a fresh one when none is stored); null when it cannot be known. */
  budget(name: string): BudgetState | null;
  pauses(): readonly PauseMark[];
  /** What the healer saw of this container (this id): null when it did not follow it. */
  seen(name: string, id: string): SeenFacts | null;
  /** From when crashes count. */
  crashWindow(): Omit<CrashWindow, 'sawItAlive'>;
  dependencies(name: string, listing: readonly ContainerSummary[]): DependencyView;
}

/** A listed container as the dependency graph reads it. */
export function graphNode(c: ContainerSummary): GraphNode {
  const mode = c.HostConfig?.NetworkMode;
  return { id: c.Id, name: summaryName(c), networkMode: typeof mode === 'string' ? mode : '', labels: c.Labels ?? {} };
}

/** The listed container NAME means: its name (a leading slash allowed) or an id prefix of 12+ hex digits. */
export function findListed(listing: readonly ContainerSummary[], asked: string): ContainerSummary | undefined {
  const wanted = bareName(asked.trim());
  const byName = listing.find((c) => summaryName(c) === wanted);
  if (byName) return byName;
  const hex = wanted.toLowerCase();
  return /^[0-9a-f]{12,64}$/.test(hex) ? listing.find((c) => c.Id.startsWith(hex)) : undefined;
}

export async function gatherFacts(ctx: FactsContext, knowledge: ExplainKnowledge, asked: string): Promise<ExplainFacts> {
  const listing = await ctx.engine.listContainers({ all: true, ...(ctx.signal ? { signal: ctx.signal } : {}) });
  const hit = findListed(listing, asked);
  let inspect: ContainerInspect | null = null;
  if (hit) {
    try {
      inspect = await ctx.engine.inspect(hit.Id, ctx.signal ? { signal: ctx.signal } : {});
    } catch (err) {
      // Removed between the listing and the inspect: as unknown as a name never seen.
      if (!isRepairmanError(err, 'RM_ENGINE_NOT_FOUND')) throw err;
    }
  }
  const name = inspect ? bareName(inspect.Name) : bareName(asked.trim());
  const seen = inspect ? knowledge.seen(name, inspect.Id) : null;
  return {
    asked,
    source: ctx.source,
    inspect,
    knownNames: inspect ? [] : listing.map(summaryName),
    settings: ctx.settings,
    sources: ctx.sources,
    decoded: decodeLabels(name, inspect?.Config?.Labels ?? {}, ctx.settings.defaults, ctx.labelContext),
    isSelf: inspect ? isSelfContainer(ctx.self, inspect.Id) : false,
    deliberateStop: seen?.deliberateStop ?? false,
    ownStop: seen?.ownStop ?? false,
    crashWindow: { ...knowledge.crashWindow(), sawItAlive: seen?.sawAlive ?? false },
    unhealthySinceMs: seen?.unhealthySinceMs ?? null,
    budget: inspect ? knowledge.budget(name) : null,
    pauses: knowledge.pauses(),
    dependencies: inspect ? knowledge.dependencies(name, listing) : { providers: [], dependents: [] },
  };
}

/**
 * What the journal file tells without a running instance: budgets, pauses, stops and kills it saw, and
 * when a Repairman on it was last alive (the next run counts crashes from there, docs/behaviour.md §2.2). `journal` null: none
 * to read (in memory, or it could not be opened), so budgets are unknown.
 */
export function journalKnowledge(
  journal: Pick<Journal, 'loadBudget' | 'pauses' | 'lastAliveMs' | 'deliberateStops'> | null,
  settings: Pick<GlobalSettings, 'healExitedLookbackSec'>,
  nowMs: number,
): ExplainKnowledge {
  const lastAlive = journal ? journal.lastAliveMs() : null;
  const stops = journal ? journal.deliberateStops() : [];
  const fromMs = lastAlive === null ? nowMs : Math.min(nowMs, lastAlive);
  return {
    budget: (name) => (journal ? journal.loadBudget(name) ?? initialBudget() : null),
    pauses: () => (journal ? journal.pauses() : []),
    // A stop or kill a Repairman on this file saw (and no start since): what its healer would remember.
    seen: (name, id) => {
      const m = stops.find((s) => s.container === name && s.id === id);
      return m && stopMarkHolds(m, nowMs) ? { deliberateStop: true, ownStop: m.own === true, sawAlive: true, unhealthySinceMs: null } : null;
    },
    crashWindow: () => ({ sinceMs: fromMs - settings.healExitedLookbackSec * 1000, fromMs, basis: lastAlive === null ? 'now' : 'last_alive' }),
    dependencies: (name, listing) => dependencyView(buildGraph(listing.map(graphNode)), name),
  };
}

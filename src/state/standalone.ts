// The state read without a running instance (issue 22: `status --db-path FILE`): the engine's listing
// plus the journal file (budgets, pauses, stops seen, the journal itself), as the same StateView a running
// Repairman serves, so `status` prints it the same way. What only a running instance knows (events it
// saw, since when a container is unhealthy, duplicates it found) is absent, and said so.
import { initialBudget } from '../budget/budget.js';
import { budgetViewByMode } from '../budget/modes.js';
import { decodeLabels, type LabelContext } from '../config/labels.js';
import type { GlobalSettings } from '../config/types.js';
import type { ContainerSummary, EngineApi } from '../docker/types.js';
import { exitCodeFromStatus, healthFromStatus, isDeliberateExit, staticExclusion, stopMarkHolds, summaryName } from '../heal/classify.js';
import { buildGraph, dependencyView } from '../heal/dependents/graph.js';
import { isSelfContainer, type SelfIdentity } from '../heal/self-id.js';
import type { Journal, JournalEntry } from '../journal/types.js';
import { MetricsRegistry } from '../metrics/registry.js';
import { graphNode } from './explain/facts.js';
import type { ContainerView, DuplicateView, HealthView, PauseView, StateView } from './types.js';

export interface StandaloneInput {
  engine: Pick<EngineApi, 'listContainers'>;
  journal: Pick<Journal, 'loadBudgets' | 'pauses' | 'lastAliveMs' | 'list' | 'restartsSince' | 'deliberateStops'>;
  settings: Pick<GlobalSettings, 'namespace' | 'defaults'>;
  labelContext: LabelContext;
  self: SelfIdentity;
  version: string;
  /** Said in the health reason: where this was read from. */
  where: string;
  signal?: AbortSignal;
}

export interface StandaloneState extends StateView {
  /** When a Repairman using this journal was last alive (null: never recorded). */
  readonly lastAliveMs: number | null;
}

function inForce(p: PauseView, nowMs: number): boolean {
  return p.untilMs === null || p.untilMs > nowMs;
}

/** Reads the engine once and the journal as needed; the result answers like a running instance's state. */
export async function readStandaloneState(input: StandaloneInput, nowMs: number): Promise<StandaloneState> {
  const { settings, journal } = input;
  const listing = (await input.engine.listContainers({ all: true, ...(input.signal ? { signal: input.signal } : {}) }))
    .filter((c) => !settings.namespace || summaryName(c).startsWith(settings.namespace));
  const graph = buildGraph(listing.map(graphNode));
  const budgets = journal.loadBudgets();
  const pauses = journal.pauses().filter((p) => inForce(p, nowMs));
  const lastAliveMs = journal.lastAliveMs();
  // Stops and kills a Repairman on this file saw, on the container id it saw them on (docs/behaviour.md §2.2).
  const stops = journal.deliberateStops();
  // As a running instance says it (ContainerTracker.stoppedByHand): a 137 is never known to be no OOM kill here.
  const stoppedByHand = (c: ContainerSummary): boolean => {
    if (c.State !== 'exited') return false;
    const mark = stops.find((m) => m.container === summaryName(c) && m.id === c.Id);
    if (mark?.own) return false;
    if (mark && stopMarkHolds(mark, nowMs)) return true;
    const code = exitCodeFromStatus(c.Status);
    return code !== null && isDeliberateExit(code, code === 137);
  };
  const pauseOf = (name: string): { untilMs: number | null; all: boolean } | null => {
    const found = pauses.filter((p) => p.container === name || p.container === '*');
    if (found.length === 0) return null;
    const last = found.reduce((a, b) => (a.untilMs === null ? a : b.untilMs === null ? b : a.untilMs >= b.untilMs ? a : b));
    return { untilMs: last.untilMs, all: last.container === '*' };
  };
  const lastEventOf = (name: string): JournalEntry | null => journal.list({ limit: 1, container: name })[0] ?? null;
  const containers: ContainerView[] = listing.map((c) => {
    const name = summaryName(c);
    const decoded = decodeLabels(name, c.Labels, settings.defaults, input.labelContext);
    const excluded = staticExclusion(name, c.Labels, decoded.policy, { namespace: settings.namespace, isSelf: isSelfContainer(input.self, c.Id) });
    const p = decoded.policy;
    return {
      id: c.Id,
      name,
      state: c.State,
      health: healthFromStatus(c.Status),
      watched: excluded === null,
      excludedReason: excluded ? excluded.detail : null,
      budget: budgetViewByMode(budgets.get(name) ?? initialBudget(), p, nowMs),
      lastEvent: lastEventOf(name),
      labelProblems: decoded.problems,
      dependencies: dependencyView(graph, name),
      action: { onUnhealthy: p.onUnhealthy, unhealthyForSec: p.unhealthyForSec, budgetMode: p.budgetMode, unhealthySinceMs: null, actAfterMs: null, paused: pauseOf(name) },
      stoppedByHand: stoppedByHand(c),
    };
  }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const health: HealthView = {
    ok: true,
    reason: `read from ${input.where}: no running Repairman answered`,
    engineUp: true,
    lastFullCheckMs: lastAliveMs,
    degraded: [],
  };
  return {
    lastAliveMs,
    metrics: new MetricsRegistry(),
    startedAtMs: lastAliveMs ?? nowMs,
    version: input.version,
    containers: () => containers,
    events: (opts) => journal.list(opts),
    restartsSince: (sinceMs) => journal.restartsSince(sinceMs).map((r) => ({ container: r.container, atMs: r.atMs, kind: r.kind })),
    // Duplicates are found by a running instance's cleaner (docs/behaviour.md §4): none read here.
    duplicates: (): DuplicateView[] => [],
    pauses: () => pauses,
    health: () => health,
  };
}

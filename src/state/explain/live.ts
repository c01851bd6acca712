// `explain` served by a running instance: the facts come from the engine and from what the healer
// knows (its budgets, pauses, the events it saw), through the healer's read-only hooks.
import type { Healer } from '../../heal/healer.js';
import { gatherFacts, type ExplainKnowledge, type FactsContext } from './facts.js';
import { explain } from './explain.js';
import type { Explanation } from './types.js';

export type LiveHealer = Pick<Healer, 'budgetOf' | 'pauses' | 'seenOf' | 'crashesCountFromMs' | 'dependencyViewOf'>;

export function healerKnowledge(healer: LiveHealer, lookbackSec: number): ExplainKnowledge {
  return {
    budget: (name) => healer.budgetOf(name),
    pauses: () => healer.pauses(),
    seen: (name, id) => healer.seenOf(name, id),
    crashWindow: () => {
      const sinceMs = healer.crashesCountFromMs;
      return { sinceMs, fromMs: sinceMs + lookbackSec * 1000, basis: 'watching' };
    },
    dependencies: (name) => healer.dependencyViewOf(name),
  };
}

/** What the HTTP route calls: explain NAME now, with times in `timeZone`. */
export type ExplainProvider = (name: string, opts: { nowMs: number; timeZone: string; signal?: AbortSignal }) => Promise<Explanation>;

export function liveExplainer(healer: LiveHealer, ctx: Omit<FactsContext, 'source' | 'signal'>): ExplainProvider {
  const knowledge = healerKnowledge(healer, ctx.settings.healExitedLookbackSec);
  return async (name, opts) => {
    const facts = await gatherFacts({ ...ctx, source: { kind: 'instance', where: 'the running instance' }, ...(opts.signal ? { signal: opts.signal } : {}) }, knowledge, name);
    return explain(facts, { nowMs: opts.nowMs, timeZone: opts.timeZone });
  };
}

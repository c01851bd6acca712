// Restart-budget gauges, sampled when /metrics is scraped, for alerts and dashboards across a fleet:
// how many watched containers are in each budget state, and a per-container series for the ones in
// trouble only (not ok, or restarted in the current frame). The container label is the NAME: it
// survives a re-creation, where an id would start a new series each time; and keeping healthy
// containers out bounds the series count on hosts with thousands of containers.
import type { MetricsRegistry } from '../metrics/registry.js';
import type { BudgetStateName, BudgetView } from './types.js';

export const BUDGET_STATES: readonly BudgetStateName[] = ['ok', 'waiting', 'longer_wait', 'given_up'];

export interface BudgetSource {
  containers(): { name: string; excluded: unknown }[];
  budgetViewOf(name: string, nowMs: number): BudgetView;
}

export function registerBudgetMetrics(reg: MetricsRegistry, source: BudgetSource, now: () => number = Date.now): void {
  const byState = reg.gauge('repairman_budget_containers', 'Watched containers by restart-budget state (ok, waiting, longer_wait, given_up).');
  const state = reg.gauge('repairman_container_budget_state', 'Always 1: the budget state of a watched container that is not ok, or was restarted in the current frame.');
  const inFrame = reg.gauge('repairman_container_restarts_in_frame', 'Restarts in the current frame, for a container in trouble.');
  const streak = reg.gauge('repairman_container_restart_streak', 'Restarts in a row without recovery, for a container in trouble.');
  reg.onCollect(() => {
    const counts = new Map<BudgetStateName, number>(BUDGET_STATES.map((s) => [s, 0]));
    state.clear();
    inFrame.clear();
    streak.clear();
    const nowMs = now();
    for (const c of source.containers()) {
      if (c.excluded) continue;
      const b = source.budgetViewOf(c.name, nowMs);
      counts.set(b.state, (counts.get(b.state) ?? 0) + 1);
      if (b.state === 'ok' && b.restartsInFrame === 0) continue;
      state.set(1, { container: c.name, state: b.state });
      inFrame.set(b.restartsInFrame, { container: c.name });
      streak.set(b.streak, { container: c.name });
    }
    for (const [s, n] of counts) byState.set(n, { state: s });
  });
}

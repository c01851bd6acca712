// The budget a container's budget_mode picks (docs/behaviour.md §3, §12): the healer asks here, never
// budget.ts or backoff.ts directly, so the mode is applied everywhere alike.
import { backoffView, decideBackoff, recordBackoffRestart } from './backoff.js';
import { budgetView, decide, recordRestart, type BudgetPolicy, type BudgetState, type BudgetView, type Decision } from './budget.js';

export type BudgetModeName = 'frames' | 'backoff';

/** The budget's numbers and its mode (a ContainerPolicy fits; no mode means frames). */
export interface ModalBudgetPolicy extends BudgetPolicy {
  budgetMode?: BudgetModeName;
}

export function decideByMode(state: BudgetState, policy: ModalBudgetPolicy, nowMs: number): Decision {
  return policy.budgetMode === 'backoff' ? decideBackoff(state, nowMs) : decide(state, policy, nowMs);
}

export function recordRestartByMode(state: BudgetState, policy: ModalBudgetPolicy, nowMs: number, ok: boolean): { state: BudgetState; gaveUp: boolean } {
  return policy.budgetMode === 'backoff' ? recordBackoffRestart(state, policy, nowMs, ok) : recordRestart(state, policy, nowMs, ok);
}

export function budgetViewByMode(state: BudgetState, policy: ModalBudgetPolicy, nowMs: number): BudgetView {
  return policy.budgetMode === 'backoff' ? backoffView(state, policy, nowMs) : budgetView(state, policy, nowMs);
}

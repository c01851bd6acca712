// The restart budgets the healer keeps, by container name (a name survives restarts and re-creation),
// each saved to the journal when it changes so a restarted Repairman resumes waits and give-ups.
import { initialBudget, type BudgetState, type BudgetView } from '../budget/budget.js';
import { budgetViewByMode } from '../budget/modes.js';
import type { ContainerPolicy } from '../config/types.js';
import { errorMessage } from '../errors.js';
import type { HealContext } from './context.js';

export class BudgetBook {
  private readonly budgets: Map<string, BudgetState>;

  constructor(
    private readonly ctx: HealContext,
    loaded: Map<string, BudgetState> | undefined,
  ) {
    this.budgets = new Map(loaded ?? []);
  }

  /** The stored budget (undefined when the container was never in trouble). */
  stored(name: string): BudgetState | undefined {
    return this.budgets.get(name);
  }

  of(name: string): BudgetState {
    return this.budgets.get(name) ?? initialBudget();
  }

  names(): string[] {
    return [...this.budgets.keys()];
  }

  view(name: string, policy: ContainerPolicy, nowMs: number): BudgetView {
    return budgetViewByMode(this.of(name), policy, nowMs);
  }

  /** Keep and save a changed budget (a save that fails is logged: healing goes on). */
  set(name: string, state: BudgetState): void {
    if (this.budgets.get(name) === state) return;
    this.budgets.set(name, state);
    if (this.ctx.work.stopped) return;
    try {
      this.ctx.journal.saveBudget(name, state);
    } catch (err) {
      this.ctx.log.error('could not save the restart budget', { container: name, error: errorMessage(err) });
    }
  }

  /** Keep a budget already written (in a transaction of the caller's). */
  setWritten(name: string, state: BudgetState): void {
    this.budgets.set(name, state);
  }

  delete(name: string): void {
    this.budgets.delete(name);
  }

  /** A restart streak, a give-up or a wait in progress. */
  inTrouble(name: string): boolean {
    const b = this.budgets.get(name);
    return Boolean(b && (b.streak > 0 || b.givenUp || b.waitUntilMs !== null || b.longerWaitStartedMs !== null));
  }
}

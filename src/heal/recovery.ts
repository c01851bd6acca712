// Recovery: a container in trouble (a restart streak, a wait, a give-up) that is healthy again, or
// that has run a whole frame without a healthcheck, gets its streak ended and its waits cancelled.
import { recordRecovery } from '../budget/budget.js';
import type { BudgetBook } from './budget-book.js';
import { inspectContainer, type HealContext } from './context.js';
import type { OutcomeReporter } from './reporter.js';
import type { HealTimers } from './timers.js';
import type { ContainerTracker, TrackedContainer } from './tracking.js';

export type RecoveryHow = 'healthy' | 'ran_whole_frame';

export class Recovery {
  constructor(
    private readonly ctx: HealContext,
    private readonly tracker: ContainerTracker,
    private readonly budgets: BudgetBook,
    private readonly timers: HealTimers,
    private readonly reporter: OutcomeReporter,
  ) {}

  /** A healthcheck of a container in trouble (quick re-checks then also list the healthy ones). */
  someHealthcheckInTrouble(): boolean {
    for (const name of this.budgets.names()) {
      const t = this.tracker.get(name);
      if (t && t.health !== null && this.budgets.inTrouble(name)) return true;
    }
    return false;
  }

  /** Recover it in its turn (after any action on it). */
  queue(name: string, how: RecoveryHow): void {
    if (this.ctx.work.stopped || !this.budgets.inTrouble(name)) return;
    this.ctx.work.add(this.ctx.serializer.run(name, async () => {
      const t = this.tracker.get(name);
      if (t && !this.ctx.work.stopped) this.recover(t, how);
    }));
  }

  recover(t: TrackedContainer, how: RecoveryHow): void {
    const name = t.name;
    const before = this.budgets.stored(name);
    if (!before) return;
    const r = recordRecovery(before, this.ctx.clock.now());
    if (r.state === before) return;
    this.budgets.set(name, r.state);
    this.timers.cancel(name);
    this.ctx.metrics.recoveries.inc();
    this.ctx.log.info('recovered', { container: name, how, wasLimited: r.wasLimited, streak: before.streak });
    this.reporter.report(t, { kind: 'recovered', how, wasLimited: r.wasLimited, streak: before.streak, wasGivenUp: before.givenUp });
  }

  /** Containers without a healthcheck recover after running a whole frame: look when it should end. */
  scheduleProbe(name: string, atMs: number): void {
    this.timers.scheduleProbe(name, atMs, () => {
      if (this.ctx.work.stopped || !this.budgets.inTrouble(name)) return;
      this.ctx.work.add(this.ctx.serializer.run(name, () => this.probe(name)));
    });
  }

  private async probe(name: string): Promise<void> {
    if (this.ctx.work.stopped) return;
    const info = await inspectContainer(this.ctx, name);
    if (info === 'failed' || info === null || this.ctx.work.stopped) return;
    const t = this.tracker.fromInspect(info);
    if (info.State?.Health || info.State?.Status !== 'running') return; // a healthcheck or an exit decides
    const startedMs = Date.parse(info.State.StartedAt);
    const frameMs = t.policy.frameSizeSec * 1000;
    const now = this.ctx.clock.now();
    if (!Number.isFinite(startedMs) || now - startedMs >= frameMs - 1000) this.recover(t, 'ran_whole_frame');
    else this.scheduleProbe(name, startedMs + frameMs);
  }

  /** After a full listing: containers in trouble without a healthcheck and without a probe get one. */
  scheduleMissingProbes(): void {
    for (const name of this.budgets.names()) {
      const t = this.tracker.get(name);
      if (!t || t.health !== null || t.state !== 'running' || this.timers.hasProbe(name) || !this.budgets.inTrouble(name)) continue;
      if (this.budgets.of(name).givenUp) continue;
      this.scheduleProbe(name, this.ctx.clock.now());
    }
  }
}

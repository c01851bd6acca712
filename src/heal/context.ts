// What every part of the healer shares: its dependencies, its background work (so stop() can wait for
// it), and the one inspect call they all make. Each part (tracking, rechecks, restarting, recovery...)
// gets this and owns its own state.
import type { ContainerPolicy, DecodedLabels, GlobalSettings } from '../config/types.js';
import type { BudgetState } from '../budget/budget.js';
import type { ContainerInspect, EngineApi } from '../docker/types.js';
import { errorMessage, isRepairmanError } from '../errors.js';
import type { DeliberateStopMark, JournalEntryInput } from '../journal/types.js';
import type { Logger } from '../log.js';
import type { Notifier } from '../notify/types.js';
import type { Clock } from '../util/clock.js';
import type { KeyedSerializer, Limiter } from '../util/keyed-queue.js';
import type { HealMetrics } from './metrics.js';
import type { SelfIdentity } from './self-id.js';

/** What the healer needs from the journal (src/journal implements it). */
export interface HealJournal {
  append(entry: JournalEntryInput, maxPerContainer: number): unknown;
  saveBudget(container: string, state: BudgetState): void;
  deleteBudget(container: string): void;
  /** Runs fn's writes in one transaction (src/journal's batch); without it they run one by one. */
  batch?(fn: () => void): void;
  /** Keeps a stop or kill seen across restarts of Repairman (a file journal); absent: kept in memory only. */
  setDeliberateStop?(mark: DeliberateStopMark): void;
  clearDeliberateStop?(container: string): void;
}

export type DecodeLabels = (container: string, labels: Record<string, string> | null | undefined, defaults: ContainerPolicy) => DecodedLabels;

/** Why a container is looked at. */
export type Trigger = 'event' | 'recheck' | 'timer' | 'reset';

export interface HealContext {
  readonly engine: EngineApi;
  readonly settings: GlobalSettings;
  readonly log: Logger;
  readonly notifier: Notifier;
  readonly journal: HealJournal;
  readonly metrics: HealMetrics;
  readonly serializer: KeyedSerializer;
  readonly limiter: Limiter;
  readonly clock: Clock;
  readonly self: SelfIdentity;
  readonly host: string;
  readonly timeZone: string | undefined;
  readonly work: BackgroundWork;
  /** UTC ms from which a crash Repairman did not see happen still counts (heal_exited_lookback). */
  readonly crashesCountFromMs: number;
}

/**
 * The healer's queued work and its stop switch: every promise started in the background is kept until
 * it settles (stop() waits for them), and its unexpected failure is logged, never thrown.
 */
export class BackgroundWork {
  private stoppedFlag = false;
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly log: Logger,
    /** Aborted at stop (the healer holds it too). */
    private readonly abortController: AbortController,
  ) {}

  get stopped(): boolean {
    return this.stoppedFlag;
  }

  /** Aborted at stop: every engine call of the healer passes it. */
  get signal(): AbortSignal {
    return this.abortController.signal;
  }

  add(p: Promise<unknown>): void {
    const guarded = p.catch((err: unknown) => {
      if (!this.stoppedFlag) this.log.error('unexpected healing failure', { error: errorMessage(err), stack: err instanceof Error ? err.stack : undefined });
    });
    this.pending.add(guarded);
    void guarded.finally(() => this.pending.delete(guarded));
  }

  markStopped(): void {
    this.stoppedFlag = true;
  }

  /** Abort engine calls and wait for the work in flight up to graceMs (then abandon it). */
  async abortAndSettle(graceMs: number): Promise<void> {
    this.abortController.abort();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.pending]),
      new Promise<void>((r) => {
        timer = setTimeout(r, graceMs);
      }),
    ]);
    if (timer) clearTimeout(timer);
  }
}

/** A fresh inspect: null when the container is gone, 'failed' when the engine did not answer (logged). */
export async function inspectContainer(ctx: HealContext, name: string): Promise<ContainerInspect | null | 'failed'> {
  try {
    return await ctx.engine.inspect(name, { signal: ctx.work.signal });
  } catch (err) {
    if (ctx.work.stopped) return 'failed';
    if (isRepairmanError(err, 'RM_ENGINE_NOT_FOUND')) return null;
    ctx.log.warn('could not inspect a container', { container: name, error: errorMessage(err), code: errorCode(err) });
    return 'failed';
  }
}

export function errorCode(err: unknown): string | undefined {
  return isRepairmanError(err) ? err.code : undefined;
}

// Whether the journal file can be used right now (docs/behaviour.md §9): ok, or degraded since a moment,
// for a reason, with the next attempt to use the file again backing off. Only bookkeeping, on an
// explicit clock: src/journal/degradable.ts acts on it.

/** The first retry comes this soon after a failure... */
export const RETRY_FIRST_MS = 1_000;
/** ...and the wait doubles up to this: a file fixed by hand is used again within half a minute. */
export const RETRY_MAX_MS = 30_000;
/**
 * A new outage this soon after the last one ended is a relapse, not news: a nearly full disk takes a
 * small write now and then (SQLite reuses the space a failed write took), and must not log an error
 * and a recovery every few seconds.
 */
export const RELAPSE_MS = 10 * 60_000;

/** What a failure means: a new outage (say so), a relapse of the last one (quietly), or a failed retry. */
export type FailureKind = 'new' | 'relapse' | 'retry';

export interface JournalProblem {
  /** What failed: opening the file, or writing to it. */
  doing: 'opening' | 'writing';
  /** What SQLite or the file system said (e.g. "database or disk is full"). */
  reason: string;
  /** How to fix it, for the admin. */
  advice: string;
}

export class JournalOutage {
  private current: JournalProblem | null = null;
  private startedMs = 0;
  private delayMs = 0;
  private nextMs = 0;
  private attemptsFailed = 0;
  private endedMs: number | null = null;
  private relapse = false;

  constructor(
    private readonly clock: () => number,
    private readonly firstMs = RETRY_FIRST_MS,
    private readonly maxMs = RETRY_MAX_MS,
    private readonly relapseMs = RELAPSE_MS,
  ) {}

  get degraded(): boolean {
    return this.current !== null;
  }

  /** Why, while degraded (the newest reason: a fixed directory may turn into a full disk). */
  get problem(): JournalProblem | null {
    return this.current;
  }

  /** When the outage began (epoch ms), or null while ok. */
  get sinceMs(): number | null {
    return this.current ? this.startedMs : null;
  }

  /** Retries that failed in this outage. */
  get retriesFailed(): number {
    return this.attemptsFailed;
  }

  /** True while the outage in progress is a relapse (began within RELAPSE_MS of the last one's end). */
  get isRelapse(): boolean {
    return this.current !== null && this.relapse;
  }

  /**
   * The file failed: a new outage (say so, once), a relapse of one that ended less than RELAPSE_MS ago
   * (quietly), or a failed retry (the wait before the next one doubles).
   */
  failed(problem: JournalProblem): FailureKind {
    const now = this.clock();
    const first = this.current === null;
    this.current = problem;
    if (!first) {
      this.attemptsFailed++;
      this.delayMs = Math.min(this.delayMs * 2, this.maxMs);
      this.nextMs = now + this.delayMs;
      return 'retry';
    }
    this.startedMs = now;
    this.delayMs = this.firstMs;
    this.attemptsFailed = 0;
    this.nextMs = now + this.delayMs;
    this.relapse = this.endedMs !== null && now - this.endedMs < this.relapseMs;
    return this.relapse ? 'relapse' : 'new';
  }

  /** Milliseconds until the next attempt (0: due now); null while ok (nothing to retry). */
  retryInMs(): number | null {
    if (!this.current) return null;
    return Math.max(0, this.nextMs - this.clock());
  }

  /** The file works again. How long the outage lasted (ms), or null when there was none. */
  recovered(): number | null {
    if (!this.current) return null;
    const now = this.clock();
    this.current = null;
    this.attemptsFailed = 0;
    this.endedMs = now;
    return Math.max(0, now - this.startedMs);
  }
}

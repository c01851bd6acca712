// The facts `repairman explain NAME` reads about one container, and the explanation made of them
// (docs/behaviour.md §11): plain data, so a running instance can serve it over HTTP and the command can
// build it alone from the engine and the journal file, with the same result.
import type { BudgetState, BudgetView } from '../../budget/budget.js';
import type { SourceInfo } from '../../config/load.js';
import type { DecodedLabels, GlobalSettings, LabelProblem } from '../../config/types.js';
import type { ContainerInspect } from '../../docker/types.js';
import type { DependencyView } from '../../heal/dependents/graph.js';
import type { PauseMark } from '../../journal/types.js';

/** Where the facts came from, as said to people. */
export interface ExplainSource {
  /** instance: a running Repairman answered; standalone: read from the engine and the journal file. */
  kind: 'instance' | 'standalone';
  /** "the running instance at http://..." or "the engine and /data/repairman.db". */
  where: string;
}

/** From when crashes count (docs/behaviour.md §2.2), and what that moment is. */
export interface CrashWindow {
  /** Crashes that finished before this are old (heal_exited_lookback before `fromMs`). */
  sinceMs: number;
  /** The moment the look-back counts back from. */
  fromMs: number;
  /** watching: this instance began watching; last_alive: a run on this journal was last alive; now: no run recorded. */
  basis: 'watching' | 'last_alive' | 'now';
  /** Repairman saw this container (this id) alive or dying: its crash counts whenever it happened. */
  sawItAlive: boolean;
}

export interface ExplainFacts {
  /** The name (or id) asked about. */
  asked: string;
  source: ExplainSource;
  /** The engine's inspect of the container; null when no container has that name. */
  inspect: ContainerInspect | null;
  /** Every container name the engine has, for "did you mean" (only read when inspect is null). */
  knownNames: readonly string[];
  settings: Pick<GlobalSettings, 'namespace' | 'healExitedLookbackSec' | 'autohealLabel' | 'dryRun' | 'dbPath'>;
  /** Where each global setting came from (loadSettings' sources, by settings-table key). */
  sources: Readonly<Record<string, SourceInfo>>;
  /** Its labels decoded as `run` decodes them. */
  decoded: DecodedLabels;
  isSelf: boolean;
  /** A `docker stop` or `kill` seen since its last start (only a running instance sees events). */
  deliberateStop: boolean;
  /** That stop or kill was Repairman's own on_unhealthy stop or kill, not a person's. */
  ownStop: boolean;
  crashWindow: CrashWindow;
  /** Since when Repairman has seen it unhealthy (null: not seen so, or not known). */
  unhealthySinceMs: number | null;
  /** Its stored restart budget; null when nothing can tell (an in-memory journal read from outside). */
  budget: BudgetState | null;
  /** The maintenance pauses stored (in force or not). */
  pauses: readonly PauseMark[];
  dependencies: DependencyView;
}

/** Why the container is (or is not) acted on; stable, for scripts (`--json`). */
export const EXPLAIN_REASONS = [
  'unknown',
  'outside_namespace',
  'compose_leftover',
  'swarm_task',
  'self',
  'opted_out',
  'not_opted_in',
  'bad_label',
  'removing',
  'dead',
  'restarting',
  'paused',
  'maintenance',
  'stopped_by_hand',
  'stopped_by_repairman',
  'engine_restarts_it',
  'engine_health_action',
  'one_off',
  'auto_remove',
  'heal_exited_disabled',
  'old_crash',
  'given_up',
  'longer_wait',
  'waiting',
  'unhealthy_for',
  'acts',
  'healthy',
  'starting',
  'no_healthcheck',
  'not_running',
] as const;
export type ExplainReason = (typeof EXPLAIN_REASONS)[number];

/** acts: Repairman acts now; waits: it will, later; left_alone: it will not; nothing_to_do: all is well. */
export type ExplainVerdict = 'acts' | 'waits' | 'left_alone' | 'nothing_to_do' | 'unknown';

/** One deciding setting, its value and where it came from. */
export interface ExplainSetting {
  key: string;
  value: string;
  /** default, env, compat env, switch, label, compat label; `bad label` when a label's value was refused. */
  source: string;
  /** `--interval`, `CHECK_INTERVAL`, `org.riotkit.repairman.enable_autoheal`, `autoheal`... */
  from?: string;
}

export interface Explanation {
  asked: string;
  /** The container's name (null when unknown). */
  name: string | null;
  id: string | null;
  state: string | null;
  health: string | null;
  watched: boolean;
  verdict: ExplainVerdict;
  reason: ExplainReason;
  /** The one sentence that says what Repairman does about it and why. */
  sentence: string;
  /** What happens next, and when. */
  next: string;
  settings: ExplainSetting[];
  action: { onUnhealthy: string; unhealthyForSec: number; budgetMode: string; unhealthySinceMs: number | null; actAfterMs: number | null };
  /** Null when not known (an in-memory journal read from outside the running instance). */
  budget: (BudgetView & { givenUpAtMs: number | null; lastRestartMs: number | null }) | null;
  /** The budget as one line ("ok: 0 of 2 restarts in the 300 s frame; ..."). */
  budgetText: string;
  pause: { untilMs: number | null; all: boolean } | null;
  dependencies: DependencyView;
  labelProblems: LabelProblem[];
  /** For an unknown name: the closest known one. */
  suggestion: string | null;
  source: ExplainSource;
  atMs: number;
  timeZone: string;
}

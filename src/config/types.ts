// The effective settings, after parsing (see settings-table.ts for the one table they come from).
import type { NotifyLevel } from '../notify/levels.js';

/** Settings that a container may override with an org.riotkit.repairman.<key> label. */
export interface ContainerPolicy {
  secondsBetweenRestarts: number;
  frameSizeSec: number;
  maxRestartsInFrame: number; // 0 = no limit
  secondsBetweenNextFrame: number;
  maxChecksToGiveUp: number; // 0 = never
  maxHistoricEntries: number;
  enableCleaningDuplicatedServices: boolean;
  enableAutoheal: boolean;
  healExited: boolean;
  stopTimeoutSec: number;
  notifyUrls: string[];
  notifyLevel: NotifyLevel;
  /** Containers this one depends on, by name (label only; docs/behaviour.md §10). */
  dependsOn: string[];
  /** Recreate this dependent when its network provider was recreated (docs/behaviour.md §10). */
  recreateDependents: boolean;
  /** What an unhealthy container gets (docs/behaviour.md §12); a crashed one is always started. */
  onUnhealthy: UnhealthyAction;
  /** Act on an unhealthy container only once it has been unhealthy this long without recovering. */
  unhealthyForSec: number;
  /** The restart budget: frames or Kubernetes' CrashLoopBackOff (docs/behaviour.md §3, §12). */
  budgetMode: BudgetMode;
}

export const UNHEALTHY_ACTIONS = ['restart', 'stop', 'kill', 'notify'] as const;
export type UnhealthyAction = (typeof UNHEALTHY_ACTIONS)[number];
export const BUDGET_MODES = ['frames', 'backoff'] as const;
export type BudgetMode = (typeof BUDGET_MODES)[number];

export interface GlobalSettings {
  debug: boolean;
  intervalSec: number;
  namespace: string;
  /** A crash before Repairman began watching counts if it is at most this old then (docs/behaviour.md §2.2). */
  healExitedLookbackSec: number;
  httpAddress: string;
  httpPort: number; // 0 = no HTTP server
  httpPrefix: string;
  /** File holding the HTTP bearer token ('' = no token). */
  httpTokenFile: string;
  /** Host names the HTTP server answers to besides its address and localhost (DNS rebinding). */
  httpHosts: string[];
  /** Origins a notify_url label may post to besides the global notify URLs' origins. */
  labelNotifyOrigins: string[];
  dbPath: string; // ':memory:' or a file
  dryRun: boolean;
  parallelism: number; // restarts of different containers at once
  duplicateGraceSec: number; // a prefixed duplicate younger than this is held back (docs/behaviour.md §4: 60)
  autohealLabel: string; // willfarrell's selection label, 'all', or '' (off) (docs/behaviour.md §11)
  startPeriodSec: number; // wait before the first check
  apiTimeoutSec: number; // one engine API call (restarts get their stop timeout on top)
  postRestartScript: string; // willfarrell's POST_RESTART_SCRIPT, '' = none
  /** Run after each action (global only, never from a label: docs/behaviour.md §12); "" = none. */
  postActionCommand: string;
  /** The post-action command is killed (its process group) after this long. */
  postActionTimeoutSec: number;
  defaults: ContainerPolicy;
}

/** `compat env` / `compat label`: another tool's variable or label (docs/behaviour.md §11). */
export type SettingSource = 'default' | 'env' | 'compat env' | 'switch' | 'label' | 'compat label';

/** One problem with a container's labels; decoding never throws. */
export interface LabelProblem {
  container: string;
  label: string; // full key, org.riotkit.repairman.<key>
  value: string;
  expected: string;
  /** What is used instead, as shown to people (e.g. "15 (global)" or "false"). */
  fallback: string;
  /** For unknown keys: the closest known key. */
  suggestion?: string;
  code: 'RM_LABEL_INVALID' | 'RM_LABEL_UNKNOWN';
}

export interface DecodedLabels {
  policy: ContainerPolicy;
  problems: LabelProblem[];
  /** Policy fields whose value came from a valid label (all others are the global values). */
  fromLabels?: (keyof ContainerPolicy)[];
  /** Policy fields set by another tool's label (docs/behaviour.md §11), with that label's key. */
  compatFrom?: Partial<Record<keyof ContainerPolicy, string>>;
}

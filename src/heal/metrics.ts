// Healing's Prometheus series (docs/behaviour.md §6 /metrics). Names carry their unit; labels never carry container
// ids (unbounded cardinality across re-creations); counters start at 0 so dashboards see them at once.
import type { MetricsRegistry } from '../metrics/registry.js';

export interface HealMetrics {
  restarts: { inc(labels: { reason: 'unhealthy' | 'crashed' | 'dependent' }): void };
  restartFailures: { inc(): void };
  skips: { inc(labels: { reason: string }): void };
  waits: { inc(labels: { kind: 'gap' | 'longer' }): void };
  giveUps: { inc(): void };
  recoveries: { inc(): void };
  engineUp: { set(v: number): void };
  eventStreamReconnects: { inc(): void };
  checkDurationSeconds: { set(v: number): void };
  checks: { inc(): void };
  labelProblems: { set(v: number): void };
  watchedContainers: { set(v: number): void };
  /** on_unhealthy other than restart (docs/behaviour.md §12). */
  actions: { inc(labels: { action: 'stop' | 'kill' | 'notify' }): void };
  postActionCommands: { inc(labels: { result: 'ok' | 'failed' | 'timeout' }): void };
  /** Maintenance pauses in force: scope="all" is 0 or 1, scope="container" counts the names. */
  paused: { set(labels: { scope: 'all' | 'container' }, v: number): void };
}

export function createHealMetrics(reg: MetricsRegistry): HealMetrics {
  const restarts = reg.counter('repairman_restarts_total', 'Restarts of unhealthy containers and starts of crashed ones (dry runs included), by reason (dependent: restarted or recreated after its provider).');
  const restartFailures = reg.counter('repairman_restart_failures_total', 'Restarts or starts the engine refused or that failed.');
  const skips = reg.counter('repairman_skips_total', 'Containers in trouble that were deliberately left alone, by reason.');
  const waits = reg.counter('repairman_waits_total', 'Waits started: kind="gap" between two restarts, kind="longer" after a full frame.');
  const giveUps = reg.counter('repairman_give_ups_total', 'Containers given up (max_checks_to_give_up restarts in a row without recovery).');
  const recoveries = reg.counter('repairman_recoveries_total', 'Containers that recovered after at least one restart.');
  const engineUp = reg.gauge('repairman_engine_up', '1 while the Docker engine answers, 0 otherwise.');
  const reconnects = reg.counter('repairman_event_stream_reconnects_total', 'Reconnections of the engine event stream.');
  const checkDuration = reg.gauge('repairman_check_duration_seconds', 'Duration of the last full re-check.');
  const checks = reg.counter('repairman_checks_total', 'Full re-checks done.');
  const labelProblems = reg.gauge('repairman_label_problems', 'Problems with org.riotkit.repairman.* labels on watched containers.');
  const watched = reg.gauge('repairman_watched_containers', 'Containers Repairman watches (in the namespace, not excluded).');
  const actions = reg.counter('repairman_actions_total', 'Actions on unhealthy containers other than a restart (on_unhealthy stop, kill or notify; dry runs included), by action.');
  const postActions = reg.counter('repairman_post_action_commands_total', 'Runs of the post-action command, by result (ok: exit 0; failed: another exit or not started; timeout: killed at its limit).');
  const paused = reg.gauge('repairman_paused', 'Maintenance pauses in force (repairman pause): scope="all" is 1 while every container is paused, scope="container" counts the paused names.');
  for (const action of ['stop', 'kill', 'notify']) actions.inc({ action }, 0);
  for (const result of ['ok', 'failed', 'timeout']) postActions.inc({ result }, 0);
  for (const scope of ['all', 'container']) paused.set(0, { scope });
  for (const reason of ['unhealthy', 'crashed', 'dependent']) restarts.inc({ reason }, 0);
  restartFailures.inc({}, 0);
  for (const kind of ['gap', 'longer']) waits.inc({ kind }, 0);
  giveUps.inc({}, 0);
  recoveries.inc({}, 0);
  engineUp.set(0);
  reconnects.inc({}, 0);
  checks.inc({}, 0);
  labelProblems.set(0);
  watched.set(0);
  return {
    restarts: { inc: (l) => restarts.inc(l) },
    restartFailures: { inc: () => restartFailures.inc() },
    skips: { inc: (l) => skips.inc(l) },
    waits: { inc: (l) => waits.inc(l) },
    giveUps: { inc: () => giveUps.inc() },
    recoveries: { inc: () => recoveries.inc() },
    engineUp: { set: (v) => engineUp.set(v) },
    eventStreamReconnects: { inc: () => reconnects.inc() },
    checkDurationSeconds: { set: (v) => checkDuration.set(v) },
    checks: { inc: () => checks.inc() },
    labelProblems: { set: (v) => labelProblems.set(v) },
    watchedContainers: { set: (v) => watched.set(v) },
    actions: { inc: (l) => actions.inc(l) },
    postActionCommands: { inc: (l) => postActions.inc(l) },
    paused: { set: (l, v) => paused.set(v, l) },
  };
}

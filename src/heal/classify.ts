// Which containers are candidates for healing (docs/behaviour.md §2.1, §2.2, §2.3), as pure functions of what the engine
// reports and what Repairman has seen. No I/O: the healer passes in an inspect result, the decoded
// policy and the facts only it knows (namespace, its own container id, a kill/stop seen before a die).
import { LABEL_PREFIX } from '../config/settings-table.js';
import type { ContainerPolicy } from '../config/types.js';
import { splitPrefixes } from '../dedupe/matcher.js';
import type { ContainerInspect, ContainerSummary } from '../docker/types.js';

export const SWARM_TASK_LABEL = 'com.docker.swarm.task.id';
export const COMPOSE_ONEOFF_LABEL = 'com.docker.compose.oneoff';

/** Why a container (or one of its states) is not healed. Stable: used as a metric label. */
export type SkipReason =
  // Static exclusions: the container is not watched at all.
  | 'outside_namespace'
  | 'swarm_task'
  | 'self'
  | 'autoheal_disabled'
  | 'compose_leftover'
  // States the engine (or a person) is handling.
  | 'paused'
  | 'restarting'
  | 'removing'
  | 'dead'
  // Exits that are not crashes, or crashes that are not Repairman's to handle.
  | 'deliberate_exit'
  | 'stopped_by_someone'
  | 'engine_restarts_it'
  | 'engine_health_action'
  | 'one_off'
  | 'auto_remove'
  | 'heal_exited_disabled'
  // A crash from before Repairman began watching, beyond heal_exited_lookback.
  | 'old_crash';

export type Classification =
  | { kind: 'unhealthy' }
  | { kind: 'crashed'; exitCode: number; oomKilled: boolean }
  /** It looks like trouble (or is excluded) but Repairman must leave it alone. */
  | { kind: 'skip'; reason: SkipReason; detail: string }
  /** Nothing wrong: running and not unhealthy, created, starting... */
  | { kind: 'none'; detail: string };

export interface ClassifyFacts {
  /** --namespace: only names starting with it. */
  namespace: string;
  /** This container is the one Repairman runs in. */
  isSelf: boolean;
  /** Repairman saw a `kill` or `stop` of it since its last start (someone stopped it on purpose). */
  deliberateStop: boolean;
  /**
   * Crashes count from `sinceMs` (UTC ms: when Repairman began watching, or the previous run was last
   * alive, minus heal_exited_lookback), or whenever Repairman saw the container alive or dying.
   * Absent: every crash counts.
   */
  crashWindow?: { sinceMs: number; sawItAlive: boolean };
}

/** Name without the engine's leading slash. */
export function bareName(name: string): string {
  return name.startsWith('/') ? name.slice(1) : name;
}

/**
 * The name Repairman uses for a listed container: its own name, not a link alias ("/other/alias"
 * entries appear in Names when other containers link to it).
 */
export function summaryName(c: Pick<ContainerSummary, 'Names' | 'Id'>): string {
  const names = Array.isArray(c.Names) ? c.Names : [];
  const own = names.find((n) => typeof n === 'string' && n.lastIndexOf('/') === 0) ?? names[0];
  return own ? bareName(own) : c.Id.slice(0, 12);
}

function truthyLabel(v: string | undefined): boolean {
  return v !== undefined && v.trim().toLowerCase() === 'true';
}

/**
 * Exclusions that depend only on the name, labels and policy (so a listing, without an inspect, can
 * tell them): outside the namespace, a Swarm task, Repairman itself, enable_autoheal=false.
 * Null when the container is watched.
 */
export function staticExclusion(
  name: string,
  labels: Record<string, string> | null | undefined,
  policy: Pick<ContainerPolicy, 'enableAutoheal'>,
  facts: Pick<ClassifyFacts, 'namespace' | 'isSelf'>,
): { reason: SkipReason; detail: string } | null {
  const l = labels ?? {};
  if (facts.namespace && !name.startsWith(facts.namespace)) {
    return { reason: 'outside_namespace', detail: `name does not start with the namespace "${facts.namespace}"` };
  }
  // `<12 hex>_name` is the name docker-compose gives the old container while it re-creates one:
  // starting or restarting it would bring back a stale copy beside the real one (docs/behaviour.md §4 removes it).
  if (splitPrefixes(name).prefixes.length > 0) {
    return { reason: 'compose_leftover', detail: 'a docker-compose leftover (hash-prefixed name); duplicate cleaning handles it' };
  }
  if (l[SWARM_TASK_LABEL] !== undefined) {
    return { reason: 'swarm_task', detail: 'a Swarm task (Swarm replaces it itself)' };
  }
  // Repairman's own container is left alone unless a label on it explicitly asks for healing: the
  // decoded policy alone cannot tell "true by default" from "true by label".
  if (facts.isSelf && !(policy.enableAutoheal && l[`${LABEL_PREFIX}enable_autoheal`] !== undefined)) {
    return { reason: 'self', detail: "Repairman's own container" };
  }
  if (!policy.enableAutoheal) {
    return { reason: 'autoheal_disabled', detail: 'enable_autoheal is false' };
  }
  return null;
}

/** Exit codes that mean "stopped on purpose" (docs/behaviour.md §2.2): 0, SIGINT, SIGTERM, SIGKILL without OOM. */
export function isDeliberateExit(exitCode: number, oomKilled: boolean): boolean {
  return exitCode === 0 || exitCode === 130 || exitCode === 143 || (exitCode === 137 && !oomKilled);
}

/** A kill or stop seen on a container since its last start (docs/behaviour.md §2.2). */
export interface DeliberateMark {
  atMs: number;
  action: string;
  /** The kill's signal as the engine gave it; null for a stop (or Repairman's own stop or kill). */
  signal: string | null;
  /** Repairman's own stop or kill (on_unhealthy): not "stopped by hand". */
  own?: boolean;
}

// Signals that mean "stop": a kill with another signal (HUP to reload...) marks a deliberate stop
// only for a short while, so a crash hours after a reload is still a crash.
const STOPPING_SIGNALS = new Set(['2', '3', '9', '15', 'SIGINT', 'SIGQUIT', 'SIGKILL', 'SIGTERM', 'INT', 'QUIT', 'KILL', 'TERM']);
const OTHER_SIGNAL_MARK_MS = 60_000;

/** Whether a kill or stop seen still makes the container's exit deliberate at `nowMs`. */
export function stopMarkHolds(mark: DeliberateMark, nowMs: number): boolean {
  if (mark.action === 'stop' || mark.signal === null || STOPPING_SIGNALS.has(mark.signal.toUpperCase())) return true;
  return nowMs - mark.atMs <= OTHER_SIGNAL_MARK_MS;
}

/** The engine restarts this exited container by itself (restart policy), so Repairman must not. */
export function engineWillRestart(inspect: Pick<ContainerInspect, 'HostConfig' | 'RestartCount'>): { yes: boolean; policy: string } {
  const rp = inspect.HostConfig?.RestartPolicy ?? { Name: '', MaximumRetryCount: 0 };
  const name = rp.Name || 'no';
  switch (name) {
    case 'no':
      return { yes: false, policy: name };
    case 'on-failure': {
      const max = rp.MaximumRetryCount ?? 0;
      // 0 retries = unlimited; otherwise the engine stops trying once RestartCount reaches it.
      if (max > 0 && (inspect.RestartCount ?? 0) >= max) return { yes: false, policy: `on-failure:${max} (retries used up)` };
      return { yes: true, policy: max > 0 ? `on-failure:${max}` : 'on-failure' };
    }
    default:
      // always, unless-stopped, and anything newer we do not know: trust the engine.
      return { yes: true, policy: name };
  }
}

/**
 * Podman's own --health-on-failure action (kill, restart, stop) when the container has one: Podman
 * acts on it as soon as it turns unhealthy, so a restart by Repairman would be a second one.
 */
export function engineHealthAction(inspect: Pick<ContainerInspect, 'Config'>): string | null {
  const action = inspect.Config?.HealthcheckOnFailureAction?.trim().toLowerCase();
  return action && action !== 'none' ? action : null;
}

/** Decide whether an inspected container is a healing candidate, and if not, why. */
export function classify(inspect: ContainerInspect, policy: ContainerPolicy, facts: ClassifyFacts): Classification {
  const name = bareName(inspect.Name);
  const labels = inspect.Config?.Labels ?? {};
  const excluded = staticExclusion(name, labels, policy, facts);
  if (excluded) return { kind: 'skip', ...excluded };

  const st = inspect.State;
  const status = st?.Status ?? '';
  if (status === 'removing') return { kind: 'skip', reason: 'removing', detail: 'being removed' };
  if (status === 'dead' || st?.Dead) return { kind: 'skip', reason: 'dead', detail: 'dead (the engine could not remove it)' };
  if (status === 'restarting' || st?.Restarting) return { kind: 'skip', reason: 'restarting', detail: 'the engine is restarting it' };

  const health = st?.Health?.Status ?? null;
  if (status === 'paused' || st?.Paused) {
    // Paused on purpose; a paused container's health is frozen and means nothing.
    return health === 'unhealthy' ? { kind: 'skip', reason: 'paused', detail: 'paused' } : { kind: 'none', detail: 'paused' };
  }
  if (status === 'running' || (st?.Running && status === '')) {
    if (health === 'unhealthy') {
      const own = engineHealthAction(inspect);
      if (own) return { kind: 'skip', reason: 'engine_health_action', detail: `Podman's --health-on-failure=${own} acts on it when it turns unhealthy` };
      return { kind: 'unhealthy' };
    }
    return { kind: 'none', detail: health ? `running (${health})` : 'running' };
  }
  if (status !== 'exited') return { kind: 'none', detail: status || 'unknown state' };

  const exitCode = st.ExitCode;
  const oomKilled = Boolean(st.OOMKilled);
  if (isDeliberateExit(exitCode, oomKilled)) {
    return { kind: 'skip', reason: 'deliberate_exit', detail: `exited with code ${exitCode} (a deliberate stop)` };
  }
  if (facts.deliberateStop) {
    return { kind: 'skip', reason: 'stopped_by_someone', detail: `stopped or killed on purpose (exit code ${exitCode})` };
  }
  const engine = engineWillRestart(inspect);
  if (engine.yes) {
    return { kind: 'skip', reason: 'engine_restarts_it', detail: `restart policy ${engine.policy}: the engine restarts it` };
  }
  if (truthyLabel(labels[COMPOSE_ONEOFF_LABEL])) {
    return { kind: 'skip', reason: 'one_off', detail: 'a compose one-off (docker compose run)' };
  }
  if (inspect.HostConfig?.AutoRemove) {
    return { kind: 'skip', reason: 'auto_remove', detail: 'started with --rm' };
  }
  if (!policy.healExited) {
    return { kind: 'skip', reason: 'heal_exited_disabled', detail: `crashed with code ${exitCode} but heal_exited is false` };
  }
  const w = facts.crashWindow;
  if (w && !w.sawItAlive) {
    // An unreadable time is old: starting a container nobody asked for is the worse mistake.
    const finishedMs = Date.parse(st.FinishedAt ?? '');
    if (!(finishedMs >= w.sinceMs)) {
      const when = Number.isFinite(finishedMs) ? new Date(finishedMs).toISOString() : `at an unknown time (${JSON.stringify(String(st.FinishedAt ?? '').slice(0, 40))})`;
      return {
        kind: 'skip', reason: 'old_crash',
        detail: `crashed with code ${exitCode} ${when}, before Repairman began watching; only crashes since ${new Date(w.sinceMs).toISOString()} count (heal_exited_lookback)`,
      };
    }
  }
  return { kind: 'crashed', exitCode, oomKilled };
}

/** "unhealthy", "crashed with exit code 3", "OOM killed": the reason people read. */
export function describeCandidate(c: Extract<Classification, { kind: 'unhealthy' | 'crashed' }>): string {
  if (c.kind === 'unhealthy') return 'unhealthy';
  if (c.oomKilled) return `OOM killed (exit code ${c.exitCode})`;
  return `crashed with exit code ${c.exitCode}`;
}

/** Health from a listing's Status text ("Up 3 minutes (unhealthy)"); null without a healthcheck. */
export function healthFromStatus(statusText: string): string | null {
  const m = /\((healthy|unhealthy|health: starting)\)/.exec(statusText ?? '');
  if (!m) return null;
  return m[1] === 'health: starting' ? 'starting' : (m[1] ?? null);
}

const AGE_UNITS: Record<string, number> = { second: 1, minute: 60, hour: 3600, day: 86_400, week: 604_800, month: 2_592_000, year: 31_536_000 };

/**
 * How long ago at least an exited container stopped, from the listing's Status text ("Exited (3)
 * 2 hours ago": 7200 s); null when the text does not say. The engine rounds down ("About an hour" is
 * 1-2 h, "3 weeks" is 21-28 days), so this never overstates the age.
 */
export function exitAgeAtLeastSec(statusText: string): number | null {
  const m = /^Exited \(-?\d+\) (.+) ago$/.exec(statusText ?? '');
  if (!m) return null;
  const ago = m[1]!.trim();
  if (ago === 'Less than a second') return 0;
  if (ago === 'About a minute') return 60;
  if (ago === 'About an hour') return 3600;
  const n = /^(\d+) (second|minute|hour|day|week|month|year)s?$/.exec(ago);
  return n ? Number(n[1]) * AGE_UNITS[n[2]!]! : null;
}

/** Exit code from a listing's Status text ("Exited (3) 5 seconds ago"); null when not shown. */
export function exitCodeFromStatus(statusText: string): number | null {
  const m = /^Exited \((-?\d+)\)/.exec(statusText ?? '');
  return m ? Number(m[1]) : null;
}

/** An event's action as verb and argument: `health_status: unhealthy` -> ['health_status', 'unhealthy']. */
export function splitEventAction(action: string): [string, string | undefined] {
  const i = action.indexOf(':');
  if (i < 0) return [action.trim(), undefined];
  return [action.slice(0, i).trim(), action.slice(i + 1).trim()];
}

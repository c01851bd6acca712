// Which events are sent at which level (docs/behaviour.md §5). Pure: the healer asks severityOf(kind) when it
// builds an event, and the notifier asks shouldSend(severity, level) with the level in force for that
// container (label notify_level over the global one, already resolved into NotifyEvent.level).
import type { JournalKind, Severity } from '../journal/types.js';

/**
 * The severity of every journal kind, in one table. The rows of docs/behaviour.md §5 are restart, duplicate_removed (debug),
 * multiple_failures, recovered (info), longer_wait, give_up, restart_failed, config_error (warning).
 * `wait`, `gone` and `reset` are not in the table of docs/behaviour.md §5: a wait is the quiet part of a restart (debug), and
 * so is a container removed during its wait (`gone`); the healer journals both and notifies neither. A
 * reset is a person's action worth telling the others about (info). `test` (notify-test) is always sent.
 */
export const SEVERITY_OF_KIND: Readonly<Record<JournalKind | 'test', Severity>> = {
  restart: 'debug',
  duplicate_removed: 'debug',
  wait: 'debug',
  gone: 'debug',
  multiple_failures: 'info',
  recovered: 'info',
  reset: 'info',
  longer_wait: 'warning',
  give_up: 'warning',
  restart_failed: 'warning',
  // docs/behaviour.md §9: a socket proxy refusing a call stops healing until the admin allows it.
  refused: 'warning',
  config_error: 'warning',
  // docs/behaviour.md §12: a stopped, killed or only-reported container stays down or unhealthy until a
  // person acts, so they are warnings; a hold is the quiet part of waiting (debug); pauses and resumes
  // are a person's actions like a reset (info); a post-action command that fails is the admin's script
  // broken (warning), one that works is routine (debug).
  stopped: 'warning',
  killed: 'warning',
  unhealthy: 'warning',
  held: 'debug',
  // The engine acts on it itself (Podman's --health-on-failure): nothing Repairman did to tell about.
  left_to_engine: 'debug',
  post_action: 'debug',
  post_action_failed: 'warning',
  pause: 'info',
  resume: 'info',
  test: 'warning',
};

export function severityOf(kind: JournalKind | 'test'): Severity {
  return SEVERITY_OF_KIND[kind];
}

/** The level a notification target is set to (DEFAULT_NOTIFY_LEVEL, the notify_level label). */
export type NotifyLevel = 'DEBUG' | 'INFO' | 'WARNING';

const SEVERITY_RANK: Readonly<Record<Severity, number>> = { debug: 0, info: 1, warning: 2 };
const LEVEL_RANK: Readonly<Record<NotifyLevel, number>> = { DEBUG: 0, INFO: 1, WARNING: 2 };

const LEVEL_WORDS: ReadonlyMap<string, NotifyLevel> = new Map<string, NotifyLevel>([
  ['debug', 'DEBUG'],
  ['info', 'INFO'],
  ['warning', 'WARNING'],
  ['warn', 'WARNING'],
  // ERROR is accepted as WARNING: warning is the highest severity Repairman sends.
  ['error', 'WARNING'],
]);

/** "debug", " Info ", "ERROR" -> the level; anything else -> undefined. The settings' parser uses these words too. */
export function normalizeLevel(raw: string): NotifyLevel | undefined {
  return LEVEL_WORDS.get(raw.trim().toLowerCase());
}

/** The default level (docs/behaviour.md §1) used when a level that should have been validated is not a level. */
export const DEFAULT_NOTIFY_LEVEL: NotifyLevel = 'INFO';

/** True when an event of this severity is sent at this level: severity at or above the level. */
export function shouldSend(severity: Severity, level: NotifyLevel | string): boolean {
  const resolved = normalizeLevel(level) ?? DEFAULT_NOTIFY_LEVEL;
  const rank = SEVERITY_RANK[severity];
  // An unknown severity (bad input from a future caller) is treated as the most important, never lost.
  return (rank ?? SEVERITY_RANK.warning) >= LEVEL_RANK[resolved];
}

import type { NotifyLevel } from './levels.js';
import type { JournalKind, Severity } from '../journal/types.js';

/** Everything a notification needs; built by healing, dedupe and label checks. */
export interface NotifyEvent {
  kind: JournalKind | 'test';
  /** Use severityOf(kind) from src/notify/levels.ts (the docs/behaviour.md §5 table). */
  severity: Severity;
  container: string;
  host: string;
  atMs: number;
  /** One sentence: what happened. */
  summary: string;
  /** Why: "unhealthy", "crashed with exit code 3", "OOM killed", a label problem... */
  reason?: string;
  /** What happens next and when, e.g. "next restart not before 2024-05-01 12:05:30 +02:00". */
  next?: string;
  healthOutput?: string;
  logLines?: string[];
  /** Routing, resolved from the container's policy (label over global). */
  urls: string[];
  level: NotifyLevel;
  /**
   * For repeated problems (config_error): what the problem is about, e.g. the label key. An event with
   * the same container, kind and dedupeKey is sent again only when its reason or summary changed.
   * Without it, reason and summary together are the key (an identical problem is sent once).
   */
  dedupeKey?: string;
}

export interface Notifier {
  /** Queue a message; never blocks, never throws. */
  send(event: NotifyEvent): void;
  /** Stop delivering; resolves when in-flight attempts are settled or abandoned. */
  close(): Promise<void>;
  /**
   * The container's repeated problems are gone (labels fixed, container removed): the same problem
   * appearing again is news again and will be sent. Optional so simple fakes need not implement it.
   */
  forget?(container: string): void;
}

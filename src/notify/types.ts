import type { NotifyLevel } from '../config/types.js';
import type { JournalKind, Severity } from '../journal/types.js';

/** Everything a notification needs; built by healing, dedupe and label checks. */
export interface NotifyEvent {
  kind: JournalKind | 'test';
  severity: Severity;
  container: string;
  host: string;
  atMs: number;
  /** One sentence: what happened. */
  summary: string;
  /** Why: "unhealthy", "crashed with exit code 3", "OOM killed", a label problem... */
  reason?: string;
  /** What happens next and when, e.g. "next restart not before 12:05:30 (Europe/Warsaw)". */
  next?: string;
  healthOutput?: string;
  logLines?: string[];
  /** Routing, resolved from the container's policy (label over global). */
  urls: string[];
  level: NotifyLevel;
}

export interface Notifier {
  /** Queue a message; never blocks, never throws. */
  send(event: NotifyEvent): void;
  /** Stop delivering; resolves when in-flight attempts are settled or abandoned. */
  close(): Promise<void>;
}

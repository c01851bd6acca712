// The journal: what happened to which container, newest kept per container.

export type JournalKind =
  | 'restart' // a restart (or start of a crashed container) was done
  | 'wait' // waiting for the gap between restarts
  | 'multiple_failures' // second or later restart while never recovered
  | 'longer_wait' // maximum restarts reached in the frame, waiting seconds_between_next_frame
  | 'give_up' // Admin, help: not touching this container any more
  | 'recovered' // healthy again
  | 'restart_failed'
  | 'duplicate_removed'
  | 'config_error'
  | 'reset'; // repairman reset NAME

export type Severity = 'debug' | 'info' | 'warning';

export interface JournalEntryInput {
  container: string; // name without leading slash
  kind: JournalKind;
  atMs: number; // UTC epoch ms
  message: string;
  /** Free-form facts (exit code, wait until, reason); never secrets. */
  details?: Record<string, unknown>;
}

export interface JournalEntry extends JournalEntryInput {
  num: number; // increasing id
}

// Applies what outcomes.ts decides: appends the journal entries (a failed write is logged, healing goes
// on) and sends the notifications, with the container's last log lines where they belong.
import { errorMessage } from '../errors.js';
import type { JournalEntryInput } from '../journal/types.js';
import type { HealContext } from './context.js';
import { trimLogLines } from './messages.js';
import { outcomeRecord, type HealOutcome, type OutcomeRecord, type OutcomeSubject, type PlannedNotification } from './outcomes.js';

const LOGS_TIMEOUT_MS = 5_000;

/** The container's log lines for a notification: a fetch under way, a container id to fetch them, or none. */
export type LogSource = Promise<string[] | undefined> | string | null;

export class OutcomeReporter {
  constructor(private readonly ctx: HealContext) {}

  /** The entries and notifications of an outcome, now. */
  recordOf(subject: OutcomeSubject, outcome: HealOutcome, nowMs = this.ctx.clock.now()): OutcomeRecord {
    return outcomeRecord(subject, outcome, { host: this.ctx.host, timeZone: this.ctx.timeZone, nowMs });
  }

  /** Journal and notify an outcome (logs: for the notifications that carry them). */
  report(subject: OutcomeSubject, outcome: HealOutcome, logs: LogSource = null): void {
    const record = this.recordOf(subject, outcome);
    this.append(subject, record.entries);
    for (const n of record.notifications) this.notify(n, logs);
  }

  /** Each entry on its own: one that fails is logged and the others are still written. */
  append(subject: OutcomeSubject, entries: readonly JournalEntryInput[]): void {
    for (const e of entries) {
      if (this.ctx.work.stopped) return;
      try {
        this.ctx.journal.append(e, subject.policy.maxHistoricEntries);
      } catch (err) {
        this.ctx.log.error('could not write the journal', { container: subject.name, kind: e.kind, error: errorMessage(err) });
      }
    }
  }

  /** Send a planned notification (never while stopping), with log lines when it wants them. */
  notify(n: PlannedNotification, logs: LogSource): void {
    if (this.ctx.work.stopped) return;
    if (!n.withLogs || logs === null) {
      this.ctx.notifier.send(n.event);
      return;
    }
    const lines = typeof logs === 'string' ? this.fetchLogs(logs) : logs;
    this.ctx.work.add(lines.then((logLines) => {
      if (!this.ctx.work.stopped) this.ctx.notifier.send(logLines && logLines.length ? { ...n.event, logLines } : n.event);
    }));
  }

  fetchLogs(id: string): Promise<string[] | undefined> {
    // Not AbortSignal.any([stop signal, AbortSignal.timeout(...)]): on Node 20 each composite leaves an
    // entry in the long-lived stop signal's set of dependants that is never pruned (nodejs/node#55351),
    // one per notification for as long as Repairman runs. A controller of its own, unhooked from the
    // stop signal when the call ends, leaves nothing behind.
    const stopSignal = this.ctx.work.signal;
    const ctl = new AbortController();
    const onStop = (): void => ctl.abort(stopSignal.reason);
    const timer = setTimeout(() => ctl.abort(new DOMException('The container log took too long', 'TimeoutError')), LOGS_TIMEOUT_MS);
    timer.unref();
    if (stopSignal.aborted) onStop();
    else stopSignal.addEventListener('abort', onStop, { once: true });
    return this.ctx.engine.logs(id, { tail: 10, signal: ctl.signal }).then(
      (r) => trimLogLines(r.lines.map((l) => l.text)),
      (err: unknown) => {
        this.ctx.log.debug('could not read the container log for a notification', { id: id.slice(0, 12), error: errorMessage(err) });
        return undefined;
      },
    ).finally(() => {
      clearTimeout(timer);
      stopSignal.removeEventListener('abort', onStop);
    });
  }

  /**
   * Runs journal writes in one transaction when the journal can (the app's can). False, with the
   * error logged, when it failed: then none of its writes happened.
   */
  atomically(name: string, fn: () => void): boolean {
    try {
      if (this.ctx.journal.batch) this.ctx.journal.batch(fn);
      else fn();
      return true;
    } catch (err) {
      this.ctx.log.error('could not write the journal', { container: name, error: errorMessage(err) });
      return false;
    }
  }
}

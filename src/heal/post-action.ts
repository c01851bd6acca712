// post_action_command (docs/behaviour.md §12): the admin's command, run by /bin/sh after each action
// with the event in REPAIRMAN_* variables. It never delays healing: it runs beside it (never awaited by
// the healer), in a process group of its own so the time limit and Repairman's stop kill all of it,
// and only its last output lines are kept. Global only (settings table): never read from a label.
import { spawn, type ChildProcess } from 'node:child_process';
import { errorMessage } from '../errors.js';
import type { HealContext } from './context.js';
import type { OutcomeReporter } from './reporter.js';
import type { TrackedContainer } from './tracking.js';

/** Output lines journaled (the last ones), and the most kept of any one line. */
export const POST_ACTION_LINES = 10;
const MAX_LINE_CHARS = 500;

export interface PostActionEvent {
  action: 'restart' | 'start' | 'stop' | 'kill' | 'notify';
  reason: string;
  result: 'ok' | 'failed';
}

export class PostActionRunner {
  /** Commands running now, so stop() can kill their process groups. */
  private readonly running = new Set<ChildProcess>();

  constructor(
    private readonly ctx: HealContext,
    private readonly reporter: OutcomeReporter,
  ) {}

  get enabled(): boolean {
    return this.ctx.settings.postActionCommand.trim() !== '' && !this.ctx.settings.dryRun;
  }

  /** Starts the command for this action and returns at once; its end is journaled. */
  run(t: TrackedContainer, id: string, event: PostActionEvent): void {
    if (!this.enabled || this.ctx.work.stopped) return;
    const startedMs = this.ctx.clock.now();
    const env = {
      ...process.env,
      REPAIRMAN_CONTAINER: t.name,
      REPAIRMAN_ID: id,
      REPAIRMAN_ACTION: event.action,
      REPAIRMAN_REASON: event.reason,
      REPAIRMAN_RESULT: event.result,
    };
    let child: ChildProcess;
    try {
      child = spawn('/bin/sh', ['-c', this.ctx.settings.postActionCommand], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      this.finish(t, event, startedMs, { result: 'failed', exitCode: null, signal: null, lines: [], error: errorMessage(err) });
      return;
    }
    this.running.add(child);
    const lines = new LastLines(POST_ACTION_LINES);
    child.stdout?.on('data', (chunk: Buffer) => lines.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => lines.push(chunk));
    let timedOut = false;
    const limit = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, this.ctx.settings.postActionTimeoutSec * 1000);
    let spawnError: string | undefined;
    child.on('error', (err) => {
      spawnError = errorMessage(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(limit);
      this.running.delete(child);
      if (this.ctx.work.stopped) return;
      const result = timedOut ? 'timeout' : code === 0 && !spawnError ? 'ok' : 'failed';
      this.finish(t, event, startedMs, { result, exitCode: code, signal, lines: lines.done(), ...(spawnError !== undefined ? { error: spawnError } : {}) });
    });
  }

  /** Repairman stops: every command still running is killed with its process group. */
  stop(): void {
    for (const child of this.running) killGroup(child);
    this.running.clear();
  }

  private finish(
    t: TrackedContainer,
    event: PostActionEvent,
    startedMs: number,
    end: { result: 'ok' | 'failed' | 'timeout'; exitCode: number | null; signal: string | null; lines: string[]; error?: string },
  ): void {
    const ms = this.ctx.clock.now() - startedMs;
    this.ctx.metrics.postActionCommands.inc({ result: end.result });
    const fields = { container: t.name, action: event.action, result: end.result, exitCode: end.exitCode, signal: end.signal, ms };
    if (end.result === 'ok') this.ctx.log.info('post-action command done', fields);
    else this.ctx.log.warn('post-action command failed', { ...fields, error: end.error });
    this.reporter.report(t, {
      kind: 'post_action',
      action: event.action,
      result: end.result,
      exitCode: end.exitCode,
      signal: end.signal,
      ms,
      lastLines: end.lines,
      ...(end.error !== undefined ? { error: end.error } : {}),
    });
  }
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    // The negative pid is the process group (detached: the shell leads its own group).
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

/** The last n lines of a stream, without keeping the rest. */
class LastLines {
  private readonly lines: string[] = [];
  private partial = '';

  constructor(private readonly n: number) {}

  push(chunk: Buffer): void {
    const parts = (this.partial + chunk.toString('utf8')).split('\n');
    this.partial = (parts.pop() ?? '').slice(-MAX_LINE_CHARS);
    for (const line of parts) this.add(line);
  }

  done(): string[] {
    if (this.partial !== '') this.add(this.partial);
    this.partial = '';
    return [...this.lines];
  }

  private add(line: string): void {
    const text = line.replace(/\r$/, '').slice(0, MAX_LINE_CHARS);
    if (text.trim() === '') return;
    this.lines.push(text);
    if (this.lines.length > this.n) this.lines.shift();
  }
}

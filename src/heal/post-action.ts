// post_action_command (docs/behaviour.md §12): the admin's command, run by /bin/sh after each action
// with the event in REPAIRMAN_* variables. It never delays healing: it runs beside it (never awaited by
// the healer), in a process group of its own so the time limit and Repairman's stop kill all of it,
// and only its last output lines are kept (src/util/external-command.ts). Global only (settings
// table): never read from a label.
import { runExternalCommand, type CommandEnd, type ExternalCommand } from '../util/external-command.js';
import type { HealContext } from './context.js';
import type { OutcomeReporter } from './reporter.js';
import type { TrackedContainer } from './tracking.js';

/** Output lines journaled (the last ones). */
export const POST_ACTION_LINES = 10;

export interface PostActionEvent {
  action: 'restart' | 'start' | 'stop' | 'kill' | 'notify';
  reason: string;
  result: 'ok' | 'failed';
}

/** The command as it runs: a shell line, the event in the environment (where willfarrell's script has arguments). */
export function postActionCommand(shellLine: string, container: string, id: string, event: PostActionEvent): ExternalCommand {
  return {
    file: '/bin/sh',
    args: ['-c', shellLine],
    env: {
      REPAIRMAN_CONTAINER: container,
      REPAIRMAN_ID: id,
      REPAIRMAN_ACTION: event.action,
      REPAIRMAN_REASON: event.reason,
      REPAIRMAN_RESULT: event.result,
    },
    capture: 'stdout+stderr',
  };
}

export class PostActionRunner {
  constructor(
    private readonly ctx: HealContext,
    private readonly reporter: OutcomeReporter,
  ) {}

  get enabled(): boolean {
    return this.ctx.settings.postActionCommand.trim() !== '' && !this.ctx.settings.dryRun;
  }

  /** Starts the command for this action and returns at once; its end is journaled. Healer.stop() kills it (the work signal). */
  run(t: TrackedContainer, id: string, event: PostActionEvent): void {
    if (!this.enabled || this.ctx.work.stopped) return;
    const startedMs = this.ctx.clock.now();
    const cmd = postActionCommand(this.ctx.settings.postActionCommand, t.name, id, event);
    void runExternalCommand(cmd, { limitMs: this.ctx.settings.postActionTimeoutSec * 1000, signal: this.ctx.work.signal, tailLines: POST_ACTION_LINES }).then((end) => {
      if (end.result === 'aborted' || this.ctx.work.stopped) return;
      this.finish(t, event, startedMs, { ...end, result: end.result });
    });
  }

  private finish(
    t: TrackedContainer,
    event: PostActionEvent,
    startedMs: number,
    end: CommandEnd & { result: 'ok' | 'failed' | 'timeout' },
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

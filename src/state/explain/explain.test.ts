// `explain` (docs/behaviour.md §11): one exact sentence for every reason a container is left alone, and
// what happens next and when, from plain facts and an explicit clock (UTC).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { initialBudget, type BudgetState } from '../../budget/budget.js';
import { decodeLabels, type LabelContext } from '../../config/labels.js';
import type { SourceInfo } from '../../config/load.js';
import { defaultSettings } from '../../config/settings-table.js';
import type { ContainerPolicy, GlobalSettings } from '../../config/types.js';
import type { ContainerInspect } from '../../docker/types.js';
import type { PauseMark } from '../../journal/types.js';
import { explain, problemSentence, settingText } from './explain.js';
import { renderExplanation } from './render.js';
import type { CrashWindow, ExplainFacts, Explanation } from './types.js';

const NOW = Date.UTC(2026, 11, 3, 10, 0, 0);
const S = 1000;
const ID = 'c'.repeat(64);

interface Shape {
  name?: string;
  status?: string;
  health?: string;
  exitCode?: number;
  finishedAtMs?: number;
  restart?: string;
  autoRemove?: boolean;
  labels?: Record<string, string>;
  onFailure?: string;
}

function inspect(s: Shape = {}): ContainerInspect {
  const status = s.status ?? 'running';
  return {
    Id: ID,
    Name: `/${s.name ?? 'web'}`,
    Created: '2026-12-01T00:00:00Z',
    State: {
      Status: status, Running: status === 'running', Paused: status === 'paused', Restarting: false, OOMKilled: false, Dead: false, Pid: 1,
      ExitCode: s.exitCode ?? 0, Error: '', StartedAt: '2026-12-03T09:00:00Z',
      FinishedAt: s.finishedAtMs === undefined ? '0001-01-01T00:00:00Z' : new Date(s.finishedAtMs).toISOString(),
      ...(s.health ? { Health: { Status: s.health, FailingStreak: 0, Log: [] } } : {}),
    },
    RestartCount: 0,
    Config: { Image: 'busybox', Hostname: 'x', Labels: s.labels ?? {}, ...(s.onFailure ? { HealthcheckOnFailureAction: s.onFailure } : {}) },
    HostConfig: { RestartPolicy: { Name: s.restart ?? 'no', MaximumRetryCount: 0 }, AutoRemove: s.autoRemove ?? false },
  };
}

interface Setup {
  shape?: Shape | null;
  settings?: Partial<GlobalSettings>;
  defaults?: Partial<ContainerPolicy>;
  sources?: Record<string, SourceInfo>;
  labelContext?: LabelContext;
  budget?: BudgetState | null;
  pauses?: PauseMark[];
  isSelf?: boolean;
  deliberateStop?: boolean;
  ownStop?: boolean;
  crashWindow?: Partial<CrashWindow>;
  unhealthySinceMs?: number | null;
  asked?: string;
  knownNames?: string[];
}

function facts(x: Setup = {}): ExplainFacts {
  const settings = { ...defaultSettings(), ...x.settings };
  settings.defaults = { ...settings.defaults, ...x.defaults };
  const info = x.shape === null ? null : inspect(x.shape);
  const name = info ? info.Name.slice(1) : (x.asked ?? 'web');
  return {
    asked: x.asked ?? name,
    source: { kind: 'instance', where: 'the running instance' },
    inspect: info,
    knownNames: x.knownNames ?? [],
    settings,
    sources: x.sources ?? {},
    decoded: decodeLabels(name, info?.Config.Labels ?? {}, settings.defaults, x.labelContext ?? { autohealLabel: settings.autohealLabel }),
    isSelf: x.isSelf ?? false,
    deliberateStop: x.deliberateStop ?? false,
    ownStop: x.ownStop ?? false,
    crashWindow: { sinceMs: NOW - 360 * S, fromMs: NOW - 60 * S, basis: 'watching', sawItAlive: false, ...x.crashWindow },
    unhealthySinceMs: x.unhealthySinceMs ?? null,
    budget: x.budget === undefined ? initialBudget() : x.budget,
    pauses: x.pauses ?? [],
    dependencies: { providers: [], dependents: [] },
  };
}

const run = (x: Setup = {}): Explanation => explain(facts(x), { nowMs: NOW, timeZone: 'UTC' });

function budget(over: Partial<BudgetState>): BudgetState {
  return { ...initialBudget(), ...over };
}

describe('explain: the reasons a container is left alone, each with its sentence', () => {
  const cases: { what: string; setup: Setup; reason: string; sentence: string; next?: string; watched?: boolean }[] = [
    {
      what: 'opt-out label (our own)',
      setup: { shape: { health: 'unhealthy', labels: { 'org.riotkit.repairman.enable_autoheal': 'false' } } },
      reason: 'opted_out',
      sentence: 'Left alone: its label org.riotkit.repairman.enable_autoheal="false" opts it out.',
      next: 'Nothing, whatever its state, while the label says so.',
    },
    {
      what: "autoheal=False under willfarrell's AUTOHEAL_CONTAINER_LABEL=all",
      setup: {
        shape: { health: 'unhealthy', labels: { autoheal: 'False' } },
        settings: { autohealLabel: 'all' },
        sources: { enable_autoheal: { source: 'compat env', name: 'AUTOHEAL_CONTAINER_LABEL' } },
      },
      reason: 'opted_out',
      sentence: 'Left alone: its label autoheal="False" opts it out (willfarrell/docker-autoheal\'s rule, any case).',
    },
    {
      what: 'opt-in mode without an opt-in label',
      setup: { shape: {}, defaults: { enableAutoheal: false }, sources: { enable_autoheal: { source: 'env', name: 'DEFAULT_ENABLE_AUTO_HEAL' } } },
      reason: 'not_opted_in',
      sentence: 'Left alone: healing is opt-in here (enable_autoheal=false from env DEFAULT_ENABLE_AUTO_HEAL) and no label opts it in.',
      next: 'Nothing until it carries the label org.riotkit.repairman.enable_autoheal=true (or deunhealth.restart.on.unhealthy=true).',
    },
    {
      what: 'outside the namespace',
      setup: { shape: { name: 'web' }, settings: { namespace: 'prod-' } },
      reason: 'outside_namespace',
      sentence: 'Left alone: its name does not start with the namespace "prod-" (--namespace), so Repairman does not watch it.',
    },
    {
      what: 'paused with docker pause (while unhealthy)',
      setup: { shape: { status: 'paused', health: 'unhealthy' } },
      reason: 'paused',
      sentence: 'Left alone: it is paused (docker pause); Repairman never touches a paused container.',
      next: 'After docker unpause web, Repairman looks at it again (at once if it is unhealthy).',
      watched: true,
    },
    {
      what: 'paused with repairman pause --for 30m',
      setup: { shape: { health: 'unhealthy' }, pauses: [{ container: 'web', untilMs: NOW + 1800 * S, atMs: NOW - 60 * S }] },
      reason: 'maintenance',
      sentence: 'Left alone: paused for maintenance (repairman pause) until 2026-12-03 10:30:00 UTC (in 30m 0s).',
      next: 'No action on it until 2026-12-03 10:30:00 UTC or repairman resume web; then Repairman looks at it again.',
      watched: true,
    },
    {
      what: 'every container paused until resumed',
      setup: { shape: {}, pauses: [{ container: '*', untilMs: null, atMs: NOW - 60 * S }, { container: 'web', untilMs: NOW - S, atMs: NOW - 90 * S }] },
      reason: 'maintenance',
      sentence: 'Left alone: every container is paused for maintenance (repairman pause without a NAME) until resumed.',
      next: 'No action on it until repairman resume; then Repairman looks at it again.',
      watched: true,
    },
    {
      what: 'a Swarm task',
      setup: { shape: { status: 'exited', exitCode: 3, labels: { 'com.docker.swarm.task.id': 'abc123' } } },
      reason: 'swarm_task',
      sentence: 'Left alone: it is a Swarm task (label com.docker.swarm.task.id="abc123"); Swarm replaces its tasks itself.',
    },
    {
      what: 'a compose one-off',
      setup: { shape: { status: 'exited', exitCode: 3, finishedAtMs: NOW - 10 * S, labels: { 'com.docker.compose.oneoff': 'True' } } },
      reason: 'one_off',
      sentence: 'Left alone: it is a compose one-off (docker compose run, label com.docker.compose.oneoff="True") and exited with code 3; one-offs are never started again.',
      watched: true,
    },
    {
      what: 'started with --rm',
      setup: { shape: { status: 'exited', exitCode: 3, finishedAtMs: NOW - 10 * S, autoRemove: true } },
      reason: 'auto_remove',
      sentence: 'Left alone: it was started with --rm and exited with code 3; the engine removes it.',
      watched: true,
    },
    {
      what: 'an old crash (before Repairman began watching)',
      setup: { shape: { status: 'exited', exitCode: 3, finishedAtMs: NOW - 7200 * S } },
      reason: 'old_crash',
      sentence: 'Left alone: it crashed with exit code 3 at 2026-12-03 08:00:00 UTC, before the look-back: only crashes since 2026-12-03 09:54:00 UTC count (heal_exited_lookback=300 s before Repairman began watching at 2026-12-03 09:59:00 UTC).',
      next: "Nothing until someone starts it; then Repairman watches it again; a host's old crashes are never started just because Repairman was installed.",
      watched: true,
    },
    {
      what: 'an old crash read from the journal file (last alive)',
      setup: { shape: { status: 'exited', exitCode: 3, finishedAtMs: NOW - 7200 * S }, crashWindow: { sinceMs: NOW - 3900 * S, fromMs: NOW - 3600 * S, basis: 'last_alive' } },
      reason: 'old_crash',
      sentence: 'Left alone: it crashed with exit code 3 at 2026-12-03 08:00:00 UTC, before the look-back: only crashes since 2026-12-03 08:55:00 UTC count (heal_exited_lookback=300 s before a Repairman on this journal was last alive at 2026-12-03 09:00:00 UTC).',
      watched: true,
    },
    {
      what: 'given up',
      setup: {
        shape: { health: 'unhealthy', labels: { 'org.riotkit.repairman.max_checks_to_give_up': '3' } },
        budget: budget({ givenUp: true, givenUpAtMs: NOW - 600 * S, streak: 3, lastRestartMs: NOW - 600 * S, restartsMs: [NOW - 600 * S] }),
      },
      reason: 'given_up',
      sentence: 'Left alone: Repairman gave up at 2026-12-03 09:50:00 UTC after 3 restarts in a row without recovery (max_checks_to_give_up=3).',
      next: 'Nothing until it recovers (healthy, or running for a whole frame) or someone runs: repairman reset web',
      watched: true,
    },
    {
      what: 'waiting for the gap between restarts',
      setup: { shape: { health: 'unhealthy' }, budget: budget({ waitUntilMs: NOW + 12 * S, lastRestartMs: NOW - 3 * S, restartsMs: [NOW - 3 * S], streak: 1 }) },
      reason: 'waiting',
      sentence: 'Waiting: it is unhealthy; seconds_between_restarts=15 s after the last restart at 2026-12-03 09:59:57 UTC keeps the next one until 2026-12-03 10:00:12 UTC (in 12s).',
      next: 'At 2026-12-03 10:00:12 UTC Repairman restarts it if it is still unhealthy.',
      watched: true,
    },
    {
      what: 'the longer wait after the frame limit',
      setup: {
        shape: { status: 'exited', exitCode: 3, finishedAtMs: NOW - 5 * S },
        crashWindow: { sawItAlive: true },
        budget: budget({ longerWaitStartedMs: NOW - 60 * S, lastRestartMs: NOW - 80 * S, restartsMs: [NOW - 100 * S, NOW - 80 * S], streak: 2, limitReachedInStreak: true }),
      },
      reason: 'longer_wait',
      sentence: "Waiting: it crashed with exit code 3, and the frame's limit was reached (max_restarts_in_frame=2 in 300 s); the longer wait (seconds_between_next_frame=600 s) ends at 2026-12-03 10:09:00 UTC (in 9m 0s).",
      next: 'At 2026-12-03 10:09:00 UTC Repairman starts it if it is still exited, in a new frame.',
      watched: true,
    },
    {
      what: 'unhealthy_for not reached yet',
      setup: { shape: { health: 'unhealthy', labels: { 'org.riotkit.repairman.unhealthy_for': '2m' } }, unhealthySinceMs: NOW - 30 * S },
      reason: 'unhealthy_for',
      sentence: 'Waiting: it has been unhealthy since 2026-12-03 09:59:30 UTC; unhealthy_for=120 s holds any action until 2026-12-03 10:01:30 UTC (in 1m 30s).',
      next: 'At 2026-12-03 10:01:30 UTC Repairman restarts it unless it has recovered.',
      watched: true,
    },
    {
      what: 'a bad enable_autoheal label',
      setup: { shape: { health: 'unhealthy', labels: { 'org.riotkit.repairman.enable_autoheal': 'maybe' } } },
      reason: 'bad_label',
      sentence: 'Left alone: its label org.riotkit.repairman.enable_autoheal="maybe" is not valid (expected true/false, yes/no, y/n, 1/0 or on/off (any case)), so enable_autoheal is false for it: a typo never switches healing on.',
      next: 'Nothing until the label is fixed (see: repairman check-labels web).',
    },
    {
      what: 'stopped by hand (docker stop: SIGTERM)',
      setup: { shape: { status: 'exited', exitCode: 143, finishedAtMs: NOW - 5 * S } },
      reason: 'stopped_by_hand',
      sentence: 'Left alone: it was stopped by hand (exit code 143, SIGTERM: docker stop); Repairman starts only crashed containers.',
      next: 'Nothing until someone starts it; then Repairman watches it again.',
      watched: true,
    },
    {
      what: 'stopped by hand, seen by the running instance (exit code 3 after a stop)',
      setup: { shape: { status: 'exited', exitCode: 3, finishedAtMs: NOW - 5 * S }, deliberateStop: true },
      reason: 'stopped_by_hand',
      sentence: 'Left alone: it was stopped by hand (Repairman saw a docker stop or kill before it exited with code 3); Repairman never starts a container someone stopped.',
      watched: true,
    },
    {
      what: "Repairman's own on_unhealthy=stop (SIGTERM: exit code 143), not a person's",
      setup: { shape: { status: 'exited', exitCode: 143, finishedAtMs: NOW - 5 * S, labels: { 'org.riotkit.repairman.on_unhealthy': 'stop' } }, deliberateStop: true, ownStop: true },
      reason: 'stopped_by_repairman',
      sentence: 'Left alone: Repairman stopped it itself when it turned unhealthy (on_unhealthy=stop, exit code 143); it stays down on purpose.',
      next: 'Nothing until someone starts it; then Repairman watches it again.',
      watched: true,
    },
    {
      what: "Repairman's own on_unhealthy=kill of a container whose code says nothing (exit code 3)",
      setup: { shape: { status: 'exited', exitCode: 3, finishedAtMs: NOW - 5 * S, labels: { 'org.riotkit.repairman.on_unhealthy': 'kill' } }, deliberateStop: true, ownStop: true },
      reason: 'stopped_by_repairman',
      sentence: 'Left alone: Repairman killed it itself when it turned unhealthy (on_unhealthy=kill, exit code 3); it stays down on purpose.',
      watched: true,
    },
    {
      what: 'exited with code 0',
      setup: { shape: { status: 'exited', exitCode: 0, finishedAtMs: NOW - 5 * S } },
      reason: 'stopped_by_hand',
      sentence: 'Left alone: it exited with code 0 (finished, or stopped on purpose); Repairman starts only crashed containers.',
      watched: true,
    },
    {
      what: 'the engine restart policy handles it',
      setup: { shape: { status: 'exited', exitCode: 3, finishedAtMs: NOW - 5 * S, restart: 'unless-stopped' } },
      reason: 'engine_restarts_it',
      sentence: 'Left alone: its restart policy unless-stopped makes the engine restart it; Repairman does not start it too.',
      next: 'The engine restarts it.',
      watched: true,
    },
    {
      what: "Podman's --health-on-failure",
      setup: { shape: { health: 'unhealthy', onFailure: 'restart' } },
      reason: 'engine_health_action',
      sentence: "Left alone: Podman's --health-on-failure=restart acts on it when it turns unhealthy; Repairman leaves it to Podman.",
      next: 'Podman acts on it.',
      watched: true,
    },
    {
      what: 'no health check',
      setup: { shape: {} },
      reason: 'no_healthcheck',
      sentence: 'Watched, nothing to do: it is running and has no health check, so only a crash can show trouble.',
      next: 'If it crashes (a non-zero exit code, not stopped by someone), Repairman starts it (heal_exited=true).',
      watched: true,
    },
    {
      what: "Repairman's own container",
      setup: { shape: { name: 'repairman', health: 'healthy' }, isSelf: true },
      reason: 'self',
      sentence: "Left alone: this is Repairman's own container.",
      next: 'Nothing, unless a label org.riotkit.repairman.enable_autoheal=true on it asks for healing.',
    },
    {
      what: 'heal_exited=false',
      setup: { shape: { status: 'exited', exitCode: 3, finishedAtMs: NOW - 5 * S }, defaults: { healExited: false }, sources: { heal_exited: { source: 'switch', name: '--no-heal-exited' } } },
      reason: 'heal_exited_disabled',
      sentence: 'Left alone: it crashed with exit code 3, but heal_exited is false for it (switch --no-heal-exited); only unhealthy containers are acted on.',
      watched: true,
    },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const e = run(c.setup);
      assert.equal(e.sentence, c.sentence);
      assert.equal(e.reason, c.reason);
      if (c.next !== undefined) assert.equal(e.next, c.next);
      assert.equal(e.watched, c.watched ?? false, 'watched');
    });
  }

  it('an unknown name, with "did you mean"', () => {
    const e = run({ shape: null, asked: 'wev', knownNames: ['db', 'web'] });
    assert.equal(e.verdict, 'unknown');
    assert.equal(e.sentence, 'Unknown: no container is named "wev" (did you mean web?).');
    assert.equal(e.suggestion, 'web');
    const far = run({ shape: null, asked: 'zzzzzz', knownNames: ['db', 'web'] });
    assert.equal(far.sentence, 'Unknown: no container is named "zzzzzz".');
  });
});

describe('explain: what it does, and from which settings', () => {
  it('unhealthy now: acts, and says so', () => {
    const e = run({ shape: { health: 'unhealthy' } });
    assert.equal(e.verdict, 'acts');
    assert.equal(e.sentence, 'Acting: it is unhealthy, and Repairman restarts it.');
    assert.equal(e.next, 'Repairman restarts it now, under its restart budget.');
    const f = facts({ shape: { health: 'unhealthy' } });
    f.source = { kind: 'standalone', where: 'the engine and /data/r.db' };
    assert.equal(explain(f, { nowMs: NOW, timeZone: 'UTC' }).next, 'A running Repairman restarts it at once, under its restart budget.');
  });

  it('a crash seen while watching: starts it', () => {
    const e = run({ shape: { status: 'exited', exitCode: 3, finishedAtMs: NOW - 7200 * S }, crashWindow: { sawItAlive: true } });
    assert.equal(e.sentence, 'Acting: it crashed with exit code 3, and Repairman starts it.');
  });

  it('healthy: nothing to do, and what happens when it turns unhealthy (on_unhealthy from a label)', () => {
    const e = run({ shape: { health: 'healthy', labels: { 'org.riotkit.repairman.on_unhealthy': 'stop' } } });
    assert.equal(e.sentence, 'Watched, nothing to do: it is running and healthy.');
    assert.equal(e.next, 'If it turns unhealthy, Repairman stops it at once; if it crashes (a non-zero exit code, not stopped by someone), Repairman starts it (heal_exited=true).');
    const on = e.settings.find((s) => s.key === 'on_unhealthy');
    assert.deepEqual(on, { key: 'on_unhealthy', value: 'stop', source: 'label', from: 'org.riotkit.repairman.on_unhealthy' });
  });

  it('each deciding setting says where it came from: label, compat label, switch, env, compat env, default, bad label', () => {
    const e = run({
      shape: { health: 'healthy', labels: { 'org.riotkit.repairman.max_restarts_in_frame': 'abc', 'autoheal.stop.timeout': '20', autoheal: 'true' } },
      settings: { namespace: 'we', autohealLabel: 'autoheal' },
      defaults: { enableAutoheal: false, secondsBetweenRestarts: 20 },
      labelContext: { autohealLabel: 'autoheal' },
      sources: {
        namespace: { source: 'switch', name: '--namespace' },
        autoheal_label: { source: 'compat env', name: 'AUTOHEAL_* (label default autoheal)' },
        enable_autoheal: { source: 'compat env', name: 'AUTOHEAL_* (label default autoheal)' },
        seconds_between_restarts: { source: 'env', name: 'DEFAULT_SECONDS_BETWEEN_RESTARTS' },
      },
    });
    const text = e.settings.map(settingText);
    assert.ok(text.includes('namespace="we" (switch --namespace)'), text.join('\n'));
    assert.ok(text.includes('autoheal_label=autoheal (compat env AUTOHEAL_* (label default autoheal))'), text.join('\n'));
    assert.ok(text.includes('enable_autoheal=true (compat label autoheal)'), text.join('\n'));
    assert.ok(text.includes('seconds_between_restarts=20 (env DEFAULT_SECONDS_BETWEEN_RESTARTS)'), text.join('\n'));
    assert.ok(text.includes('max_restarts_in_frame=2 (bad label org.riotkit.repairman.max_restarts_in_frame)'), text.join('\n'));
    assert.ok(text.includes('frame_size_in_seconds=300 (default)'), text.join('\n'));
    assert.equal(e.watched, true);
    // The bad label: which, what value, what is used instead.
    assert.deepEqual(e.labelProblems.map(problemSentence), [
      'Bad label org.riotkit.repairman.max_restarts_in_frame="abc": expected a whole number from 0 to 1000000; using 2 (global).',
    ]);
  });

  it('budget, providers and dependents in the text; the source it was read from', () => {
    const f = facts({ shape: { health: 'healthy' }, budget: budget({ restartsMs: [NOW - 100 * S], lastRestartMs: NOW - 100 * S, streak: 0 }) });
    f.dependencies = { providers: [{ name: 'db', kinds: ['network'] }], dependents: [{ name: 'worker', kinds: ['label', 'compose'] }] };
    const e = explain(f, { nowMs: NOW, timeZone: 'UTC' });
    assert.equal(e.budgetText, 'ok; 1 of 2 restarts in the 300 s frame; 0 in a row without recovery (gives up at 50)');
    const text = renderExplanation(e, { from: 'the running instance at http://127.0.0.1:8080/' });
    assert.match(text, /^web \(running, healthy\): watched$/m);
    assert.match(text, /^Depends on: db \(network\)$/m);
    assert.match(text, /^Dependents: worker \(label, compose\) \(restarted after it\)$/m);
    assert.match(text, /^Read from the running instance at http:\/\/127\.0\.0\.1:8080\/; times in UTC$/m);
  });

  it('an unknown budget (in-memory journal read from outside) says so', () => {
    const e = run({ shape: { health: 'healthy' }, budget: null });
    assert.equal(e.budget, null);
    assert.equal(e.budgetText, 'unknown: the journal is in memory (--db-path :memory:), only the running instance knows it');
  });

  it('times in the zone asked for', () => {
    const e = explain(facts({ shape: { health: 'unhealthy' }, budget: budget({ waitUntilMs: NOW + 12 * S, lastRestartMs: NOW - 3 * S, restartsMs: [NOW - 3 * S], streak: 1 }) }), { nowMs: NOW, timeZone: 'Europe/Warsaw' });
    assert.match(e.sentence, /until 2026-12-03 11:00:12 \+01:00 \(in 12s\)\.$/);
  });

  it('container text never acts on the terminal', () => {
    const e = run({ shape: { health: 'healthy', labels: { 'com.docker.swarm.task.id': 'x\u001b[2Jy' } } });
    assert.ok(!renderExplanation(e).includes('\u001b'));
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultSettings } from '../config/settings-table.js';
import type { ContainerPolicy } from '../config/types.js';
import type { ContainerInspect } from '../docker/types.js';
import {
  classify,
  describeCandidate,
  engineWillRestart,
  exitCodeFromStatus,
  healthFromStatus,
  isDeliberateExit,
  staticExclusion,
  summaryName,
  type ClassifyFacts,
} from './classify.js';

const ID = 'a'.repeat(64);

function policy(over: Partial<ContainerPolicy> = {}): ContainerPolicy {
  return { ...defaultSettings().defaults, ...over };
}

interface Shape {
  name?: string;
  status?: string;
  health?: string;
  exitCode?: number;
  oom?: boolean;
  restartPolicy?: string;
  maxRetries?: number;
  restartCount?: number;
  autoRemove?: boolean;
  labels?: Record<string, string>;
  paused?: boolean;
  restarting?: boolean;
  dead?: boolean;
  /** Podman's --health-on-failure (Config.HealthcheckOnFailureAction). */
  onFailure?: string;
}

function inspect(s: Shape = {}): ContainerInspect {
  const status = s.status ?? 'running';
  return {
    Id: ID,
    Name: `/${s.name ?? 'ns-web'}`,
    Created: '2024-01-01T00:00:00Z',
    State: {
      Status: status,
      Running: status === 'running' || status === 'paused' || status === 'restarting',
      Paused: s.paused ?? status === 'paused',
      Restarting: s.restarting ?? status === 'restarting',
      OOMKilled: s.oom ?? false,
      Dead: s.dead ?? status === 'dead',
      Pid: 1,
      ExitCode: s.exitCode ?? 0,
      Error: '',
      StartedAt: '2024-01-01T00:00:00Z',
      FinishedAt: '0001-01-01T00:00:00Z',
      ...(s.health ? { Health: { Status: s.health, FailingStreak: 0, Log: [] } } : {}),
    },
    RestartCount: s.restartCount ?? 0,
    Config: { Image: 'busybox', Hostname: 'aaaaaaaaaaaa', Labels: s.labels ?? {}, ...(s.onFailure ? { HealthcheckOnFailureAction: s.onFailure } : {}) },
    HostConfig: { RestartPolicy: { Name: s.restartPolicy ?? 'no', MaximumRetryCount: s.maxRetries ?? 0 }, AutoRemove: s.autoRemove ?? false },
  };
}

const FACTS: ClassifyFacts = { namespace: 'ns-', isSelf: false, deliberateStop: false };

describe('classify', () => {
  const cases: { title: string; shape: Shape; policy?: Partial<ContainerPolicy>; facts?: Partial<ClassifyFacts>; expect: string }[] = [
    // 2.1 unhealthy
    { title: 'running unhealthy is a candidate', shape: { health: 'unhealthy' }, expect: 'unhealthy' },
    { title: 'running healthy is fine', shape: { health: 'healthy' }, expect: 'none' },
    { title: "unhealthy with Podman's --health-on-failure=restart: Podman's to act on", shape: { health: 'unhealthy', onFailure: 'restart' }, expect: 'skip:engine_health_action' },
    { title: "unhealthy with Podman's --health-on-failure=kill", shape: { health: 'unhealthy', onFailure: 'kill' }, expect: 'skip:engine_health_action' },
    { title: "unhealthy with Podman's --health-on-failure=stop", shape: { health: 'unhealthy', onFailure: 'stop' }, expect: 'skip:engine_health_action' },
    { title: "unhealthy with Podman's --health-on-failure=none is a candidate", shape: { health: 'unhealthy', onFailure: 'none' }, expect: 'unhealthy' },
    { title: 'running starting is fine', shape: { health: 'starting' }, expect: 'none' },
    { title: 'running without healthcheck is fine', shape: {}, expect: 'none' },
    { title: 'unhealthy with restart policy always is still a candidate', shape: { health: 'unhealthy', restartPolicy: 'always' }, expect: 'unhealthy' },
    { title: 'unhealthy with heal_exited=false is still a candidate', shape: { health: 'unhealthy' }, policy: { healExited: false }, expect: 'unhealthy' },
    { title: 'unhealthy one-off is a candidate (one-off only matters for exits)', shape: { health: 'unhealthy', labels: { 'com.docker.compose.oneoff': 'True' } }, expect: 'unhealthy' },
    // 2.3 never touched
    { title: 'paused unhealthy is left alone', shape: { status: 'paused', health: 'unhealthy' }, expect: 'skip:paused' },
    { title: 'paused healthy is nothing', shape: { status: 'paused', health: 'healthy' }, expect: 'none' },
    { title: 'restarting is left alone', shape: { status: 'restarting', health: 'unhealthy' }, expect: 'skip:restarting' },
    { title: 'removing is left alone', shape: { status: 'removing', exitCode: 3 }, expect: 'skip:removing' },
    { title: 'dead is left alone', shape: { status: 'dead', exitCode: 3 }, expect: 'skip:dead' },
    { title: 'swarm task is left alone', shape: { health: 'unhealthy', labels: { 'com.docker.swarm.task.id': 'x' } }, expect: 'skip:swarm_task' },
    { title: 'swarm task crashed is left alone', shape: { status: 'exited', exitCode: 3, labels: { 'com.docker.swarm.task.id': 'x' } }, expect: 'skip:swarm_task' },
    { title: 'outside the namespace', shape: { name: 'other-web', health: 'unhealthy' }, expect: 'skip:outside_namespace' },
    { title: 'no namespace: everything is inside', shape: { name: 'other-web', health: 'unhealthy' }, facts: { namespace: '' }, expect: 'unhealthy' },
    { title: 'itself is left alone', shape: { health: 'unhealthy' }, facts: { isSelf: true }, expect: 'skip:self' },
    {
      title: 'itself with enable_autoheal=true label is healed',
      shape: { health: 'unhealthy', labels: { 'org.riotkit.repairman.enable_autoheal': 'true' } },
      facts: { isSelf: true },
      expect: 'unhealthy',
    },
    {
      title: 'itself with enable_autoheal=false label is left alone',
      shape: { health: 'unhealthy', labels: { 'org.riotkit.repairman.enable_autoheal': 'false' } },
      policy: { enableAutoheal: false },
      facts: { isSelf: true },
      expect: 'skip:self',
    },
    { title: 'enable_autoheal=false', shape: { health: 'unhealthy' }, policy: { enableAutoheal: false }, expect: 'skip:autoheal_disabled' },
    { title: 'enable_autoheal=false crashed', shape: { status: 'exited', exitCode: 3 }, policy: { enableAutoheal: false }, expect: 'skip:autoheal_disabled' },
    // 2.2 crashed
    { title: 'exit 3 with policy no is a crash', shape: { status: 'exited', exitCode: 3 }, expect: 'crashed:3' },
    { title: 'exit 1 with empty policy name is a crash', shape: { status: 'exited', exitCode: 1, restartPolicy: '' }, expect: 'crashed:1' },
    { title: 'exit 134 (abort) is a crash', shape: { status: 'exited', exitCode: 134 }, expect: 'crashed:134' },
    { title: 'exit 139 (segfault) is a crash', shape: { status: 'exited', exitCode: 139 }, expect: 'crashed:139' },
    { title: 'exit 255 is a crash', shape: { status: 'exited', exitCode: 255 }, expect: 'crashed:255' },
    { title: 'exit 137 with OOM is a crash', shape: { status: 'exited', exitCode: 137, oom: true }, expect: 'crashed:137:oom' },
    { title: 'exit 0 is deliberate', shape: { status: 'exited', exitCode: 0 }, expect: 'skip:deliberate_exit' },
    { title: 'exit 130 (SIGINT) is deliberate', shape: { status: 'exited', exitCode: 130 }, expect: 'skip:deliberate_exit' },
    { title: 'exit 143 (SIGTERM) is deliberate', shape: { status: 'exited', exitCode: 143 }, expect: 'skip:deliberate_exit' },
    { title: 'exit 137 without OOM is deliberate', shape: { status: 'exited', exitCode: 137 }, expect: 'skip:deliberate_exit' },
    { title: 'kill/stop seen before the die: never a crash', shape: { status: 'exited', exitCode: 3 }, facts: { deliberateStop: true }, expect: 'skip:stopped_by_someone' },
    { title: 'kill/stop seen, even an OOM code', shape: { status: 'exited', exitCode: 137, oom: true }, facts: { deliberateStop: true }, expect: 'skip:stopped_by_someone' },
    { title: 'restart policy always: the engine restarts it', shape: { status: 'exited', exitCode: 3, restartPolicy: 'always' }, expect: 'skip:engine_restarts_it' },
    { title: 'restart policy unless-stopped', shape: { status: 'exited', exitCode: 3, restartPolicy: 'unless-stopped' }, expect: 'skip:engine_restarts_it' },
    { title: 'on-failure unlimited', shape: { status: 'exited', exitCode: 3, restartPolicy: 'on-failure', maxRetries: 0, restartCount: 50 }, expect: 'skip:engine_restarts_it' },
    { title: 'on-failure:3 with retries left', shape: { status: 'exited', exitCode: 3, restartPolicy: 'on-failure', maxRetries: 3, restartCount: 2 }, expect: 'skip:engine_restarts_it' },
    { title: 'on-failure:3 with retries used up', shape: { status: 'exited', exitCode: 3, restartPolicy: 'on-failure', maxRetries: 3, restartCount: 3 }, expect: 'crashed:3' },
    { title: 'on-failure:3 past its retries', shape: { status: 'exited', exitCode: 3, restartPolicy: 'on-failure', maxRetries: 3, restartCount: 4 }, expect: 'crashed:3' },
    { title: 'unknown future policy: trust the engine', shape: { status: 'exited', exitCode: 3, restartPolicy: 'sometimes' }, expect: 'skip:engine_restarts_it' },
    { title: 'compose one-off', shape: { status: 'exited', exitCode: 3, labels: { 'com.docker.compose.oneoff': 'True' } }, expect: 'skip:one_off' },
    { title: 'compose one-off lowercase true', shape: { status: 'exited', exitCode: 3, labels: { 'com.docker.compose.oneoff': 'true' } }, expect: 'skip:one_off' },
    { title: 'compose non-one-off', shape: { status: 'exited', exitCode: 3, labels: { 'com.docker.compose.oneoff': 'False' } }, expect: 'crashed:3' },
    { title: 'started with --rm', shape: { status: 'exited', exitCode: 3, autoRemove: true }, expect: 'skip:auto_remove' },
    { title: 'heal_exited=false', shape: { status: 'exited', exitCode: 3 }, policy: { healExited: false }, expect: 'skip:heal_exited_disabled' },
    // other states
    { title: 'created, never started', shape: { status: 'created' }, expect: 'none' },
    { title: 'an unknown state', shape: { status: 'weird' }, expect: 'none' },
  ];
  for (const c of cases) {
    it(c.title, () => {
      const r = classify(inspect(c.shape), policy(c.policy), { ...FACTS, ...c.facts });
      let got: string = r.kind;
      if (r.kind === 'skip') got = `skip:${r.reason}`;
      if (r.kind === 'crashed') got = `crashed:${r.exitCode}${r.oomKilled ? ':oom' : ''}`;
      assert.equal(got, c.expect);
      if (r.kind === 'skip' || r.kind === 'none') assert.ok(r.detail.length > 0, 'a reason people can read');
    });
  }

  it('survives an inspect with missing parts', () => {
    const broken = { Id: ID, Name: '/ns-x', State: { Status: 'exited', ExitCode: 3 } } as unknown as ContainerInspect;
    const r = classify(broken, policy(), FACTS);
    assert.deepEqual(r, { kind: 'crashed', exitCode: 3, oomKilled: false });
  });
});

describe('isDeliberateExit', () => {
  it('matches docs/behaviour.md §2.2 for every code 0..255', () => {
    for (let code = 0; code <= 255; code++) {
      const expected = code === 0 || code === 130 || code === 143 || code === 137;
      assert.equal(isDeliberateExit(code, false), expected, `code ${code}`);
      assert.equal(isDeliberateExit(code, true), code === 0 || code === 130 || code === 143, `code ${code} OOM`);
    }
  });
});

describe('engineWillRestart', () => {
  it('reads the policy', () => {
    assert.equal(engineWillRestart(inspect({ restartPolicy: 'no' })).yes, false);
    assert.equal(engineWillRestart(inspect({ restartPolicy: 'always' })).yes, true);
    assert.equal(engineWillRestart(inspect({ restartPolicy: 'on-failure', maxRetries: 2, restartCount: 2 })).yes, false);
    assert.equal(engineWillRestart({ RestartCount: 0 } as ContainerInspect).yes, false);
  });
});

describe('staticExclusion', () => {
  const p = policy();
  it('is null for a watched container', () => {
    assert.equal(staticExclusion('ns-a', {}, p, { namespace: 'ns-', isSelf: false }), null);
    assert.equal(staticExclusion('ns-a', null, p, { namespace: 'ns-', isSelf: false }), null);
  });
  it('checks the namespace first', () => {
    assert.equal(staticExclusion('x', { 'com.docker.swarm.task.id': '1' }, p, { namespace: 'ns-', isSelf: true })?.reason, 'outside_namespace');
  });
  it('never watches a docker-compose leftover (hash-prefixed name)', () => {
    const none = { namespace: '', isSelf: false };
    assert.equal(staticExclusion('0123456789ab_web', {}, p, none)?.reason, 'compose_leftover');
    assert.equal(staticExclusion('0123456789ab_fedcba987654_proj-web-1', {}, p, none)?.reason, 'compose_leftover');
    // Near misses are ordinary containers.
    assert.equal(staticExclusion('0123456789AB_web', {}, p, none), null);
    assert.equal(staticExclusion('0123456789a_web', {}, p, none), null);
    assert.equal(staticExclusion('abcdefghijkl_web', {}, p, none), null);
    assert.equal(staticExclusion('0123456789ab_', {}, p, none), null);
  });
});

describe('listing helpers', () => {
  it('reads health from Status', () => {
    assert.equal(healthFromStatus('Up 3 minutes (unhealthy)'), 'unhealthy');
    assert.equal(healthFromStatus('Up 3 minutes (healthy)'), 'healthy');
    assert.equal(healthFromStatus('Up 1 second (health: starting)'), 'starting');
    assert.equal(healthFromStatus('Up 3 minutes'), null);
    assert.equal(healthFromStatus('Up 3 minutes (Paused)'), null);
  });
  it('reads exit codes from Status', () => {
    assert.equal(exitCodeFromStatus('Exited (3) 5 seconds ago'), 3);
    assert.equal(exitCodeFromStatus('Exited (137) About a minute ago'), 137);
    assert.equal(exitCodeFromStatus('Up 3 minutes'), null);
    assert.equal(exitCodeFromStatus('Created'), null);
  });
  it('names a container by its own name, not a link alias', () => {
    assert.equal(summaryName({ Id: ID, Names: ['/other/alias', '/web'] }), 'web');
    assert.equal(summaryName({ Id: ID, Names: ['/web'] }), 'web');
    assert.equal(summaryName({ Id: ID, Names: [] }), 'aaaaaaaaaaaa');
  });
  it('describes candidates', () => {
    assert.equal(describeCandidate({ kind: 'unhealthy' }), 'unhealthy');
    assert.equal(describeCandidate({ kind: 'crashed', exitCode: 3, oomKilled: false }), 'crashed with exit code 3');
    assert.equal(describeCandidate({ kind: 'crashed', exitCode: 137, oomKilled: true }), 'OOM killed (exit code 137)');
  });
});

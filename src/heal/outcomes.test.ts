// The pure "outcome -> journal entries and notifications" function, alone: every outcome kind by
// example (the exact texts people read), then properties over arbitrary outcomes and policies.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { defaultSettings } from '../config/settings-table.js';
import type { ContainerPolicy } from '../config/types.js';
import type { NotifyLevel } from '../notify/levels.js';
import { severityOf, shouldSend } from '../notify/levels.js';
import { goneWait, outcomeRecord, wouldNotify, type HealOutcome, type OutcomeKind, type OutcomeRecord } from './outcomes.js';

const NOW = Date.UTC(2024, 4, 1, 12, 0, 0);
const TZ = 'UTC';
const HOOK = 'https://hooks.example/T0/secret-token';
const ctx = { host: 'box', timeZone: TZ, nowMs: NOW };

function policy(over: Partial<ContainerPolicy> = {}): ContainerPolicy {
  return { ...defaultSettings().defaults, ...over };
}
const LOUD = policy({ notifyUrls: [HOOK], notifyLevel: 'DEBUG' });
const QUIET = policy({ notifyUrls: [] });

const marker = { atMs: NOW - 60_000, verb: 'restart' as const, reason: 'unhealthy', attempt: 3, multipleFailures: true, gaveUp: true, maxHistoricEntries: 50 };

/** One example of every outcome kind: adding a kind without one here does not compile. */
const EXAMPLES: Record<OutcomeKind, HealOutcome> = {
  label_problem: {
    kind: 'label_problem',
    problem: { container: 'web', label: 'org.riotkit.repairman.frame_size', value: 'x', expected: 'a duration', fallback: '600 (global)', code: 'RM_LABEL_INVALID' },
  },
  wait: { kind: 'wait', reason: 'unhealthy', untilMs: NOW + 15_000 },
  longer_wait: { kind: 'longer_wait', reason: 'unhealthy', untilMs: NOW + 3_600_000, restartsInFrame: 5, healthOutput: 'curl: (7) refused' },
  restart: {
    kind: 'restart', verb: 'start', reason: 'crashed with exit code 3', exitCode: 3, attempt: 1, multipleFailures: false,
    dryRun: false, failure: null, gaveUp: false, streak: 1,
  },
  interrupted_restart: { kind: 'interrupted_restart', marker, how: 'killed', notify: true },
  recovered: { kind: 'recovered', how: 'healthy', wasLimited: true, streak: 4, wasGivenUp: true },
  gone: { kind: 'gone', wait: 'gap', untilMs: NOW + 15_000 },
  dependent: {
    kind: 'dependent', action: 'recreate', reason: 'vpn recreated', provider: 'vpn', attempt: 1, dryRun: false,
    failure: { message: 'No such image: x' }, putBack: 'started', gaveUp: false, streak: 1,
  },
  unhealthy_notice: { kind: 'unhealthy_notice', reason: 'unhealthy', sinceMs: NOW - 60_000, dryRun: false, healthOutput: 'curl: (7) refused' },
  held: { kind: 'held', why: 'unhealthy_for', reason: 'unhealthy', untilMs: NOW + 120_000 },
  left_to_engine: { kind: 'left_to_engine', action: 'restart', reason: 'unhealthy' },
  post_action: { kind: 'post_action', action: 'restart', result: 'timeout', exitCode: null, signal: 'SIGKILL', ms: 30_000, lastLines: ['step 1', `posting to ${HOOK}`] },
  maintenance: { kind: 'maintenance', what: 'pause', untilMs: null, all: true },
  refused: {
    kind: 'refused', verb: 'restart', reason: 'unhealthy', call: 'POST /containers/{id}/restart',
    message: 'POST /containers/abc/restart: refused by the engine at tcp://proxy:2375 (403: Forbidden); allow it with POST=1',
  },
};

const kindsOf = (r: OutcomeRecord): { journal: string[]; notified: string[] } => ({
  journal: r.entries.map((e) => e.kind),
  notified: r.notifications.map((n) => n.event.kind),
});

describe('outcomes: every kind', () => {
  it('journals and notifies each kind as people read it', () => {
    const expect: Record<OutcomeKind, { journal: string[]; notified: string[]; message: RegExp }> = {
      label_problem: { journal: ['config_error'], notified: ['config_error'], message: /^invalid label org\.riotkit\.repairman\.frame_size="x": expected a duration; using 600 \(global\)$/ },
      wait: { journal: ['wait'], notified: [], message: /^Waiting until 2024-05-01 12:00:15 .*before restarting again \(unhealthy\)$/ },
      longer_wait: { journal: ['longer_wait'], notified: ['longer_wait'], message: /^Maximum restarts reached \(5 in .+\): waiting until 2024-05-01 13:00:00/ },
      restart: { journal: ['restart'], notified: ['restart'], message: /^Started \(crashed with exit code 3\)$/ },
      interrupted_restart: {
        journal: ['multiple_failures', 'restart', 'give_up'],
        notified: ['multiple_failures', 'restart', 'give_up'],
        message: /^Multiple restart failures: restart 3 in a row without recovery \(unhealthy\)$/,
      },
      recovered: { journal: ['recovered'], notified: ['recovered'], message: /^Recovered: healthy again$/ },
      gone: { journal: ['gone'], notified: [], message: /^Removed during the wait before its next restart \(until 2024-05-01 12:00:15.*\): nothing left to restart$/ },
      dependent: {
        journal: ['restart_failed'],
        notified: ['restart_failed'],
        message: /^Could not recreate it as a dependent \(vpn recreated\): No such image: x; the old container is back under its name and running$/,
      },
      unhealthy_notice: { journal: ['unhealthy'], notified: ['unhealthy'], message: /^Unhealthy since 2024-05-01 11:59:00 .*\(unhealthy\); on_unhealthy=notify: left as it is$/ },
      held: { journal: ['held'], notified: [], message: /^Unhealthy \(unhealthy\); unhealthy_for is .+: acting until 2024-05-01 12:02:00 .* unless it recovers$/ },
      left_to_engine: { journal: ['left_to_engine'], notified: [], message: /^Unhealthy \(unhealthy\); left to Podman: its --health-on-failure=restart acts on it, Repairman does not$/ },
      post_action: { journal: ['post_action_failed'], notified: ['post_action_failed'], message: /^Post-action command \(after restart\) killed at its time limit after .+; last output: step 1 \| posting to https:\/\/hooks\.example\/\*\*\*$/ },
      // The command journals a pause itself (it works without a running instance): the instance only tells.
      maintenance: { journal: [], notified: ['pause'], message: /^$/ },
      // Notified once per call kind for every container by the app, never per container.
      refused: {
        journal: ['refused'],
        notified: [],
        message: /^Restart \(unhealthy\) refused by the engine: POST \/containers\/abc\/restart: refused by the engine at tcp:\/\/proxy:2375 \(403: Forbidden\); allow it with POST=1; not counted against the restart budget, tried again at the next re-check$/,
      },
    };
    for (const [kind, outcome] of Object.entries(EXAMPLES) as [OutcomeKind, HealOutcome][]) {
      const r = outcomeRecord({ name: 'web', policy: LOUD }, outcome, ctx);
      const want = expect[kind];
      assert.deepEqual(kindsOf(r), { journal: want.journal, notified: want.notified }, kind);
      assert.match(r.entries[0]?.message ?? '', want.message, kind);
      if (kind === 'maintenance') continue;
      const quiet = outcomeRecord({ name: 'web', policy: QUIET }, outcome, ctx);
      assert.deepEqual(quiet, { entries: r.entries, notifications: [] }, `${kind}: journaled the same, never notified without URLs`);
    }
  });

  it('a restart: ok, failed, dry run, with multiple failures and a give-up', () => {
    const base = EXAMPLES.restart as Extract<HealOutcome, { kind: 'restart' }>;
    const failed = outcomeRecord({ name: 'web', policy: LOUD }, {
      ...base, verb: 'restart', reason: 'unhealthy', exitCode: undefined, attempt: 4, multipleFailures: true,
      failure: { message: `POST ${HOOK} refused`, code: 'RM_ENGINE_HTTP' }, gaveUp: true, streak: 4,
    }, ctx);
    assert.deepEqual(kindsOf(failed), { journal: ['multiple_failures', 'restart_failed', 'give_up'], notified: ['multiple_failures', 'restart_failed', 'give_up'] });
    assert.equal(failed.entries[1]?.message, 'Restart failed (unhealthy): POST https://hooks.example/*** refused');
    assert.deepEqual(failed.entries[1]?.details, { reason: 'unhealthy', error: 'POST https://hooks.example/*** refused', code: 'RM_ENGINE_HTTP' });
    assert.equal(failed.entries[2]?.message, 'Admin, help: not touching this container any more (4 restarts in a row without recovery)');
    assert.equal(failed.notifications[1]?.event.next, 'no more restarts: given up');
    assert.equal(failed.notifications[2]?.event.next, 'nothing until it is healthy again or someone runs `repairman reset web`');
    assert.ok(failed.notifications.every((n) => n.withLogs), 'restart notifications carry the log');

    const dry = outcomeRecord({ name: 'web', policy: LOUD }, { ...base, verb: 'restart', reason: 'unhealthy', dryRun: true, multipleFailures: true, attempt: 2 }, ctx);
    assert.equal(dry.entries[1]?.message, 'Dry run: would have restarted it (unhealthy)');
    assert.equal(dry.notifications[1]?.event.summary, 'Dry run: web would have been restarted');
    assert.match(dry.notifications[0]?.event.next ?? '', /^restarted again \(dry run\); the next restart, if needed, not before 2024-05-01 12:00:15/);

    const ok = outcomeRecord({ name: 'web', policy: LOUD }, base, ctx);
    assert.deepEqual(ok.entries[0]?.details, { reason: 'crashed with exit code 3', exitCode: 3, attempt: 1, dryRun: false });
    assert.equal(ok.notifications[0]?.event.summary, 'web was started again');
    assert.match(ok.notifications[0]?.event.next ?? '', /^watching it; the next restart, if needed, not before 2024-05-01 12:00:15/);
  });

  it('an interrupted restart: done, stopped, killed; notified only when asked, at the moment it was requested', () => {
    const one = { ...marker, multipleFailures: false, gaveUp: false, attempt: 1 };
    const texts = (['done', 'stopped', 'killed'] as const).map((how) => outcomeRecord({ name: 'web', policy: LOUD }, { kind: 'interrupted_restart', marker: one, how, notify: false }, ctx));
    assert.deepEqual(texts.map((r) => r.entries[0]?.message), [
      'Restarted (unhealthy), as Repairman stopped',
      'Restart requested (unhealthy) and handed to the engine when Repairman stopped; the engine finishes it',
      'Restart requested (unhealthy) before Repairman was stopped or killed; left to the engine to finish',
    ]);
    assert.deepEqual(texts.map((r) => r.entries[0]?.details?.interrupted), [undefined, 'stopped', 'killed']);
    assert.ok(texts.every((r) => r.notifications.length === 0 && r.entries.every((e) => e.atMs === one.atMs)));
    const told = outcomeRecord({ name: 'web', policy: LOUD }, { kind: 'interrupted_restart', marker: one, how: 'killed', notify: true }, ctx);
    assert.deepEqual(told.notifications.map((n) => [n.event.kind, n.event.atMs, n.event.next]), [['restart', one.atMs, 'watching it again']]);
  });

  it('a recovery is notified only when the budget had limited it', () => {
    const r = outcomeRecord({ name: 'web', policy: LOUD }, { kind: 'recovered', how: 'ran_whole_frame', wasLimited: false, streak: 1, wasGivenUp: false }, ctx);
    assert.equal(r.notifications.length, 0);
    assert.match(r.entries[0]?.message ?? '', /^Recovered: running for a whole frame \(.+\)$/);
    const limited = outcomeRecord({ name: 'web', policy: LOUD }, { kind: 'recovered', how: 'healthy', wasLimited: true, streak: 2, wasGivenUp: false }, ctx);
    assert.equal(limited.notifications[0]?.event.next, 'watching it as usual; its restart budget is restored');
  });

  it('gone: removed or renamed, from the wake or the budget', () => {
    const renamed = outcomeRecord({ name: 'web', policy: LOUD }, { kind: 'gone', wait: 'longer', untilMs: null, renamedTo: 'web2' }, ctx);
    assert.equal(renamed.entries[0]?.message, 'Renamed to web2 during its longer wait: nothing left to restart under this name; the new name has a budget of its own');
    const p = { secondsBetweenNextFrame: 600 };
    assert.deepEqual(goneWait(undefined, p, null), { wait: 'retry', untilMs: null });
    assert.deepEqual(goneWait(undefined, p, NOW), { wait: 'retry', untilMs: NOW });
    const longer = { longerWaitStartedMs: NOW, waitUntilMs: null } as Parameters<typeof goneWait>[0];
    assert.deepEqual(goneWait(longer, p, null), { wait: 'longer', untilMs: NOW + 600_000 });
    const gap = { longerWaitStartedMs: null, waitUntilMs: NOW + 5 } as Parameters<typeof goneWait>[0];
    assert.deepEqual(goneWait(gap, p, null), { wait: 'gap', untilMs: NOW + 5 });
  });
});

// ---- properties ---------------------------------------------------------------------------------

const text = fc.string({ maxLength: 20 });
const ms = fc.integer({ min: 0, max: 4_102_444_800_000 });
const arbMarker = fc.record({
  atMs: ms, verb: fc.constantFrom('restart' as const, 'start' as const), reason: text, attempt: fc.integer({ min: 1, max: 50 }),
  multipleFailures: fc.boolean(), gaveUp: fc.boolean(), maxHistoricEntries: fc.integer({ min: 0, max: 100 }),
});
const arbOutcome: fc.Arbitrary<HealOutcome> = fc.oneof(
  fc.record({
    kind: fc.constant('label_problem' as const),
    problem: fc.record({ container: text, label: text, value: text, expected: text, fallback: text, code: fc.constantFrom('RM_LABEL_INVALID' as const, 'RM_LABEL_UNKNOWN' as const) }),
  }),
  fc.record({ kind: fc.constant('wait' as const), reason: text, untilMs: ms }),
  fc.record({ kind: fc.constant('longer_wait' as const), reason: text, untilMs: ms, restartsInFrame: fc.nat(100), healthOutput: fc.option(text, { nil: undefined }) }),
  fc.record({
    kind: fc.constant('restart' as const), verb: fc.constantFrom('restart' as const, 'start' as const), reason: text, attempt: fc.integer({ min: 1, max: 50 }),
    multipleFailures: fc.boolean(), dryRun: fc.boolean(), gaveUp: fc.boolean(), streak: fc.nat(50),
    failure: fc.option(fc.record({ message: fc.tuple(text, text).map(([a, b]) => `${a} ${HOOK}?x=${b.replace(/\s/g, '')} ${b}`), code: fc.option(text, { nil: undefined }) }), { nil: null }),
  }),
  fc.record({ kind: fc.constant('interrupted_restart' as const), marker: arbMarker, how: fc.constantFrom('done' as const, 'stopped' as const, 'killed' as const), notify: fc.boolean() }),
  fc.record({ kind: fc.constant('recovered' as const), how: fc.constantFrom('healthy' as const, 'ran_whole_frame' as const), wasLimited: fc.boolean(), streak: fc.nat(50), wasGivenUp: fc.boolean() }),
  fc.record({ kind: fc.constant('gone' as const), wait: fc.constantFrom('longer' as const, 'gap' as const, 'retry' as const), untilMs: fc.option(ms, { nil: null }), renamedTo: fc.option(text, { nil: undefined }) }),
);
const arbPolicy = fc.record({
  notifyUrls: fc.constantFrom([] as string[], [HOOK]),
  notifyLevel: fc.constantFrom<NotifyLevel>('DEBUG', 'INFO', 'WARNING'),
}).map((over) => policy(over));
const arbName = fc.stringMatching(/^[a-z][a-z0-9_.-]{0,20}$/);

describe('outcomes: properties', () => {
  it('every entry is about the container, at the outcome time (a marker: its own time)', () => {
    fc.assert(fc.property(arbName, arbPolicy, arbOutcome, ms, (name, p, o, nowMs) => {
      const r = outcomeRecord({ name, policy: p }, o, { host: 'box', timeZone: TZ, nowMs });
      assert.ok(r.entries.length >= 1, 'every outcome is journaled');
      for (const e of r.entries) {
        assert.equal(e.container, name);
        assert.equal(e.atMs, o.kind === 'interrupted_restart' ? o.marker.atMs : nowMs);
      }
    }));
  });

  it('notifies only what the level and URLs let through, each with a journal entry of its kind, routed by the policy', () => {
    fc.assert(fc.property(arbName, arbPolicy, arbOutcome, (name, p, o) => {
      const r = outcomeRecord({ name, policy: p }, o, ctx);
      const journaled = new Set(r.entries.map((e) => e.kind));
      for (const { event } of r.notifications) {
        assert.ok(journaled.has(event.kind as never), `${event.kind} notified without a journal entry`);
        assert.ok(p.notifyUrls.length > 0 && shouldSend(event.severity, p.notifyLevel));
        assert.equal(event.severity, severityOf(event.kind));
        assert.deepEqual([event.container, event.host, event.urls, event.level], [name, 'box', p.notifyUrls, p.notifyLevel]);
        assert.equal(wouldNotify({ name, policy: p }, event.kind as never), true);
      }
      // And nothing the level lets through is left out (waits and removals are never notified).
      if (o.kind === 'wait' || o.kind === 'gone' || (o.kind === 'interrupted_restart' && !o.notify) || (o.kind === 'recovered' && !o.wasLimited)) {
        assert.equal(r.notifications.length, 0);
      } else {
        for (const kind of journaled) {
          if (wouldNotify({ name, policy: p }, kind)) assert.ok(r.notifications.some((n) => n.event.kind === kind), `${kind} not notified`);
        }
      }
    }));
  });

  it('a secret in an error message never reaches the journal or a notification', () => {
    fc.assert(fc.property(arbName, arbOutcome, (name, o) => {
      const r = outcomeRecord({ name, policy: LOUD }, o, ctx);
      assert.ok(!JSON.stringify(r).replace(/"urls":\[[^\]]*\]/g, '').includes('secret-token'));
    }));
  });

  it('is pure: the same input gives the same output', () => {
    fc.assert(fc.property(arbName, arbPolicy, arbOutcome, ms, (name, p, o, nowMs) => {
      const c = { host: 'box', timeZone: TZ, nowMs };
      assert.deepEqual(outcomeRecord({ name, policy: p }, o, c), outcomeRecord({ name, policy: p }, o, c));
    }));
  });
});

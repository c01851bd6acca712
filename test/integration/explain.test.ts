// `repairman explain NAME` (docs/behaviour.md §11) and `status --db-path` (issue 22) on the private engine:
// the built CLI asks a running Repairman over HTTP, then, once it has stopped, reads the engine and the
// journal file alone; each reason a container is left alone shows its sentence both ways. The Swarm
// task is a plain container labelled com.docker.swarm.task.id (what Repairman reads), not a Swarm.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, type CliResult } from '../helpers/cli.js';
import { docker, engineEnv, hasTestEngine, inspectField, removeNamespace, runContainer, uniqueNamespace, waitFor } from '../helpers/engine.js';
import { startRepairman, type RepairmanProcess } from '../helpers/repairman.js';

const P = 'org.riotkit.repairman.';
const NEVER_HEALTHY = 'trap "exit 0" TERM; sleep 100000 & wait';

function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const base = engineEnv({ TZ: 'UTC' });
  for (const k of Object.keys(base)) if (k.startsWith('DEFAULT_') || ['NAMESPACE', 'DB_PATH', 'HTTP_PORT', 'HTTP_ADDRESS', 'HTTP_PREFIX'].includes(k)) delete base[k];
  return runCli(args, { ...base, ...env });
}

/** The explanation's sentence line (second line of the text), relative times ("in 9m 50s") left out. */
function sentence(out: string): string {
  return (out.split('\n')[1] ?? '').replace(/ \(in [^)]*\)| \([^()]* ago\)/g, '');
}

describe('explain and status --db-path on a real engine', { skip: !hasTestEngine() && 'REPAIRMAN_TEST_DOCKER_HOST is not set' }, () => {
  const ns = uniqueNamespace('explain');
  const outside = uniqueNamespace('explain-out');
  const n = (s: string): string => `${ns}${s}`;
  const dir = mkdtempSync(join(tmpdir(), 'rm-explain-'));
  const dbPath = join(dir, 'repairman.db');
  let rm: RepairmanProcess;
  let port = 0;
  const live = new Map<string, { code: number | null; out: string; err: string }>();
  const NAMES = ['optout', 'outside', 'paused', 'maint', 'oneoff', 'oldcrash', 'givenup', 'waiting', 'badlabel', 'db', 'app', 'swarm', 'stopped'];
  const name = (s: string): string => (s === 'outside' ? `${outside}web` : n(s));

  before(async () => {
    // Crashed before Repairman starts, with a look-back of 0: an old crash.
    await runContainer(n('oldcrash'), { cmd: 'exit 3' });
    await waitFor('oldcrash exited', async () => (await inspectField(n('oldcrash'), '{{.State.Status}}')) === 'exited');
    await new Promise((r) => setTimeout(r, 1100));
    rm = await startRepairman({ namespace: ns, dbPath, http: true, intervalSec: 2, args: ['--heal-exited-lookback', '0'] });
    port = rm.httpPort!;
    await Promise.all([
      runContainer(n('optout'), { health: { cmd: 'false' }, labels: { [`${P}enable_autoheal`]: 'false' } }),
      runContainer(`${outside}web`, { health: { cmd: 'false' } }),
      runContainer(n('paused')),
      runContainer(n('maint'), { health: { cmd: 'true' } }),
      runContainer(n('oneoff'), { cmd: 'sleep 1; exit 3', labels: { 'com.docker.compose.oneoff': 'True' } }),
      runContainer(n('givenup'), { cmd: NEVER_HEALTHY, health: { cmd: 'test -f /tmp/ok' }, labels: { [`${P}max_restarts_in_frame`]: '1', [`${P}max_checks_to_give_up`]: '1', [`${P}seconds_between_restarts`]: '1' } }),
      runContainer(n('waiting'), { cmd: NEVER_HEALTHY, health: { cmd: 'test -f /tmp/ok' }, labels: { [`${P}max_restarts_in_frame`]: '0', [`${P}seconds_between_restarts`]: '600' } }),
      runContainer(n('badlabel'), { health: { cmd: 'false' }, labels: { [`${P}enable_autoheal`]: 'maybe', [`${P}max_restarts_in_frame`]: 'lots' } }),
      runContainer(n('db'), { cmd: NEVER_HEALTHY }),
      runContainer(n('app'), { cmd: NEVER_HEALTHY, labels: { [`${P}depends_on`]: n('db') } }),
      runContainer(n('swarm'), { cmd: 'sleep 1; exit 3', labels: { 'com.docker.swarm.task.id': 'abcdef123456' } }),
      runContainer(n('stopped'), { cmd: 'trap "exit 143" TERM; sleep 100000 & wait' }),
    ]);
    await docker(['pause', n('paused')]);
    await docker(['stop', '-t', '5', n('stopped')]);
    const paused = await cli(['pause', n('maint'), '--for', '30m', '--db-path', dbPath]);
    assert.equal(paused.code, 0, paused.err);
    await rm.waitForLog((l) => l.msg === 'gave up' && l.container === n('givenup'), 30_000);
    await rm.waitForLog((l) => l.msg === 'waiting before the next restart' && l.container === n('waiting'), 30_000);
    await rm.waitForLog((l) => l.msg === 'paused for maintenance' && l.container === n('maint'), 10_000);
    await waitFor('oneoff and swarm exited', async () =>
      (await inspectField(n('oneoff'), '{{.State.Status}}')) === 'exited' && (await inspectField(n('swarm'), '{{.State.Status}}')) === 'exited');
    for (const s of NAMES) live.set(s, await cli(['explain', name(s), '--namespace', ns, '--http-port', String(port), '--heal-exited-lookback', '0']));
  });
  after(async () => {
    await rm?.stop();
    await docker(['unpause', n('paused')]).catch(() => undefined);
    await removeNamespace(ns);
    await removeNamespace(outside);
    rmSync(dir, { recursive: true, force: true });
  });

  const EXPECTED: Record<string, RegExp> = {
    optout: /^Left alone: its label org\.riotkit\.repairman\.enable_autoheal="false" opts it out\.$/,
    outside: new RegExp(`^Left alone: its name does not start with the namespace "${ns}" \\(--namespace\\), so Repairman does not watch it\\.$`),
    paused: /^Left alone: it is paused \(docker pause\); Repairman never touches a paused container\.$/,
    maint: /^Left alone: paused for maintenance \(repairman pause\) until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\.$/,
    oneoff: /^Left alone: it is a compose one-off \(docker compose run, label com\.docker\.compose\.oneoff="True"\) and exited with code 3; one-offs are never started again\.$/,
    givenup: /^Left alone: Repairman gave up at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC after 1 restarts in a row without recovery \(max_checks_to_give_up=1\)\.$/,
    waiting: /^Waiting: it is unhealthy; seconds_between_restarts=600 s after the last restart at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC keeps the next one until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\.$/,
    badlabel: /^Left alone: its label org\.riotkit\.repairman\.enable_autoheal="maybe" is not valid \(expected true\/false.*\), so enable_autoheal is false for it: a typo never switches healing on\.$/,
    swarm: /^Left alone: it is a Swarm task \(label com\.docker\.swarm\.task\.id="abcdef123456"\); Swarm replaces its tasks itself\.$/,
    stopped: /^Left alone: it was stopped by hand \(exit code 143, SIGTERM: docker stop\); Repairman starts only crashed containers\.$/,
  };

  it('over HTTP: each reason with its sentence, read from the running instance', () => {
    for (const [s, re] of Object.entries(EXPECTED)) {
      const r = live.get(s)!;
      assert.equal(r.code, 0, `${s}: ${r.err}`);
      assert.match(sentence(r.out), re, `${s}:\n${r.out}`);
      assert.match(r.out, new RegExp(`^Read from the running instance at http://127\\.0\\.0\\.1:${port}/; times in UTC$`, 'm'), r.out);
    }
    const old = live.get('oldcrash')!.out;
    assert.match(sentence(old), /^Left alone: it crashed with exit code 3 at .* UTC, before the look-back: only crashes since .* UTC count \(heal_exited_lookback=0 s before Repairman began watching at .* UTC\)\.$/, old);
    // The bad label that is not deciding: which, what value, what is used instead.
    assert.match(live.get('badlabel')!.out, /^ {2}Bad label org\.riotkit\.repairman\.max_restarts_in_frame="lots": expected a whole number.*; using 2 \(global\)\.$/m);
    assert.match(live.get('optout')!.out, /^ {2}enable_autoheal=false \(label org\.riotkit\.repairman\.enable_autoheal\)$/m);
    assert.match(live.get('optout')!.out, new RegExp(`^ {2}namespace="${ns}" \\(switch --namespace\\)$`, 'm'));
  });

  it('shows providers and dependents', () => {
    assert.match(live.get('db')!.out, new RegExp(`^Dependents: ${n('app')} \\(label\\) \\(restarted after it\\)$`, 'm'));
    assert.match(live.get('app')!.out, new RegExp(`^Depends on: ${n('db')} \\(label\\)$`, 'm'));
  });

  it('an unknown name: exit 1 and "did you mean", over HTTP too (404 with the explanation)', async () => {
    const r = await cli(['explain', n('optuot'), '--namespace', ns, '--http-port', String(port)]);
    assert.equal(r.code, 1);
    assert.match(r.out, new RegExp(`^Unknown: no container is named "${n('optuot')}" \\(did you mean ${n('optout')}\\?\\)\\.$`, 'm'));
    assert.match(r.out, /^Read from the running instance/m);
  });

  it('--json prints the structured form', async () => {
    const r = await cli(['explain', n('givenup'), '--json', '--namespace', ns, '--http-port', String(port)]);
    assert.equal(r.code, 0, r.err);
    const e = JSON.parse(r.out) as { reason: string; verdict: string; budget: { state: string; streak: number }; source: { kind: string } };
    assert.equal(e.reason, 'given_up');
    assert.equal(e.verdict, 'left_alone');
    assert.equal(e.budget.state, 'given_up');
    assert.equal(e.source.kind, 'instance');
  });

  describe('after Repairman stopped: the engine and the journal file', () => {
    const alone = new Map<string, { code: number | null; out: string; err: string }>();
    before(async () => {
      const e = await rm.stop();
      assert.equal(e.code, 0);
      for (const s of NAMES) alone.set(s, await cli(['explain', name(s), '--namespace', ns, '--db-path', dbPath, '--heal-exited-lookback', '0']));
    });

    it('the same sentences, read from the engine and the file (said so)', () => {
      for (const [s, re] of Object.entries(EXPECTED)) {
        const r = alone.get(s)!;
        assert.equal(r.code, 0, `${s}: ${r.err}`);
        assert.match(sentence(r.out), re, `${s}:\n${r.out}`);
        assert.equal(sentence(r.out), sentence(live.get(s)!.out), `${s}: same sentence both ways`);
        assert.match(r.out, new RegExp(`^Read from the engine and ${dbPath.replace(/[.]/g, '\\.')}; times in UTC$`, 'm'), r.out);
      }
      // The given-up and the wait come from the file: their times are those the instance showed.
      assert.match(alone.get('givenup')!.out, /^Budget: given up at .*; 1 of 1 restarts in the 300 s frame; 1 in a row without recovery \(gives up at 1\)$/m);
      const old = alone.get('oldcrash')!.out;
      assert.match(sentence(old), /^Left alone: it crashed with exit code 3 at .* UTC, before the look-back: only crashes since .* UTC count \(heal_exited_lookback=0 s before a Repairman on this journal was last alive at .* UTC\)\.$/, old);
      assert.match(alone.get('db')!.out, new RegExp(`^Dependents: ${n('app')} \\(label\\) \\(restarted after it\\)$`, 'm'));
    });

    it('without --db-path on the command line: tries the instance, says none answered, reads the file', async () => {
      const r = await cli(['explain', n('givenup'), '--namespace', ns, '--http-port', String(port)], { DB_PATH: dbPath });
      assert.equal(r.code, 0, r.err);
      assert.match(sentence(r.out), EXPECTED.givenup!);
      assert.match(r.out, new RegExp(`^Note: no running Repairman answered at http://127\\.0\\.0\\.1:${port}/ \\(.*ECONNREFUSED.*\\)\\.$`, 'm'));
    });

    it('status --db-path FILE prints the same table from the engine and the file', async () => {
      const r = await cli(['status', '--namespace', ns, '--db-path', dbPath]);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, new RegExp(`^Read from the engine and ${dbPath.replace(/[.]/g, '\\.')}, not from a running Repairman; one on this file was last alive .* ago\\); times in UTC$`, 'm'));
      assert.match(r.out, new RegExp(`^${n('givenup')} +unhealthy +given up +1 +1 +`, 'm'), r.out);
      assert.match(r.out, new RegExp(`^${n('waiting')} +unhealthy +waiting until `, 'm'), r.out);
      assert.match(r.out, new RegExp(`^${n('maint')} +\\S+ +paused until `, 'm'), r.out);
      assert.match(r.out, new RegExp(`Not watched: .*${n('optout')} \\(enable_autoheal is false\\)`), r.out);
      assert.match(r.out, new RegExp(`${n('app')}: restarted after ${n('db')} \\(label\\)`), r.out);
      const json = await cli(['status', '--json', '--namespace', ns, '--db-path', dbPath]);
      const body = JSON.parse(json.out) as { source: { kind: string; dbPath: string }; containers: { name: string; budget: { state: string } }[] };
      assert.deepEqual({ kind: body.source.kind, dbPath: body.source.dbPath }, { kind: 'file', dbPath });
      assert.equal(body.containers.find((c) => c.name === n('givenup'))?.budget.state, 'given_up');
    });
  });
});

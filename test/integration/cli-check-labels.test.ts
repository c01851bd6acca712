// `repairman check-labels` (the built binary) against the private engine: real containers with good
// and bad labels.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli, type CliResult } from '../helpers/cli.js';
import { engineEnv, hasTestEngine, inspectField, removeNamespace, runContainer, uniqueNamespace, waitFor } from '../helpers/engine.js';

const P = 'org.riotkit.repairman.';

const cli = (args: string[], env: Record<string, string> = {}): Promise<CliResult> => runCli(args, { ...engineEnv(), ...env });

describe('check-labels on a real engine', { skip: !hasTestEngine() && 'REPAIRMAN_TEST_DOCKER_HOST is not set' }, () => {
  const ns = uniqueNamespace('cli-labels');
  before(async () => {
    await Promise.all([
      runContainer(`${ns}bad`, {
        labels: {
          [`${P}enable_autoheal`]: 'maybe',
          [`${P}max_restarts_in_frame`]: 'lots',
          [`${P}enable_autohael`]: 'true',
          [`${P}notify_url`]: 'hooks.example.org/services/SECRETTOKEN',
          [`${P}stop_timeout`]: '5',
        },
      }),
      runContainer(`${ns}good`, { labels: { [`${P}stop_timeout`]: '1m', [`${P}notify_level`]: 'debug' }, cmd: 'exit 3' }),
      runContainer(`${ns}plain`),
    ]);
    // `exit 3` takes a moment on a loaded engine; the listing below expects it already exited.
    await waitFor(`${ns}good to exit`, async () => (await inspectField(`${ns}good`, '{{.State.Status}}')) === 'exited' || undefined);
  });
  after(async () => {
    await removeNamespace(ns);
  });

  it('lists each bad label with its key, value and fallback, and exits 1', async () => {
    const r = await cli(['check-labels', '--namespace', ns]);
    assert.equal(r.code, 1, r.err);
    assert.match(r.out, new RegExp(`^${ns}bad \\(running\\): 4 problems$`, 'm'));
    assert.match(r.out, /bad label org\.riotkit\.repairman\.enable_autoheal="maybe": expected true\/false.*; using false \[RM_LABEL_INVALID\]/);
    assert.match(r.out, /bad label org\.riotkit\.repairman\.max_restarts_in_frame="lots": expected a whole number.*; using 2 \(global\) \[RM_LABEL_INVALID\]/);
    assert.match(r.out, /unknown label org\.riotkit\.repairman\.enable_autohael="true": .*did you mean org\.riotkit\.repairman\.enable_autoheal\?/);
    assert.match(r.out, /bad label org\.riotkit\.repairman\.notify_url="hooks\.example\.org\/\*\*\*"/);
    assert.ok(!r.out.includes('SECRETTOKEN') && !r.err.includes('SECRETTOKEN'));
    // valid labels of the same container still apply
    assert.match(r.out, /stop_timeout=5 \(label\)/);
    // the other containers, whatever their state, are listed too
    assert.match(r.out, new RegExp(`^${ns}good \\(exited\\): ok$`, 'm'));
    assert.match(r.out, new RegExp(`^${ns}plain \\(running\\): ok$`, 'm'));
    assert.match(r.out, /^3 containers checked, 4 problems$/m);
  });

  it('global settings are the fallbacks', async () => {
    const r = await cli(['check-labels', `${ns}bad`], { DEFAULT_MAX_RESTARTS_IN_FRAME: '4', DEFAULT_FRAME_SIZE: '600' });
    assert.equal(r.code, 1);
    assert.match(r.out, /max_restarts_in_frame="lots".*; using 4 \(global\)/);
  });

  it('only the NAMEs asked for; exit 0 when they are fine', async () => {
    const r = await cli(['check-labels', `${ns}good`, `${ns}plain`]);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /stop_timeout=60 \(label\)/);
    assert.match(r.out, /notify_level=DEBUG \(label\)/);
    assert.match(r.out, /^2 containers checked, 0 problems$/m);
    const missing = await cli(['check-labels', `${ns}nope`]);
    assert.equal(missing.code, 1);
    assert.match(missing.out, new RegExp(`^${ns}nope: no such container$`, 'm'));
  });

  it('--json', async () => {
    const r = await cli(['check-labels', '--json', '--namespace', ns]);
    assert.equal(r.code, 1);
    const doc = JSON.parse(r.out) as { containers: { name: string; problems: { label: string; value: string; fallback: string }[]; policy: { enableAutoheal: boolean } }[]; problemCount: number };
    assert.equal(doc.problemCount, 4);
    const bad = doc.containers.find((c) => c.name === `${ns}bad`)!;
    assert.equal(bad.policy.enableAutoheal, false);
    assert.deepEqual(bad.problems.find((p) => p.label === `${P}enable_autoheal`), {
      container: `${ns}bad`, label: `${P}enable_autoheal`, value: 'maybe', expected: 'true/false, yes/no, y/n, 1/0 or on/off (any case)', fallback: 'false', code: 'RM_LABEL_INVALID',
    });
  });
});

// Security finding 5 (issue 17): one masking rule for label values everywhere, and label text that is
// safe on a terminal. Before the fix, unknown label keys with secret-looking values (`webhook=tok_live_
// ...`, a scheme-less hooks.slack.com/services/... URL) appeared in full in the log, the journal,
// /api/events, the JSON report and the page, and keys with ESC sequences reached the terminal raw in
// `check-labels`.
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliResult } from '../helpers/cli.js';
import { engineEnv, hasTestEngine, removeNamespace, runContainer, uniqueNamespace } from '../helpers/engine.js';
import { startRepairman } from '../helpers/repairman.js';

const P = 'org.riotkit.repairman.';
const SECRETS = ['4eC39HqLyjWDarjtT1zdp7dc', 'SlackSecretXyz123', 'TypoSecretXyz123'];
const ESC = '\u001b';

const cli = (args: string[]): Promise<CliResult> => runCli(args, engineEnv());

function assertNoSecret(where: string, text: string): void {
  for (const s of SECRETS) assert.ok(!text.includes(s), `${where} shows the secret ${s}:\n${text.slice(0, 4000)}`);
}

describe('label values are masked everywhere', () => {
  it('log, journal, /api/events, the JSON report, the page and check-labels never show a secret-looking label value', async (t: TestContext) => {
    if (!hasTestEngine()) return t.skip('no private engine');
    const ns = uniqueNamespace('sec-mask');
    const dir = await mkdtemp(join(tmpdir(), 'rm-sec-mask-'));
    t.after(async () => {
      await removeNamespace(ns);
      await rm(dir, { recursive: true, force: true });
    });
    const name = `${ns}shop`;
    await runContainer(name, {
      labels: {
        [`${P}webhook`]: `tok_live_${SECRETS[0]}`,
        [`${P}slack`]: `hooks.slack.com/services/T0AAAA/B0BBBB/${SECRETS[1]}`,
        [`${P}notify_urll`]: `hooks.slack.com/services/T0AAAA/B0BBBB/${SECRETS[2]}`,
        // A harmless value stays readable (the rule masks secrets, not everything).
        [`${P}max_restart`]: '3',
        [`${P}${ESC}[2J${ESC}]0;pwned${ESC}\\evil`]: `${ESC}[31mred`,
      },
    });
    const dbPath = join(dir, 'journal.db');
    const rm1 = await startRepairman({ namespace: ns, http: true, dbPath });
    t.after(() => rm1.stop());
    // Every problem is reported (so this test is not passing on silence).
    await rm1.waitForLog((l) => l.msg === 'label problem' && String(l.label).endsWith('max_restart'), 10_000);
    await rm1.waitForLog((l) => l.msg === 'label problem' && String(l.label).endsWith('webhook'), 10_000);
    await rm1.waitForLog((l) => l.msg === 'label problem' && String(l.label).endsWith('notify_urll'), 10_000);
    const problemLines = rm1.find('label problem');
    assert.ok(problemLines.some((l) => l.value === '3'), `a harmless value stays readable: ${JSON.stringify(problemLines)}`);

    assertNoSecret('the log', JSON.stringify(rm1.lines) + rm1.rawStdout.join('\n'));
    const events = await (await fetch(rm1.url('/api/events?limit=100'))).text();
    assert.match(events, /max_restart/);
    assertNoSecret('/api/events', events);
    const report = await (await fetch(rm1.url('/?limit=100'))).text();
    assertNoSecret('the JSON report', report);
    const page = await (await fetch(rm1.url('/?limit=100'), { headers: { accept: 'text/html' } })).text();
    assert.match(page, /max_restart/);
    assertNoSecret('the page', page);
    assert.ok(!page.includes(ESC), 'the page carries a raw ESC');
    assertNoSecret('/api/containers', await (await fetch(rm1.url('/api/containers'))).text());
    await rm1.stop();

    const history = await cli(['history', '--json', '--limit', '100', '--db-path', dbPath]);
    assert.equal(history.code, 0, history.err);
    assert.match(history.out, /webhook/);
    assertNoSecret('the journal (history --json)', history.out);

    const check = await cli(['check-labels', '--namespace', ns]);
    assert.equal(check.code, 1, check.err);
    assert.match(check.out, /webhook/);
    assertNoSecret('check-labels', check.out);
    assert.ok(!check.out.includes(ESC), `check-labels printed a raw ESC: ${JSON.stringify(check.out)}`);
    const checkJson = await cli(['check-labels', '--json', '--namespace', ns]);
    assertNoSecret('check-labels --json', checkJson.out);
  });
});

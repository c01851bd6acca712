// examples/prometheus and examples/grafana against a running Repairman on the private engine:
// - promtool: the scrape configuration and the alert rules are valid, and `promtool test rules` passes
//   (every alert has a case where it fires and one where it stays quiet, and runbook text);
// - a real /metrics scrape, taken while one container is given up, one has a bad label and one is left
//   alone, passes `promtool check metrics`, follows the naming rules (counters end in _total, units in
//   names, no container ids anywhere), and has every metric the rules and the dashboard query;
// - Debian's Prometheus (its own data dir, a loopback port) scrapes that Repairman with the example's
//   static job and fires RepairmanContainerGivenUp for the container, with its name and host.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm as removeDir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { docker, hasTestEngine, removeNamespace, runContainer, uniqueNamespace, waitFor } from '../helpers/engine.js';
import { metricsInExpr, parseScrape, readYaml, REPO_ROOT, runTool } from '../helpers/monitoring.js';
import { freePort, startRepairman, type RepairmanProcess } from '../helpers/repairman.js';

const PROM_DIR = join(REPO_ROOT, 'examples/prometheus');
const DASHBOARD = join(REPO_ROOT, 'examples/grafana/repairman-fleet.json');
const NEVER_HEALTHY = 'trap "exit 0" TERM; sleep 100000 & wait'; // with health `test -f /tmp/ok`: never there

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleTests {
  rule_files: string[];
  tests: { name: string; alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos?: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: { expr: string; datasource?: { uid: string } }[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: string | { query: string } }[] };
}

async function rules(): Promise<Rule[]> {
  const doc = await readYaml<{ groups: { rules: Rule[] }[] }>(join(PROM_DIR, 'alerts.yml'));
  return doc.groups.flatMap((g) => g.rules);
}

function dashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
}

/** Every PromQL expression of the dashboard: panel targets and template-variable queries. */
function dashboardExprs(d: Dashboard): string[] {
  const exprs = d.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  for (const v of d.templating.list) {
    if (v.type === 'query') exprs.push(typeof v.query === 'string' ? v.query : v.query.query);
  }
  return exprs;
}

async function getText(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  assert.equal(res.status, 200, url);
  return res.text();
}

describe('monitoring examples: Prometheus rules, scrape, Grafana dashboard', { skip: !hasTestEngine() && 'REPAIRMAN_TEST_DOCKER_HOST is not set' }, () => {
  const ns = uniqueNamespace('monitor');
  const giveup = `${ns}giveup`;
  const badLabel = `${ns}badlabel`;
  const leftAlone = `${ns}leftalone`;
  let rm: RepairmanProcess;
  let scrape = '';

  before(async () => {
    rm = await startRepairman({ namespace: ns, http: true, args: ['--seconds-between-restarts', '1'] });
    await Promise.all([
      runContainer(giveup, {
        cmd: NEVER_HEALTHY,
        health: { cmd: 'test -f /tmp/ok' },
        labels: { 'org.riotkit.repairman.max_restarts_in_frame': '0', 'org.riotkit.repairman.max_checks_to_give_up': '2' },
      }),
      runContainer(badLabel, { labels: { 'org.riotkit.repairman.max_restarts_in_frame': 'lots' } }),
      runContainer(leftAlone, { cmd: NEVER_HEALTHY, health: { cmd: 'test -f /tmp/ok' }, labels: { 'org.riotkit.repairman.enable_autoheal': 'false' } }),
    ]);
    await rm.waitForLog((l) => l.msg === 'gave up' && l.container === giveup, 60_000);
    scrape = await waitFor('a scrape with the given-up container and a skip', async () => {
      const text = await getText(rm.url('/metrics'));
      return text.includes(`container="${giveup}"`) && /^repairman_skips_total\{/m.test(text) && /^repairman_label_problems [1-9]/m.test(text) ? text : '';
    }, 30_000, 500);
  });
  after(async () => {
    await rm?.stop();
    await removeNamespace(ns);
  });

  it('prometheus.yml and alerts.yml pass promtool check; alerts.test.yml passes promtool test rules', async () => {
    const config = await runTool('promtool', ['check', 'config', join(PROM_DIR, 'prometheus.yml')]);
    assert.equal(config.code, 0, config.out);
    assert.match(config.out, /SUCCESS: 7 rules found/);
    const unit = await runTool('promtool', ['test', 'rules', 'examples/prometheus/alerts.test.yml']);
    assert.equal(unit.code, 0, unit.out);
    assert.match(unit.out, /SUCCESS/);
  });

  it('every alert has a severity, a summary, a description and a runbook, and a firing and a quiet unit test', async () => {
    const all = await rules();
    assert.deepEqual(all.map((r) => r.alert).sort(), [
      'RepairmanContainerGivenUp', 'RepairmanContainerLongerWait', 'RepairmanDown', 'RepairmanEngineUnreachable',
      'RepairmanJournalDegraded', 'RepairmanLabelProblems', 'RepairmanRestartStorm',
    ]);
    const tests = await readYaml<RuleTests>(join(PROM_DIR, 'alerts.test.yml'));
    assert.deepEqual(tests.rule_files, ['alerts.yml']);
    const cases = tests.tests.flatMap((t) => t.alert_rule_test);
    for (const r of all) {
      assert.match(r.labels?.severity ?? '', /^(critical|warning|info)$/, `${r.alert}: severity`);
      for (const a of ['summary', 'description', 'runbook']) assert.ok((r.annotations?.[a] ?? '').length > 20, `${r.alert}: annotation ${a}`);
      const mine = cases.filter((c) => c.alertname === r.alert);
      assert.ok(mine.some((c) => c.exp_alerts.length > 0), `${r.alert}: a unit test where it fires`);
      assert.ok(mine.some((c) => c.exp_alerts.length === 0), `${r.alert}: a unit test where it stays quiet`);
    }
  });

  it('a real scrape passes promtool check metrics and names things the Prometheus way', async () => {
    const lint = await runTool('promtool', ['check', 'metrics'], { stdin: scrape });
    assert.equal(lint.code, 0, lint.out);
    assert.equal(lint.out.trim(), '', lint.out);
    const families = parseScrape(scrape);
    assert.ok(families.size >= 25, `${families.size} families`);
    for (const [name, f] of families) {
      assert.match(name, /^repairman_[a-z0-9_]+$/, name);
      if (f.type === 'counter') assert.match(name, /_total$/, `counter ${name} ends in _total`);
      else assert.doesNotMatch(name, /_total$/, `${f.type} ${name} does not end in _total`);
      assert.doesNotMatch(name, /_(ms|milliseconds|kb|mb|minutes)$/, `${name}: base units (seconds, bytes)`);
      for (const s of f.samples) {
        for (const label of Object.keys(s.labels)) assert.doesNotMatch(label, /id$/i, `${name}: label ${label}`);
      }
    }
    // No container id anywhere, not even as part of a value; containers are named.
    const ids = (await docker(['ps', '-aq', '--no-trunc', '--filter', `name=^/${ns}`])).split('\n').filter(Boolean);
    assert.equal(ids.length, 3);
    for (const id of ids) assert.ok(!scrape.includes(id.slice(0, 12)), `container id ${id.slice(0, 12)} in the scrape`);
    const state = families.get('repairman_container_budget_state');
    assert.deepEqual(state?.samples.filter((s) => s.labels.container?.startsWith(ns)).map((s) => s.labels), [{ container: giveup, state: 'given_up' }]);
    assert.equal(families.get('repairman_budget_containers')?.samples.find((s) => s.labels.state === 'given_up')?.value, '1');
  });

  it('every metric the alert rules and the dashboard query is in the scrape', async () => {
    const served = new Set(parseScrape(scrape).keys());
    const used = new Map<string, string>();
    for (const r of await rules()) for (const m of metricsInExpr(r.expr)) used.set(m, `alert ${r.alert}`);
    for (const e of dashboardExprs(dashboard())) for (const m of metricsInExpr(e)) used.set(m, `dashboard: ${e}`);
    assert.ok(used.size >= 20, `${used.size} metrics used`);
    for (const [m, where] of used) {
      if (m === 'up') continue;
      assert.ok(served.has(m), `${m} (${where}) is not served by Repairman`);
    }
    // `up{job=~"repairman.*"}` matches the jobs of prometheus.yml.
    const config = await readYaml<{ scrape_configs: { job_name: string }[] }>(join(PROM_DIR, 'prometheus.yml'));
    assert.deepEqual(config.scrape_configs.map((j) => j.job_name).filter((j) => /^repairman.*$/.test(j)), ['repairman', 'repairman-swarm']);
  });

  it('the Grafana dashboard: fleet, host and container sections over one Prometheus data source', () => {
    const d = dashboard();
    assert.equal(d.uid, 'repairman-fleet');
    const rows = d.panels.filter((p) => p.type === 'row').map((p) => p.title);
    assert.deepEqual(rows, ['Fleet', 'Host: $host', 'Containers in trouble']);
    assert.deepEqual(d.templating.list.map((v) => v.name), ['datasource', 'host', 'container']);
    const ids = d.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    for (const p of d.panels.filter((x) => x.type !== 'row')) {
      assert.ok(p.gridPos && p.gridPos.x + p.gridPos.w <= 24, `${p.title}: fits the 24-column grid`);
      assert.equal(p.datasource?.uid, '${datasource}', `${p.title}: the chosen data source`);
      assert.ok((p.targets ?? []).length > 0, `${p.title}: has a query`);
    }
    // Per-host and per-container panels follow the variables.
    const hostRow = d.panels.slice(d.panels.findIndex((p) => p.title === 'Host: $host'));
    for (const p of hostRow.filter((x) => x.type !== 'row')) for (const t of p.targets ?? []) assert.match(t.expr, /host=~"\$host"/, p.title);
  });

  it("Prometheus with the example's static job and rules fires RepairmanContainerGivenUp for the container", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'repairman-prom-'));
    const example = await readYaml<{ scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[] }>(join(PROM_DIR, 'prometheus.yml'));
    const job = example.scrape_configs.find((j) => j.job_name === 'repairman');
    assert.ok(job);
    job.static_configs = [{ targets: [`127.0.0.1:${rm.httpPort}`] }];
    // Short intervals so the test takes seconds; the rules file is the example itself.
    const config = { global: { scrape_interval: '1s', evaluation_interval: '1s' }, rule_files: [join(PROM_DIR, 'alerts.yml')], scrape_configs: [job] };
    await writeFile(join(dir, 'prometheus.yml'), JSON.stringify(config));
    const port = await freePort();
    let prom: ChildProcess | null = null;
    let log = '';
    try {
      prom = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
      prom.stdout!.on('data', (c: Buffer) => (log += c.toString()));
      prom.stderr!.on('data', (c: Buffer) => (log += c.toString()));
      const api = `http://127.0.0.1:${port}/api/v1`;
      interface Alert { labels: Record<string, string>; annotations: Record<string, string>; state: string }
      const fired = await waitFor('RepairmanContainerGivenUp firing in Prometheus', async () => {
        const body = JSON.parse(await getText(`${api}/alerts`)) as { data: { alerts: Alert[] } };
        return body.data.alerts.find((a) => a.labels.alertname === 'RepairmanContainerGivenUp' && a.labels.container === giveup && a.state === 'firing');
      }, 60_000, 500).catch((err: unknown): never => assert.fail(`${String(err)}\n--- prometheus ---\n${log.slice(-3000)}`));
      assert.ok(fired);
      assert.equal(fired.labels.host, '127.0.0.1', "the host label from the example's relabelling");
      assert.equal(fired.labels.severity, 'critical');
      assert.equal(fired.annotations.summary, `${giveup} on 127.0.0.1 was given up`);
      assert.match(fired.annotations.runbook ?? '', new RegExp(`repairman history ${giveup}`));
      // The target is healthy, and nothing else fires: a running Repairman with a reachable engine.
      const targets = JSON.parse(await getText(`${api}/targets`)) as { data: { activeTargets: { health: string; labels: Record<string, string> }[] } };
      assert.deepEqual(targets.data.activeTargets.map((t) => [t.health, t.labels.job, t.labels.host]), [['up', 'repairman', '127.0.0.1']]);
      const body = JSON.parse(await getText(`${api}/alerts`)) as { data: { alerts: Alert[] } };
      const others = body.data.alerts.filter((a) => !a.labels.container?.startsWith(ns)).map((a) => a.labels.alertname);
      assert.ok(!others.includes('RepairmanDown') && !others.includes('RepairmanEngineUnreachable'), others.join(', '));
    } finally {
      prom?.kill('SIGTERM');
      if (prom && prom.exitCode === null) await new Promise((r) => prom!.once('exit', r));
      await removeDir(dir, { recursive: true, force: true });
    }
  });
});

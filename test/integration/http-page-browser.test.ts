// The status page in a real browser (Debian's chromium driven by playwright-core).
// 1. Against a fake state holding containers in every budget state and a name with markup in it: the
//    containers show, the odd name stays text, the SVG timeline has marks, the page refreshes itself,
//    nothing scrolls sideways at 375 px, and no script or CSP error happens.
// 2. Against a real Repairman healing containers on the private engine (crash loop, unhealthy, a
//    give-up): the page follows them as they are healed. Its screenshot goes to docs/status-page.png
//    (the README shows it) when REPAIRMAN_UPDATE_SCREENSHOT=1, to the temp dir otherwise.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { silentLogger } from '../../src/log.js';
import { startHttpServer, type RunningHttpServer } from '../../src/http/server.js';
import { docker, hasTestEngine, removeNamespace, runContainer, uniqueNamespace, waitFor } from '../helpers/engine.js';
import { FakeState, ODD_NAME } from '../helpers/fake-state.js';
import { httpRequest } from '../helpers/http.js';
import { startRepairman, type RepairmanProcess } from '../helpers/repairman.js';

const CHROMIUM = '/usr/bin/chromium';
const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const LAUNCH_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe('status page in chromium', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed` }, () => {
  let browser: Browser;
  let srv: RunningHttpServer;
  let state: FakeState;
  const problems: string[] = [];

  before(async () => {
    state = new FakeState({ nowMs: Date.now() });
    // The fake's gap wait ends 12 s after it was made; a loaded machine can take longer than that to
    // start chromium, so give it two minutes (the page must still show "waiting until ... (in ...)").
    const web = state.containerList.find((c) => c.name === 'web');
    if (web?.budget.untilMs) web.budget.untilMs += 108_000;
    srv = await startHttpServer({ address: '127.0.0.1', port: 0, prefix: '/a.b(c)+', state, log: silentLogger, timeZone: 'Europe/Warsaw' });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: LAUNCH_ARGS });
  });
  after(async () => {
    await browser?.close();
    await srv?.close();
  });

  async function open(width: number, height: number, url = srv.url): Promise<Page> {
    const page = await browser.newPage({ viewport: { width, height }, deviceScaleFactor: width < 500 ? 2 : 1 });
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      // The document itself answers 500 while containers are failing (the report's status); Chrome
      // logs that as a failed load. Anything else (a fetch, a favicon, CSP) is a problem.
      const where = msg.location().url;
      if (where === url && /status of 500/.test(msg.text())) return;
      if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`console ${msg.type()}: ${msg.text()} at ${where}`);
    });
    const res = await page.goto(url);
    assert.equal(res?.status(), 500, 'the page keeps the report status (some containers are failing)');
    return page;
  }

  it('shows every watched container, the odd name as text, budget states and the timeline', async () => {
    const page = await open(1280, 900);
    const names = await page.locator('article.card h3.name').allTextContents();
    const watched = state.containerList.filter((c) => c.watched).map((c) => c.name);
    assert.deepEqual([...names].sort(), [...watched].sort());
    assert.ok(names.includes(ODD_NAME), 'the odd name shows exactly as text');
    assert.equal(await page.locator('img').count(), 0, 'no element injected from a name');
    assert.equal(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned), undefined);
    const budgets = await page.locator('article.card dd .badge').allTextContents();
    assert.ok(budgets.some((t) => /^waiting until \d\d:\d\d:\d\d \(in (\d+m )?\d+s\)$/.test(t)), budgets.join(' | '));
    assert.ok(budgets.some((t) => /^longer wait until \d\d:\d\d:\d\d \(in 9m 0s\)$/.test(t)) || budgets.some((t) => t.startsWith('longer wait until')), budgets.join(' | '));
    assert.ok(budgets.includes('given up'));
    assert.ok(budgets.includes('ok'));
    // The first card is the most urgent.
    assert.equal(names[0], 'queue');
    const marks = page.locator('svg.timeline line.mark');
    assert.equal(await marks.count(), 6, 'one mark per restart in the last 24 hours');
    assert.ok((await page.locator('svg.timeline g.row').count()) >= watched.length);
    assert.ok((await page.locator('svg.timeline text.tick').count()) >= 5, 'a time axis');
    const box = await marks.first().boundingBox();
    assert.ok(box && box.width > 0 && box.height > 0, 'marks are drawn');
    assert.match((await page.locator('#duplicates').textContent()) ?? '', /held back: younger than 60 seconds/);
    assert.ok(!((await page.content()).includes('SECRETTOKEN')));
    await page.screenshot({ path: join(tmpdir(), 'repairman-status-page-fake.png'), fullPage: true });
    await page.close();
  });

  it('refreshes itself from the JSON API (loaded without the trailing slash) and keeps names as text', async () => {
    // /a.b(c)+ rather than /a.b(c)+/: the page's relative fetches must still land under the prefix.
    const page = await open(1024, 800, srv.url.slice(0, -1));
    assert.match(page.url(), /\/a\.b\(c\)\+$/);
    const before = await page.locator('#app').getAttribute('data-refreshed');
    assert.equal(before, null, 'server-rendered first paint');
    const newName = `new<b>bold</b>&"${Date.now()}`;
    const first = state.containerList[0];
    assert.ok(first);
    state.containerList.push({ ...structuredClone(first), name: newName, budget: { ...first.budget, state: 'given_up', untilMs: null } });
    state.restarts.push({ container: newName, atMs: Date.now() - 60_000, kind: 'restart_failed' });
    await page.waitForFunction(() => (globalThis as unknown as { document: { getElementById(id: string): { getAttribute(n: string): string | null } | null } })
      .document.getElementById('app')?.getAttribute('data-refreshed') != null, undefined, { timeout: 15_000 });
    await page.locator('article.card h3.name', { hasText: newName }).waitFor({ timeout: 5000 });
    assert.equal(await page.locator('b').count(), 0);
    assert.equal(await page.locator('img').count(), 0);
    assert.equal(await page.locator('svg.timeline line.mark').count(), 7);
    assert.equal(await page.locator('svg.timeline line.mark.kind-restart_failed').count(), 2);
    state.containerList.pop();
    state.restarts.pop();
    await page.close();
  });

  it('fits a 375 px phone screen without horizontal scrolling', async () => {
    const page = await open(375, 740);
    const sizes = await page.evaluate(() => {
      const d = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
      return { scroll: d.scrollWidth, client: d.clientWidth };
    });
    assert.ok(sizes.scroll <= sizes.client, `scrollWidth ${sizes.scroll} > clientWidth ${sizes.client}`);
    assert.equal(sizes.client, 375);
    for (const box of await page.locator('article.card').evaluateAll((els) => els.map((e) => (e as unknown as { getBoundingClientRect(): { right: number } }).getBoundingClientRect().right))) {
      assert.ok(box <= 375, `a card ends at ${box}`);
    }
    await page.screenshot({ path: join(tmpdir(), 'repairman-status-page-phone.png'), fullPage: true });
    await page.close();
  });

  it('raised no script, console or CSP error', () => {
    assert.deepEqual(problems, []);
  });
});

const LABEL = 'org.riotkit.repairman.';
const SKIP_REAL = !existsSync(CHROMIUM) ? `${CHROMIUM} is not installed` : !hasTestEngine() ? 'REPAIRMAN_TEST_DOCKER_HOST is not set' : false;

describe('status page of a real Repairman healing containers', { skip: SKIP_REAL }, () => {
  const ns = uniqueNamespace('page');
  let browser: Browser;
  let rm: RepairmanProcess;
  const problems: string[] = [];

  before(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: LAUNCH_ARGS });
    rm = await startRepairman({ namespace: ns, http: true, intervalSec: 5, args: ['--http-prefix', '/status'], env: { TZ: 'Europe/Warsaw' } });
    const quick = { [`${LABEL}seconds_between_restarts`]: '1' };
    await Promise.all([
      // Healthy all along.
      runContainer(`${ns}web`, { health: { cmd: 'true' } }),
      runContainer(`${ns}db`, { health: { cmd: 'true' } }),
      // Crashes every 2 s: healed (started) until its frame's limit, then the longer wait.
      runContainer(`${ns}worker`, { cmd: 'sleep 2; exit 3', labels: { ...quick, [`${LABEL}max_restarts_in_frame`]: '3' } }),
      // Never healthy: restarted twice, then given up.
      runContainer(`${ns}mailer`, {
        health: { cmd: 'false' },
        labels: { ...quick, [`${LABEL}max_restarts_in_frame`]: '2', [`${LABEL}max_checks_to_give_up`]: '2' },
      }),
      // Unhealthy, with a long gap between restarts: waiting.
      runContainer(`${ns}search`, { health: { cmd: 'false' }, labels: { [`${LABEL}seconds_between_restarts`]: '120' } }),
      // Opted out.
      runContainer(`${ns}backup`, { labels: { [`${LABEL}enable_autoheal`]: 'false' } }),
      // Stopped by a person while Repairman watches (sh as PID 1 ignores SIGTERM: killed, code 137).
      runContainer(`${ns}cron`, { cmd: 'sleep 100000' }),
    ]);
    await rm.waitForLog('watching');
    await docker(['stop', '-t', '1', `${ns}cron`]);
  });
  after(async () => {
    await browser?.close();
    await rm?.stop();
    await removeNamespace(ns);
  });

  it('shows the containers as they are healed, with budget states and a drawn timeline', async (t) => {
    // Let the healing happen: the three budget states Repairman reaches on its own.
    type Api = { containers: { name: string; budget: { state: string } }[]; timeline: { restarts: unknown[] } };
    const states = await waitFor('worker in a longer wait, mailer given up, search waiting', async () => {
      const r = await httpRequest(rm.httpPort ?? 0, '/status/api/containers');
      const body = JSON.parse(r.body) as Api;
      const st = (n: string): string | undefined => body.containers.find((c) => c.name === `${ns}${n}`)?.budget.state;
      // The budget is saved before the engine call and the journal entry after it: wait for both.
      return st('worker') === 'longer_wait' && st('mailer') === 'given_up' && st('search') === 'waiting' && body.timeline.restarts.length >= 6
        ? body
        : null;
    }, 60_000, 500);
    assert.ok(states);
    assert.ok(states.timeline.restarts.length >= 6, `${states.timeline.restarts.length} restarts`);

    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.location().url.endsWith('/status/') && /status of 500/.test(msg.text())) return;
      if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`console ${msg.type()}: ${msg.text()}`);
    });
    const res = await page.goto(rm.url('/status/'));
    assert.equal(res?.status(), 500, 'a longer wait and a give-up make global_status false');
    const names = await page.locator('article.card h3.name').allTextContents();
    assert.deepEqual([...names].sort(), ['cron', 'db', 'mailer', 'search', 'web', 'worker'].map((n) => `${ns}${n}`));
    const card = (n: string) => page.locator(`article.card[data-container="${ns}${n}"]`);
    assert.match((await card('worker').locator('dd .badge').textContent()) ?? '', /^longer wait until \d\d:\d\d:\d\d \(in \d+m \d+s\)$/);
    assert.equal(await card('mailer').locator('dd .badge').textContent(), 'given up');
    assert.match((await card('search').locator('dd .badge').textContent()) ?? '', /^waiting until /);
    assert.equal(await card('web').locator('dd .badge').textContent(), 'ok');
    // Stopped by hand: said so, not red, not counted as down (docs/behaviour.md §2.2 leaves it alone).
    assert.equal(await card('cron').locator('.card-head .badge').textContent(), 'stopped by hand, left alone');
    assert.equal(await card('cron').locator('.card-head .badge.bad').count(), 0);
    const down = Number(await page.locator('.tile', { hasText: 'Unhealthy or down' }).locator('.num').textContent());
    const redCards = await page.locator('article.card .card-head .badge.bad').count();
    assert.equal(down, redCards, 'the tile counts the red cards only');
    assert.deepEqual(rm.actionsOn(`${ns}cron`), [], 'left alone');
    assert.match((await page.locator('#unwatched').textContent()) ?? '', new RegExp(`${ns}backup`));
    const marks = await page.locator('svg.timeline line.mark').count();
    assert.ok(marks >= 6, `${marks} marks`);
    assert.equal(await page.locator(`svg.timeline g.row[data-container="${ns}worker"] line.mark`).count(), 3);
    // It keeps refreshing from the live instance.
    await page.waitForFunction(() => (globalThis as unknown as { document: { getElementById(id: string): { getAttribute(n: string): string | null } | null } })
      .document.getElementById('app')?.getAttribute('data-refreshed') != null, undefined, { timeout: 15_000 });
    assert.equal(await page.locator('article.card').count(), 6);
    const shot = join(tmpdir(), 'repairman-status-page.png');
    await page.screenshot({ path: shot, fullPage: true });
    if (process.env.REPAIRMAN_UPDATE_SCREENSHOT === '1') {
      mkdirSync(join(REPO, 'docs'), { recursive: true });
      copyFileSync(shot, join(REPO, 'docs', 'status-page.png'));
    }
    await page.setViewportSize({ width: 375, height: 740 });
    const wide = await page.evaluate(() => {
      const d = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
      return d.scrollWidth - d.clientWidth;
    });
    assert.ok(wide <= 0, `scrolls ${wide} px sideways at 375 px`);
    assert.deepEqual(problems, []);
    t.diagnostic(`${marks} restart marks; screenshot ${shot}`);
    await page.close();
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { runInNewContext, Script } from 'node:vm';
import { FakeState, ODD_NAME } from '../../test/helpers/fake-state.js';
import { buildContainersPayload, buildEventsPayload } from './payloads.js';
import { escapeHtml, pageCsp, renderPage, toHtml } from './page.js';
import { clientMain } from './page-client.js';
import { pageView, type VElement, type VNode } from './page-view.js';

const NOW = Date.UTC(2024, 6, 1, 10, 0, 0); // 12:00 in Warsaw (summer time)
const view = pageView();

function input(tz = 'Europe/Warsaw') {
  const s = new FakeState({ nowMs: NOW });
  return { state: s, data: buildContainersPayload(s, NOW, tz), events: buildEventsPayload(s, { limit: 20 }) };
}

function all(node: VNode, pred: (e: VElement) => boolean, out: VElement[] = []): VElement[] {
  if (typeof node === 'string') return out;
  if (pred(node)) out.push(node);
  for (const c of node.c ?? []) all(c, pred, out);
  return out;
}

function text(node: VNode): string {
  return typeof node === 'string' ? node : (node.c ?? []).map(text).join('');
}

describe('toHtml', () => {
  it('escapes text and attribute values', () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;');
    assert.equal(toHtml({ t: 'p', a: { title: '"><script>' }, c: ['<img src=x onerror=alert(1)>'] }),
      '<p title="&#34;&#62;&#60;script&#62;">&#60;img src=x onerror=alert(1)&#62;</p>');
  });

  it('refuses odd tag and attribute names and event handlers', () => {
    assert.throws(() => toHtml({ t: 'img src=x' }));
    assert.throws(() => toHtml({ t: 'p', a: { 'x"y': '1' } }));
    assert.throws(() => toHtml({ t: 'p', a: { onclick: 'alert(1)' } }));
  });

  // The first serializer, which joined the children at every level: toHtml now joins once, and must
  // write the same text and refuse the same trees.
  function nestedToHtml(node: VNode): string {
    if (typeof node === 'string') return node.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
    if (!/^[a-z][a-z0-9-]*$/.test(node.t)) throw new Error(`bad tag name ${node.t}`);
    let attrs = '';
    for (const [k, v] of Object.entries(node.a ?? {})) {
      if (!/^[a-z][a-z0-9-]*$/.test(k) || k.startsWith('on')) throw new Error(`bad attribute name ${k}`);
      attrs += ` ${k}="${v.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)}"`;
    }
    return `<${node.t}${attrs}>${(node.c ?? []).map(nestedToHtml).join('')}</${node.t}>`;
  }

  it('writes what joining at every level wrote, for any tree', () => {
    const name = fc.oneof(fc.constantFrom('p', 'div', 'svg', 'line', 'x-1', 'class', 'data-container', 'onclick', 'on'), fc.string({ maxLength: 6 }));
    const text = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('<b>', `"'&`, 'é…·', ''));
    const { tree } = fc.letrec<{ tree: VNode; el: VElement }>((tie) => ({
      tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, text, tie('el')),
      el: fc.record(
        { t: name, a: fc.dictionary(name, text, { maxKeys: 3 }), c: fc.array(tie('tree'), { maxLength: 4 }) },
        { requiredKeys: ['t'] },
      ),
    }));
    fc.assert(
      fc.property(tree, (node) => {
        let want: string | Error;
        try {
          want = nestedToHtml(node);
        } catch (err) {
          want = err as Error;
        }
        if (want instanceof Error) assert.throws(() => toHtml(node), { message: want.message });
        else assert.equal(toHtml(node), want);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('pageView', () => {
  it('formats times in the zone given, storage being UTC', () => {
    assert.equal(view.formatTime(NOW, 'Europe/Warsaw'), '2024-07-01 12:00:00');
    assert.equal(view.formatTime(NOW, 'UTC'), '2024-07-01 10:00:00');
    assert.equal(view.formatTime(Date.UTC(2024, 0, 1, 23, 0, 0), 'Europe/Warsaw'), '2024-01-02 00:00:00', 'no 24:00');
    assert.equal(view.formatTime(NOW, 'Not/AZone'), '2024-07-01 10:00:00', 'an unknown zone falls back to UTC');
    assert.equal(view.formatClock(NOW + 60_000, NOW, 'Europe/Warsaw'), '12:01:00');
    assert.equal(view.formatClock(NOW + 13 * 3600_000, NOW, 'Europe/Warsaw'), '2024-07-02 01:00');
  });

  it('formats durations', () => {
    assert.equal(view.formatDuration(0), '0s');
    assert.equal(view.formatDuration(59_400), '59s');
    assert.equal(view.formatDuration(75_000), '1m 15s');
    assert.equal(view.formatDuration(3_723_000), '1h 2m');
    assert.equal(view.formatDuration(50 * 3600_000), '2d 2h');
    assert.equal(view.formatDuration(-5), '0s');
  });

  it('says the budget state with until-times', () => {
    const { data } = input();
    const byName = (n: string) => data.containers.find((c) => c.name === n)!;
    assert.equal(view.budgetText(byName('web'), NOW, 'Europe/Warsaw'), 'waiting until 12:00:12 (in 12s)');
    assert.equal(view.budgetText(byName('db'), NOW, 'Europe/Warsaw'), 'longer wait until 12:09:00 (in 9m 0s)');
    assert.equal(view.budgetText(byName('queue'), NOW, 'Europe/Warsaw'), 'given up');
    assert.equal(view.budgetText(byName('api'), NOW, 'Europe/Warsaw'), 'ok');
    assert.equal(view.budgetText(byName('web'), NOW + 20_000, 'UTC'), 'waiting until 10:00:12 (8s ago)');
  });

  it('shows every watched container, most urgent first, and lists the unwatched apart', () => {
    const { data, events } = input();
    const tree = view.buildView(data, events, { base: './', limit: 20 });
    const cards = all(tree, (e) => e.t === 'article');
    assert.deepEqual(cards.map((c) => c.a?.['data-container']), ['queue', 'db', 'web', 'api', 'cache', 'notifier', ODD_NAME]);
    assert.ok(!cards.some((c) => c.a?.['data-container'] === 'swarm-task'));
    const unwatched = all(tree, (e) => e.a?.id === 'unwatched')[0];
    assert.ok(unwatched && text(unwatched).includes('swarm-task') && text(unwatched).includes('managed by Swarm'));
    assert.ok(text(tree).includes('held back: younger than 60 seconds'));
    assert.ok(text(tree).includes('to be removed'));
    assert.ok(text(tree).includes('repairman reset queue'));
  });

  it('lists what is degraded in a banner, and the health pill says so', () => {
    const plain = input();
    assert.equal(all(view.buildView(plain.data, plain.events, { base: './', limit: 20 }), (e) => e.a?.id === 'degraded').length, 0);
    const { state } = input();
    state.degrade('the journal /data/r.db cannot be written (disk full)', 'a socket proxy refused POST /containers/x/restart');
    const tree = view.buildView(buildContainersPayload(state, NOW, 'UTC'), buildEventsPayload(state, { limit: 20 }), { base: './', limit: 20 });
    const [banner] = all(tree, (e) => e.a?.id === 'degraded');
    assert.ok(banner);
    assert.deepEqual(all(banner, (e) => e.t === 'li').map(text), ['the journal /data/r.db cannot be written (disk full)', 'a socket proxy refused POST /containers/x/restart']);
    const [pill] = all(tree, (e) => e.a?.id === 'health');
    assert.equal(pill && text(pill), 'Engine OK, degraded');
    assert.match(pill?.a?.class ?? '', /\bwarn\b/);
  });

  it('draws one timeline row per container and one mark per restart at its time', () => {
    const { data, events } = input();
    const tree = view.buildView(data, events, { base: './', limit: 20 });
    const rows = all(tree, (e) => e.t === 'g' && e.a?.class === 'row');
    assert.deepEqual(rows.map((r) => r.a?.['data-container']).sort(), [...data.containers.filter((c) => c.watched).map((c) => c.name), 'gone-container'].sort());
    const marks = all(tree, (e) => e.t === 'line' && (e.a?.class ?? '').startsWith('mark'));
    assert.equal(marks.length, 6);
    const web = rows.find((r) => r.a?.['data-container'] === 'web')!;
    const webMarks = all(web, (e) => e.t === 'line');
    // 20 h and 2 h ago on a 24 h axis.
    assert.deepEqual(webMarks.map((m) => m.a?.x1).sort(), ['16.667%', '91.667%']);
    assert.equal(all(tree, (e) => e.t === 'text' && e.a?.class === 'tick').length, 5);
    assert.ok(all(tree, (e) => e.a?.class === 'mark kind-restart_failed').length === 1);
  });

  it('is self-contained: its source alone, run in an empty context, builds the same tree', () => {
    const { data, events } = input();
    const fresh = runInNewContext(`(${pageView.toString()})()`, { Intl }) as typeof view;
    const a = JSON.stringify(fresh.buildView(data, events, { base: './x/', limit: 20 }));
    const b = JSON.stringify(view.buildView(data, events, { base: './x/', limit: 20 }));
    assert.equal(a, b);
  });
});

describe('renderPage', () => {
  it('is one document with inline style and script under a nonce, and no markup from data', () => {
    const { data, events } = input();
    const html = renderPage({ data, events, base: './', limit: 20, nonce: 'TESTNONCE' });
    assert.match(html, /^<!doctype html>/);
    assert.equal((html.match(/<script/g) ?? []).length, 1);
    assert.ok(html.includes('<script nonce="TESTNONCE">') && html.includes('<style nonce="TESTNONCE">'));
    assert.ok(html.includes('<meta name="viewport" content="width=device-width, initial-scale=1">'));
    assert.ok(html.includes('<noscript><meta http-equiv="refresh"'), 'refreshes without JavaScript');
    assert.ok(!html.includes('<img'));
    assert.ok(!/(src|href)=["']?(https?:)?\/\//i.test(html), 'no external assets');
    assert.ok(!html.includes('SECRETTOKEN'));
    assert.ok(html.includes('Restarts in the last 24 hours'));
    const script = /<script nonce="TESTNONCE">([\s\S]*)<\/script>/.exec(html)?.[1] ?? '';
    assert.doesNotThrow(() => new Script(script), 'the embedded script parses');
  });

  it('has a strict CSP', () => {
    const csp = pageCsp('N');
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'nonce-N'/);
    assert.match(csp, /style-src 'nonce-N'/);
    assert.match(csp, /connect-src 'self'/);
    assert.ok(!/unsafe|\*/.test(csp));
  });

  it('the client script stays self-contained', () => {
    // It runs in a page with no document elements it needs: it must return quietly, not throw.
    const doc = { getElementById: () => null };
    assert.doesNotThrow(() => runInNewContext(`(${clientMain.toString()})(${pageView.toString()}, 5000)`, { document: doc, Intl }));
  });
});

// The status page's view, written once and run in two places: the server renders the first paint
// from it (so the page works without JavaScript), and the page embeds this very function's source
// (pageView.toString()) to re-render after each refresh. It builds a tiny element tree, never HTML
// text: the server escapes every text and attribute when serializing it, and the browser turns it
// into DOM nodes with textContent/setAttribute. Container names (which can hold odd characters) can
// therefore never become markup.
//
// RULE: pageView must stay self-contained (no imports, no module-level values inside it); only
// type annotations may refer to the outside, because the browser receives the function's text alone.
import type { ContainerView } from '../state/types.js';
import type { ContainersPayload, EventsPayload } from './payloads.js';

export interface VElement {
  t: string;
  a?: Record<string, string>;
  c?: VNode[];
}
export type VNode = string | VElement;

export interface PageViewApi {
  buildView(data: ContainersPayload, events: EventsPayload, opts: { base: string; limit: number }): VElement;
  formatTime(ms: number, timeZone: string): string;
  formatClock(ms: number, nowMs: number, timeZone: string): string;
  formatDuration(ms: number): string;
  budgetText(c: ContainerView, nowMs: number, timeZone: string): string;
}

export function pageView(): PageViewApi {
  const formatters = new Map<string, Intl.DateTimeFormat>();

  function formatter(timeZone: string): Intl.DateTimeFormat {
    let f = formatters.get(timeZone);
    if (!f) {
      const opts: Intl.DateTimeFormatOptions = {
        year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
      };
      try {
        f = new Intl.DateTimeFormat('en-GB', { ...opts, timeZone });
      } catch {
        f = new Intl.DateTimeFormat('en-GB', { ...opts, timeZone: 'UTC' });
      }
      formatters.set(timeZone, f);
    }
    return f;
  }

  /** "YYYY-MM-DD HH:MM:SS" in the given zone. */
  function formatTime(ms: number, timeZone: string): string {
    const p: Record<string, string> = {};
    for (const part of formatter(timeZone).formatToParts(ms)) p[part.type] = part.value;
    return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
  }

  /** Only the time when it falls on the same day as now (in the zone), else date and time (as src/util/time-format.ts's formatClock). */
  function formatClock(ms: number, nowMs: number, timeZone: string): string {
    const a = formatTime(ms, timeZone);
    const b = formatTime(nowMs, timeZone);
    return a.slice(0, 10) === b.slice(0, 10) ? a.slice(11) : a.slice(0, 16);
  }

  /** 75_000 -> "1m 15s"; 3_723_000 -> "1h 2m" (as src/util/time-format.ts's shortDuration). */
  function formatDuration(ms: number): string {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return `${s}s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m}m ${s % 60}s`;
    const h = Math.floor(m / 60);
    if (h < 48) return `${h}h ${m % 60}m`;
    return `${Math.floor(h / 24)}d ${h % 24}h`;
  }

  function until(ms: number | null, nowMs: number, timeZone: string): string {
    if (ms === null) return '';
    const rel = ms >= nowMs ? `in ${formatDuration(ms - nowMs)}` : `${formatDuration(nowMs - ms)} ago`;
    return ` until ${formatClock(ms, nowMs, timeZone)} (${rel})`;
  }

  function budgetText(c: ContainerView, nowMs: number, timeZone: string): string {
    const b = c.budget;
    const paused = c.action ? c.action.paused : null;
    if (paused) return `paused${paused.all ? ' (all)' : ''}${paused.untilMs === null ? ' until resumed' : until(paused.untilMs, nowMs, timeZone)}`;
    if (c.action && c.action.actAfterMs !== null && b.state === 'ok') return `unhealthy, acting${until(c.action.actAfterMs, nowMs, timeZone)}`;
    if (b.state === 'waiting') return `waiting${until(b.untilMs, nowMs, timeZone)}`;
    if (b.state === 'longer_wait') return `longer wait${until(b.untilMs, nowMs, timeZone)}`;
    if (b.state === 'given_up') return 'given up';
    return 'ok';
  }

  function el(t: string, a: Record<string, string> | null, ...c: (VNode | null | false | undefined)[]): VElement {
    const node: VElement = { t };
    if (a) node.a = a;
    const kids = c.filter((x): x is VNode => x !== null && x !== false && x !== undefined);
    if (kids.length) node.c = kids;
    return node;
  }

  function healthOf(c: ContainerView): { text: string; cls: string } {
    if (c.state === 'running') {
      if (c.health === 'healthy') return { text: 'healthy', cls: 'good' };
      if (c.health === 'unhealthy') return { text: 'unhealthy', cls: 'bad' };
      if (c.health === 'starting') return { text: 'starting', cls: 'neutral' };
      return { text: 'running', cls: 'good' };
    }
    // Someone stopped it and Repairman leaves it so: not trouble, not counted as down.
    if (c.state === 'exited' && c.stoppedByHand) return { text: 'stopped by hand, left alone', cls: 'neutral' };
    if (c.state === 'exited' || c.state === 'dead') return { text: c.state, cls: 'bad' };
    return { text: c.state || 'unknown', cls: 'neutral' };
  }

  const BUDGET_CLASS: Record<string, string> = { ok: 'good', waiting: 'warn', longer_wait: 'warn2', given_up: 'bad' };

  function rank(c: ContainerView): number {
    const order: Record<string, number> = { given_up: 0, longer_wait: 1, waiting: 2 };
    const r = order[c.budget.state];
    if (r !== undefined) return r;
    const h = healthOf(c).cls;
    return h === 'bad' ? 3 : h === 'neutral' ? 4 : 5;
  }

  function byName(a: { name: string }, b: { name: string }): number {
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  }

  function kindLabel(kind: string): string {
    return kind.replace(/_/g, ' ');
  }

  function card(c: ContainerView, nowMs: number, tz: string): VElement {
    const h = healthOf(c);
    const b = c.budget;
    const last = c.lastEvent;
    return el('article', { class: `card budget-${b.state}`, 'data-container': c.name },
      el('div', { class: 'card-head' },
        el('h3', { class: 'name' }, c.name),
        el('span', { class: `badge ${h.cls}` }, h.text)),
      el('dl', null,
        el('dt', null, 'Budget'),
        el('dd', null, el('span', { class: `badge ${BUDGET_CLASS[b.state] ?? 'neutral'}` }, budgetText(c, nowMs, tz))),
        el('dt', null, 'Restarts in frame'),
        el('dd', null, `${b.restartsInFrame}${b.reachedMaxInPreviousFrame ? ' (limit reached in the previous frame)' : ''}`),
        el('dt', null, 'Streak'),
        el('dd', null, `${b.streak} without recovery`),
        el('dt', null, 'Last event'),
        el('dd', { class: 'last' }, last
          ? el('span', null, el('time', null, formatClock(last.atMs, nowMs, tz)), ` ${last.message}`)
          : el('span', { class: 'muted' }, 'none')),
        ...dependencyRows(c)),
      b.state === 'given_up' ? el('p', { class: 'hint' }, `Not touched any more until it recovers or someone runs: repairman reset ${c.name}`) : null,
      c.labelProblems.length
        ? el('ul', { class: 'problems' }, ...c.labelProblems.map((p) =>
          el('li', null, `${p.label}=${JSON.stringify(p.value)}: expected ${p.expected}; ${p.fallback === 'ignored' ? 'the label is ignored' : `using ${p.fallback}`}${p.suggestion ? ` (did you mean ${p.suggestion}?)` : ''}`)))
        : null);
  }

  /** Providers and dependents (docs/behaviour.md §10), only when there are any. */
  function dependencyRows(c: ContainerView): VElement[] {
    const d = c.dependencies;
    if (!d) return [];
    const links = (xs: { name: string; kinds: string[] }[]): string => xs.map((x) => `${x.name} (${x.kinds.join(', ')})`).join(', ');
    const rows: VElement[] = [];
    if (d.providers.length) rows.push(el('dt', null, 'Depends on'), el('dd', { class: 'providers' }, links(d.providers)));
    if (d.dependents.length) rows.push(el('dt', null, 'Dependents'), el('dd', { class: 'dependents' }, links(d.dependents)));
    if (d.cycle) rows.push(el('dt', null, 'Cycle'), el('dd', { class: 'cycle' }, `${d.cycle.join(' -> ')}: never followed`));
    return rows;
  }

  function timeline(data: ContainersPayload, watched: ContainerView[]): VElement {
    const tz = data.timeZone;
    const { sinceMs, untilMs, restarts } = data.timeline;
    const span = Math.max(1, untilMs - sinceMs);
    const names = watched.map((c) => c.name);
    for (const r of restarts) if (!names.includes(r.container)) names.push(r.container);
    const rowH = 30;
    const top = 4;
    const axisY = top + names.length * rowH + 6;
    const height = axisY + 22;
    const pct = (ms: number): string => `${(Math.min(1, Math.max(0, (ms - sinceMs) / span)) * 100).toFixed(3)}%`;
    const grid: VElement[] = [];
    const ticks: VElement[] = [];
    const tickHours = [24, 18, 12, 6, 0];
    tickHours.forEach((hAgo, i) => {
      const at = untilMs - hAgo * 3600_000;
      const x = pct(at);
      grid.push(el('line', { class: 'grid', x1: x, x2: x, y1: '0', y2: String(axisY) }));
      const anchor = i === 0 ? 'start' : i === tickHours.length - 1 ? 'end' : 'middle';
      const label = hAgo === 0 ? 'now' : formatTime(at, tz).slice(11, 16);
      ticks.push(el('text', { class: 'tick', x, y: String(axisY + 16), 'text-anchor': anchor }, label));
    });
    const rows: VElement[] = [];
    names.forEach((name, i) => {
      const y = top + i * rowH;
      const marks = restarts.filter((r) => r.container === name);
      rows.push(el('g', { class: 'row', 'data-container': name },
        el('text', { class: 'row-name', x: '2', y: String(y + 11) }, name.length > 40 ? `${name.slice(0, 39)}…` : name,
          marks.length ? el('tspan', { class: 'row-count' }, ` · ${marks.length}`) : null,
          el('title', null, `${name}: ${marks.length} in 24 hours`)),
        el('rect', { class: 'track', x: '0', y: String(y + 16), width: '100%', height: '8', rx: '4' }),
        ...marks.map((m) => el('line', {
          class: `mark kind-${m.kind.replace(/[^a-z_]/g, '')}`, x1: pct(m.atMs), x2: pct(m.atMs), y1: String(y + 13), y2: String(y + 27),
        }, el('title', null, `${name}: ${kindLabel(m.kind)} at ${formatTime(m.atMs, tz)}`)))));
    });
    return el('svg', {
      class: 'timeline', width: '100%', height: String(height), role: 'img',
      'aria-label': `Restarts over the last 24 hours, ${restarts.length} in total`,
    },
    ...grid,
    ...rows,
    el('line', { class: 'axis', x1: '0', x2: '100%', y1: String(axisY), y2: String(axisY) }),
    ...ticks);
  }

  function buildView(data: ContainersPayload, events: EventsPayload, opts: { base: string; limit: number }): VElement {
    const tz = data.timeZone;
    const now = data.generatedAtMs;
    const all = [...data.containers].sort(byName);
    const watched = all.filter((c) => c.watched).sort((a, b) => rank(a) - rank(b) || byName(a, b));
    const unwatched = all.filter((c) => !c.watched);
    const count = (f: (c: ContainerView) => boolean): number => watched.filter(f).length;
    const tiles: [string, number, string][] = [
      ['Watched', watched.length, 'neutral'],
      ['Healthy', count((c) => healthOf(c).cls === 'good'), 'good'],
      ['Unhealthy or down', count((c) => healthOf(c).cls === 'bad'), 'bad'],
      ['Waiting', count((c) => c.budget.state === 'waiting' || c.budget.state === 'longer_wait'), 'warn'],
      ['Given up', count((c) => c.budget.state === 'given_up'), 'bad'],
      ['Duplicates', data.duplicates.length, 'neutral'],
    ];
    const health = data.health;
    const degraded = health.degraded;
    const pill = !health.ok ? ['bad', `Not healthy: ${health.reason}`] : degraded.length ? ['warn', 'Engine OK, degraded'] : ['good', 'Engine OK'];
    return el('div', { id: 'app', 'data-base': opts.base, 'data-limit': String(opts.limit) },
      el('header', { class: 'top' },
        el('div', { class: 'brand' }, el('h1', null, 'Repairman'), el('span', { class: 'muted' }, `v${data.version}`)),
        el('span', { class: `pill ${pill[0]}`, id: 'health' }, pill[1]),
        el('p', { class: 'updated muted' },
          `Updated ${formatTime(now, tz)} (${tz}) · up ${formatDuration(now - data.startedAtMs)}`,
          health.lastFullCheckMs !== null ? ` · last full check ${formatDuration(now - health.lastFullCheckMs)} ago` : '')),
      // What works only in part (the journal...): healing goes on, but the admin has something to fix.
      degraded.length
        ? el('section', { id: 'degraded', class: 'panel warn' },
          el('h2', null, 'Working in part'),
          el('ul', { class: 'list' }, ...degraded.map((d) => el('li', null, d))))
        : null,
      el('section', { class: 'tiles' }, ...tiles.map(([label, n, cls]) =>
        el('div', { class: `tile ${n > 0 ? cls : 'zero'}` }, el('span', { class: 'num' }, String(n)), el('span', { class: 'label' }, label)))),
      el('section', { id: 'containers' },
        el('h2', null, 'Containers'),
        watched.length
          ? el('div', { class: 'cards' }, ...watched.map((c) => card(c, now, tz)))
          : el('p', { class: 'muted' }, 'No container is watched.')),
      el('section', { id: 'timeline' },
        el('h2', null, 'Restarts in the last 24 hours'),
        el('div', { class: 'panel' }, timeline(data, watched)),
        el('p', { class: 'legend muted' },
          el('span', { class: 'sw kind-restart' }), 'restart ',
          el('span', { class: 'sw kind-restart_failed' }), 'failed restart ',
          `· ${data.timeline.restarts.length} in total`)),
      el('section', { id: 'duplicates' },
        el('h2', null, 'Duplicates'),
        data.duplicates.length
          ? el('ul', { class: 'list' }, ...data.duplicates.map((d) => el('li', { 'data-container': d.name },
            el('strong', null, d.name), ` duplicate of ${d.duplicateOf}: ${d.reason}. `,
            d.heldBack === null
              ? el('span', { class: 'badge warn' }, 'to be removed')
              : el('span', { class: 'badge neutral' }, `held back: ${d.heldBack}`))))
          : el('p', { class: 'muted' }, 'None found.')),
      el('section', { id: 'events' },
        el('h2', null, 'Recent events'),
        events.events.length
          ? el('ol', { class: 'list events' }, ...events.events.map((e) => el('li', null,
            el('time', null, formatClock(e.atMs, now, tz)), ' ',
            el('strong', null, e.container), ' ',
            el('span', { class: 'badge neutral' }, kindLabel(e.kind)),
            el('span', { class: 'msg' }, e.message))))
          : el('p', { class: 'muted' }, 'Nothing happened yet.')),
      unwatched.length
        ? el('section', { id: 'unwatched-section' },
          el('details', { id: 'unwatched' },
            el('summary', null, `Not watched (${unwatched.length})`),
            el('ul', { class: 'list' }, ...unwatched.map((c) => el('li', null,
              el('strong', null, c.name), ` ${c.state}: ${c.excludedReason ?? 'excluded'}`)))))
        : null,
      el('footer', { class: 'muted' },
        'JSON: ',
        el('a', { href: `${opts.base}api/containers` }, 'containers'), ' · ',
        el('a', { href: `${opts.base}api/events` }, 'events'), ' · ',
        el('a', { href: `${opts.base}metrics` }, 'metrics'), ' · ',
        el('a', { href: `${opts.base}healthz` }, 'healthz'),
        ` · times in ${tz}`));
  }

  return { buildView, formatTime, formatClock, formatDuration, budgetText };
}

// The status page's script, embedded into the page as this function's text (clientMain.toString()).
// It must stay self-contained: it receives pageView (also embedded as text) and the refresh period
// as arguments. The DOM types are declared here, module-scoped, because the project compiles
// without the DOM library (adding it would change the globals every other file sees).
import type { pageView as PageViewFactory } from './page-view.js';

interface DomNode {
  appendChild(n: DomNode): DomNode;
}
interface DomElement extends DomNode {
  id: string;
  className: string;
  textContent: string | null;
  setAttribute(name: string, value: string): void;
  getAttribute(name: string): string | null;
  querySelectorAll(selector: string): ArrayLike<DomElement>;
  replaceChildren(...nodes: DomNode[]): void;
}
declare const document: {
  visibilityState: string;
  getElementById(id: string): DomElement | null;
  createTextNode(text: string): DomNode;
  createElement(tag: string): DomElement;
  createElementNS(ns: string, tag: string): DomElement;
  addEventListener(event: string, fn: () => void): void;
};

/** The same pageView as the server, plus turning its tree into DOM nodes: only
 * createElement(NS)/setAttribute/textContent, never innerHTML. */
export function clientMain(viewFactory: typeof PageViewFactory, refreshMs: number): void {
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const v = viewFactory();
  const root = document.getElementById('app');
  const status = document.getElementById('refresh-status');
  if (!root || !status) return;
  const base = root.getAttribute('data-base') ?? './';
  const limit = Number(root.getAttribute('data-limit')) || 20;
  type Node1 = string | { t: string; a?: Record<string, string>; c?: Node1[] };
  const toDom = (n: Node1, ns: string | null): DomNode => {
    if (typeof n === 'string') return document.createTextNode(n);
    const inSvg = ns ?? (n.t === 'svg' ? SVG_NS : null);
    const e = inSvg ? document.createElementNS(inSvg, n.t) : document.createElement(n.t);
    for (const [k, val] of Object.entries(n.a ?? {})) e.setAttribute(k, val);
    for (const c of n.c ?? []) e.appendChild(toDom(c, inSvg));
    return e;
  };
  const getJson = async (path: string): Promise<unknown> => {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), Math.max(2000, refreshMs - 500));
    try {
      const res = await fetch(base + path, { headers: { accept: 'application/json' }, signal: ctl.signal });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return await res.json();
    } finally {
      clearTimeout(timer);
    }
  };
  let busy = false;
  const refresh = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      const [data, events] = await Promise.all([getJson('api/containers'), getJson(`api/events?limit=${limit}`)]);
      const tree = v.buildView(data as Parameters<typeof v.buildView>[0], events as Parameters<typeof v.buildView>[1], { base, limit });
      const open = Array.from(root.querySelectorAll('details[open]')).map((d) => d.id);
      root.replaceChildren(...(tree.c ?? []).map((c) => toDom(c as Node1, null)));
      for (const id of open) document.getElementById(id)?.setAttribute('open', '');
      status.textContent = '';
      status.className = '';
      root.setAttribute('data-refreshed', String(Date.now()));
    } catch (err) {
      status.textContent = `Could not refresh (${err instanceof Error ? err.message : String(err)}); showing older data, retrying.`;
      status.className = 'stale';
    } finally {
      busy = false;
    }
  };
  setInterval(() => void refresh(), refreshMs);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') void refresh();
  });
}

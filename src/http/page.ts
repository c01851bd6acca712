// The status page: one self-contained HTML document (inline CSS and script, no external assets),
// server-rendered for the first paint and refreshed in place by its script. The script and style
// carry a per-response nonce; the Content-Security-Policy allows nothing else.
import { randomBytes } from 'node:crypto';
import type { ContainersPayload, EventsPayload } from './payloads.js';
import { clientMain } from './page-client.js';
import { pageView, type VNode } from './page-view.js';

export const REFRESH_MS = 5000;
/** Without JavaScript the page reloads itself this often. */
export const NOSCRIPT_REFRESH_SEC = 30;

const view = pageView();

const NEEDS_ESCAPE = /[&<>"']/;

export function escapeHtml(text: string): string {
  // Most texts and attribute values need nothing: skip the replace and its allocations.
  if (!NEEDS_ESCAPE.test(text)) return text;
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

const SAFE_NAME = /^[a-z][a-z0-9-]*$/;

/** Serialize a view tree; every text and attribute value is escaped, tag and attribute names checked. */
export function toHtml(node: VNode): string {
  // Pieces are collected and joined once: joining at every level copies the text once per level of
  // nesting, many times the page's own size in garbage (BENCHMARKS.md, "Figures behind the code").
  const out: string[] = [];
  writeHtml(node, out);
  return out.join('');
}

function writeHtml(node: VNode, out: string[]): void {
  if (typeof node === 'string') {
    out.push(escapeHtml(node));
    return;
  }
  if (!SAFE_NAME.test(node.t)) throw new Error(`bad tag name ${node.t}`);
  out.push(`<${node.t}`);
  const attrs = node.a;
  if (attrs) {
    for (const k of Object.keys(attrs)) {
      if (!SAFE_NAME.test(k) || k.startsWith('on')) throw new Error(`bad attribute name ${k}`);
      out.push(` ${k}="${escapeHtml(attrs[k] as string)}"`);
    }
  }
  out.push('>');
  for (const child of node.c ?? []) writeHtml(child, out);
  out.push(`</${node.t}>`);
}

export function newNonce(): string {
  return randomBytes(16).toString('base64');
}

export function pageCsp(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const CLIENT_SCRIPT = `(${clientMain.toString()})(${pageView.toString()}, ${REFRESH_MS});`;
if (/<\/script|<!--/i.test(CLIENT_SCRIPT)) throw new Error('the page script must not contain </script or <!--');

const CSS = `
:root{color-scheme:light dark;--bg:#f5f6f8;--fg:#1b2230;--muted:#5f6b7d;--card:#fff;--border:#dfe3e9;
--good:#17663f;--good-bg:#dcf3e5;--bad:#b42318;--bad-bg:#fde6e4;--warn:#7a5300;--warn-bg:#fff1cc;
--warn2:#a8410a;--warn2-bg:#ffe4cf;--neutral:#3f4a5a;--neutral-bg:#eceff3;--mark:#2f6fed;--markfail:#d92d20}
@media (prefers-color-scheme:dark){:root{--bg:#11151b;--fg:#e4e8ee;--muted:#9aa5b5;--card:#1a2029;--border:#2c3440;
--good:#6fd39c;--good-bg:#163324;--bad:#ff8b80;--bad-bg:#3d1a18;--warn:#f3c554;--warn-bg:#3a2e0f;
--warn2:#ffa766;--warn2-bg:#3d2412;--neutral:#c3cbd6;--neutral-bg:#262d38;--mark:#7aa7ff;--markfail:#ff6b5e}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;background:var(--bg);color:var(--fg)}
#app{max-width:1120px;margin:0 auto;padding:16px}
a{color:var(--mark)}
.muted{color:var(--muted)}
header.top{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:6px 16px}
.brand{display:flex;align-items:baseline;gap:8px}
h1{font-size:22px;margin:0;letter-spacing:-.01em}
h2{font-size:17px;margin:26px 0 10px}
.updated{flex-basis:100%;margin:0;font-size:13px}
.pill{padding:3px 12px;border-radius:999px;font-weight:600;font-size:13px;overflow-wrap:anywhere}
.good{color:var(--good);background:var(--good-bg)}
.bad{color:var(--bad);background:var(--bad-bg)}
.warn{color:var(--warn);background:var(--warn-bg)}
.warn2{color:var(--warn2);background:var(--warn2-bg)}
.neutral{color:var(--neutral);background:var(--neutral-bg)}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(96px,1fr));gap:8px;margin:16px 0 0}
.tile{background:var(--card);border:1px solid var(--border);border-radius:10px;padding:8px 12px;display:flex;flex-direction:column}
.tile .num{font-size:24px;font-weight:700;line-height:1.2}
.tile .label{font-size:12.5px;color:var(--muted)}
.tile.good .num{color:var(--good)}.tile.bad .num{color:var(--bad)}.tile.warn .num{color:var(--warn)}
.tile.good,.tile.bad,.tile.warn,.tile.neutral,.tile.zero{background:var(--card)}
.tile.zero .num{color:var(--muted)}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,320px),1fr));gap:12px}
.card{background:var(--card);border:1px solid var(--border);border-left:5px solid var(--good);border-radius:10px;padding:12px 14px;min-width:0}
.card.budget-waiting{border-left-color:var(--warn)}
.card.budget-longer_wait{border-left-color:var(--warn2)}
.card.budget-given_up{border-left-color:var(--bad)}
.card-head{display:flex;justify-content:space-between;align-items:flex-start;gap:8px}
.name{margin:0;font-size:16px;overflow-wrap:anywhere;min-width:0}
dl{display:grid;grid-template-columns:auto minmax(0,1fr);gap:5px 12px;margin:10px 0 0;font-size:14px}
dt{color:var(--muted)}
dd{margin:0;min-width:0;overflow-wrap:anywhere}
.badge{display:inline-block;padding:1px 8px;border-radius:6px;font-size:12.5px;font-weight:600}
time{font-variant-numeric:tabular-nums;color:var(--muted)}
.hint{margin:10px 0 0;font-size:13px;color:var(--bad);overflow-wrap:anywhere}
.problems{margin:10px 0 0;padding-left:18px;font-size:13px;color:var(--warn2);overflow-wrap:anywhere}
.panel{background:var(--card);border:1px solid var(--border);border-radius:10px;padding:10px 12px}
svg.timeline{display:block;overflow:visible}
.track{fill:var(--neutral-bg)}
.grid{stroke:var(--border);stroke-dasharray:3 4}
.axis{stroke:var(--muted)}
.tick{fill:var(--muted);font-size:11.5px}
.row-name{fill:var(--fg);font-size:12px}
.row-count{fill:var(--muted);font-weight:600}
.mark{stroke:var(--mark);stroke-width:3.5;stroke-linecap:round}
.mark.kind-restart_failed{stroke:var(--markfail)}
.legend{font-size:13px;margin:8px 0 0}
.sw{display:inline-block;width:10px;height:10px;border-radius:3px;background:var(--mark);margin:0 5px 0 8px;vertical-align:-1px}
.sw.kind-restart_failed{background:var(--markfail)}
.list{list-style:none;margin:0;padding:0;background:var(--card);border:1px solid var(--border);border-radius:10px}
.list li{padding:8px 12px;border-top:1px solid var(--border);overflow-wrap:anywhere;font-size:14px}
.list li:first-child{border-top:0}
.events .msg{display:block;margin-top:2px}
details summary{cursor:pointer;margin:26px 0 10px;font-weight:600}
footer{margin:28px 0 8px;font-size:13px;overflow-wrap:anywhere}
#refresh-status{margin:0;padding:0}
#refresh-status.stale{position:sticky;top:0;padding:6px 16px;background:var(--warn-bg);color:var(--warn);font-size:13px;text-align:center}
@media (max-width:480px){#app{padding:12px}h1{font-size:20px}.tile .num{font-size:20px}}
`;

export interface PageInput {
  data: ContainersPayload;
  events: EventsPayload;
  /** Relative base for fetches and links (see relativeBase). */
  base: string;
  /** How many recent events the page lists. */
  limit: number;
  nonce: string;
}

export function renderPage(input: PageInput): string {
  const { nonce } = input;
  const tree = view.buildView(input.data, input.events, { base: input.base, limit: input.limit });
  const title = input.data.health.ok ? 'Repairman' : 'Repairman: not healthy';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>
<noscript><meta http-equiv="refresh" content="${NOSCRIPT_REFRESH_SEC}"></noscript>
<style nonce="${escapeHtml(nonce)}">${CSS}</style>
</head>
<body>
<p id="refresh-status" aria-live="polite"></p>
${toHtml(tree)}
<script nonce="${escapeHtml(nonce)}">${CLIENT_SCRIPT}</script>
</body>
</html>
`;
}

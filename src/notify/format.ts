// Turning a NotifyEvent into a message a person can act on, and into the body each destination expects.
//
// A message says: which container on which host, what happened and why, what happens next, when, then
// the last health-check output and the last log lines in code blocks. Container output is untrusted:
// it is stripped of terminal escapes and control characters, cut to size, cannot close our code blocks
// (``` inside is broken with zero-width spaces), and cannot ping people (Slack: & < > escaped as Slack
// requires, which also defuses <!channel>; everywhere: @word and <! get a zero-width space; Discord: no
// mentions allowed at all through allowed_mentions).
import { formatTime } from '../util/time-format.js';
import type { NotifyEvent } from './types.js';
import type { NotifyFormat, NotifyTarget } from './targets.js';

/** Sizes, in characters. Chat servers cut or refuse long posts; a log line of 1 MB must not go out. */
export const LIMITS = {
  /** container and host names */
  nameChars: 200,
  /** summary, reason, next */
  fieldChars: 500,
  healthChars: 1000,
  logLines: 10,
  logLineChars: 300,
  logChars: 2500,
  /** Generic JSON carries the raw data a little more generously. */
  jsonHealthChars: 4000,
  jsonLogLineChars: 1000,
} as const;

/**
 * Largest text per format: Discord refuses content over 2000 characters; Mattermost's default post
 * limit is 16383; Slack cuts text after 40000. With the limits above only Discord ever needs the fitting.
 */
export const MAX_TEXT_CHARS: Readonly<Record<NotifyFormat, number>> = {
  slack: 40000,
  mattermost: 16000,
  discord: 2000,
  apprise: 16000,
  json: 16000,
  // `content` is Discord's key, the default of WEBHOOK_JSON_KEY: keep within Discord's limit.
  field: 2000,
};

export interface RenderOptions {
  /** IANA zone for times shown to people; default: the process's (TZ). */
  timeZone?: string;
  maxChars?: number;
}

export interface RenderedMessage {
  /** One line, plain text: "[WARNING] Gave up on container web". */
  title: string;
  /** The whole message: title line, then body. */
  text: string;
  /** Everything after the title line. */
  body: string;
}

type Style = 'slack' | 'markdown';

const ZWSP = '\u200b';
// CSI/OSC terminal sequences, then every control character except tab and newline.
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)|[@-Z\\-_])/g;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** Terminal escapes and control characters out, line ends normalised. */
export function sanitize(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(ANSI, '').replace(CONTROL, '');
}

/** Keep the start; mark the cut. The result is at most max characters. */
export function truncateHead(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 1) return '…'.slice(0, Math.max(0, max));
  return text.slice(0, max - 1) + '…';
}

/** ``` (or longer runs) inside a code block would close it: break every run of 3+ backticks. */
export function neutralizeFences(text: string): string {
  return text.replace(/`{3,}/g, (run) => run.split('').join(ZWSP));
}

/** Slack's three mandatory escapes (https://api.slack.com/reference/surfaces/formatting#escaping). */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** @channel, @here, @all, @someone and <!channel> stop being mentions; the text reads the same. */
export function neutralizeMentions(text: string): string {
  return text.replace(/@(?=[\w.-])/g, '@' + ZWSP).replace(/<!/g, '<' + ZWSP + '!');
}

/** A one-line value for inline code: no newlines, no backticks. */
function inlineValue(text: string, max: number): string {
  return truncateHead(sanitize(text).replace(/\s+/g, ' ').replace(/`/g, "'").trim(), max);
}

function fieldValue(text: string): string {
  return truncateHead(sanitize(text).replace(/\n+/g, ' ').trim(), LIMITS.fieldChars);
}

/** The health-check output as sent: sanitized, fence-safe, at most budget characters. */
export function prepareHealth(raw: string | undefined, budget: number): string | undefined {
  if (raw === undefined) return undefined;
  const text = neutralizeFences(sanitize(raw).replace(/\s+$/, ''));
  if (text === '') return undefined;
  return truncateHead(text, budget);
}

/**
 * The last log lines as sent: the newest `lines` lines, each cut to lineChars, and as many of them as
 * fit in totalChars (the newest kept; a leading "…" line tells that older ones were cut).
 */
export function prepareLogs(raw: string[] | undefined, lines: number, lineChars: number, totalChars: number): string[] | undefined {
  if (raw === undefined) return undefined;
  const all = raw.flatMap((l) => sanitize(String(l)).split('\n'));
  while (all.length && all[all.length - 1]?.trim() === '') all.pop();
  const last = all.slice(-lines).map((l) => truncateHead(neutralizeFences(l), lineChars));
  const kept: string[] = [];
  let used = 0;
  for (let i = last.length - 1; i >= 0; i--) {
    const line = last[i] ?? '';
    const cost = line.length + (kept.length ? 1 : 0);
    // Room kept for the "…" marker line in case something is left out.
    if (used + cost + 2 > totalChars) {
      // The newest line always shows, cut to the room there is.
      if (kept.length === 0) {
        kept.push(truncateHead(line, Math.max(1, totalChars - 2)));
        if (i > 0) kept.unshift('…');
        return kept;
      }
      kept.unshift('…');
      return kept;
    }
    kept.unshift(line);
    used += cost;
  }
  return kept;
}

const TAGS: Readonly<Record<NotifyEvent['severity'], string>> = { debug: 'DEBUG', info: 'INFO', warning: 'WARNING' };

function titleFor(event: NotifyEvent, name: string): string {
  switch (event.kind) {
    case 'restart': return `Restarted container ${name}`;
    case 'wait': return `Waiting before restarting container ${name}`;
    case 'gone': return `Container ${name} was removed while waiting for its next restart`;
    case 'multiple_failures': return `Container ${name} keeps failing after restarts`;
    case 'longer_wait': return `Maximum restarts reached for container ${name}, waiting longer`;
    case 'give_up': return `Gave up on container ${name}: admin, help`;
    case 'recovered': return `Container ${name} is healthy again`;
    case 'restart_failed': return `Restart of container ${name} failed`;
    case 'refused': return event.container ? `The Docker engine refused a call for container ${name}` : 'The Docker engine refused a call (socket proxy)';
    case 'duplicate_removed': return `Removed duplicate container ${name}`;
    case 'config_error': return `Configuration error in the labels of container ${name}`;
    case 'reset': return `Restart budget of container ${name} was reset`;
    case 'test': return 'Test notification from Repairman';
    default: return `Event "${String(event.kind)}" for container ${name}`;
  }
}

/** The plain one-line title (Apprise's title, the JSON body's title). */
export function plainTitle(event: NotifyEvent): string {
  const tag = event.kind === 'test' ? 'TEST' : (TAGS[event.severity] ?? 'WARNING');
  return `[${tag}] ${titleFor(event, inlineValue(event.container, LIMITS.nameChars))}`;
}

interface Blocks {
  health: string | undefined;
  logs: string[] | undefined;
}

function compose(event: NotifyEvent, style: Style, blocks: Blocks, opts: RenderOptions, omitted: boolean): RenderedMessage {
  // Slack: & < > escaped everywhere (code included, Slack shows them back); mentions defused in both.
  const esc = (s: string): string => neutralizeMentions(style === 'slack' ? escapeSlack(s) : s);
  const bold = (s: string): string => (style === 'slack' ? `*${s}*` : `**${s}**`);
  const code = (s: string): string => '`' + esc(inlineValue(s, LIMITS.nameChars)) + '`';
  const tag = event.kind === 'test' ? 'TEST' : (TAGS[event.severity] ?? 'WARNING');
  const titleLine = bold(`[${tag}] ${titleFor(event, code(event.container))}`);
  const lines: string[] = [];
  const where = event.host ? `Host: ${code(event.host)} · ` : '';
  lines.push(`${where}${esc(formatTime(event.atMs, opts.timeZone))}`);
  if (event.summary) lines.push(`${bold('What happened:')} ${esc(fieldValue(event.summary))}`);
  if (event.reason) lines.push(`${bold('Why:')} ${esc(fieldValue(event.reason))}`);
  if (event.next) lines.push(`${bold('Next:')} ${esc(fieldValue(event.next))}`);
  if (blocks.health !== undefined) {
    lines.push(bold('Last health check output:'), '```', esc(blocks.health), '```');
  }
  if (blocks.logs !== undefined) {
    const count = blocks.logs.filter((l) => l !== '…').length;
    if (count === 0) lines.push(`${bold('Last log lines:')} (none)`);
    else lines.push(bold(`Last ${count} log line${count === 1 ? '' : 's'}:`), '```', esc(blocks.logs.join('\n')), '```');
  }
  if (omitted) lines.push('(health output and log lines left out: message size limit)');
  const body = lines.join('\n');
  return { title: plainTitle(event), text: `${titleLine}\n${body}`, body };
}

/**
 * The human message in the given style. Fits maxChars by giving the code blocks whatever room the
 * rest leaves (Discord's 2000), dropping them only when there is no useful room at all.
 */
export function renderMessage(event: NotifyEvent, style: Style, opts: RenderOptions = {}): RenderedMessage {
  const max = opts.maxChars ?? MAX_TEXT_CHARS.slack;
  const full: Blocks = {
    health: prepareHealth(event.healthOutput, LIMITS.healthChars),
    logs: prepareLogs(event.logLines, LIMITS.logLines, LIMITS.logLineChars, LIMITS.logChars),
  };
  let msg = compose(event, style, full, opts, false);
  if (msg.text.length <= max) return msg;
  // Room left for the two blocks' contents once everything else is in.
  const frame = compose(event, style, { health: full.health === undefined ? undefined : '', logs: full.logs === undefined ? undefined : ['x'] }, opts, false);
  const room = max - frame.text.length - 8;
  if (room >= 80) {
    const healthLen = full.health?.length ?? 0;
    const healthBudget = full.logs === undefined ? room : Math.min(healthLen, Math.max(40, Math.floor(room * 0.35)));
    const logBudget = room - Math.min(healthLen, healthBudget);
    msg = compose(event, style, {
      health: prepareHealth(event.healthOutput, healthBudget),
      logs: full.logs === undefined ? undefined : prepareLogs(event.logLines, LIMITS.logLines, LIMITS.logLineChars, logBudget),
    }, opts, false);
  } else {
    msg = compose(event, style, { health: undefined, logs: undefined }, opts, true);
  }
  // Last guard (Slack escapes can lengthen the text): a hard cut beats a refused post.
  if (msg.text.length > max) msg = { ...msg, text: truncateHead(msg.text, max) };
  return msg;
}

export interface PreparedRequest {
  headers: Record<string, string>;
  body: string;
}

export const REQUEST_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/json',
  'user-agent': 'repairman',
};

/** Apprise's notification types (info, success, warning, failure). */
export function appriseType(event: NotifyEvent): 'info' | 'success' | 'warning' | 'failure' {
  if (event.kind === 'recovered') return 'success';
  if (event.kind === 'give_up' || event.kind === 'restart_failed') return 'failure';
  if (event.severity === 'warning' && event.kind !== 'test') return 'warning';
  return 'info';
}

/**
 * The generic JSON webhook body (json+http(s)://...): every event field except the URLs (secrets),
 * keys always present (null or [] when absent), sizes limited like the messages, plus the rendered
 * title and Markdown text for receivers that just want to show something:
 *   { source: "repairman", kind, severity, level, container, host, at (ISO 8601 UTC), atMs,
 *     title, summary, reason, next, healthOutput, logLines, dedupeKey, text }
 */
export function jsonPayload(event: NotifyEvent, opts: RenderOptions = {}): Record<string, unknown> {
  const health = event.healthOutput === undefined ? null : truncateHead(sanitize(event.healthOutput), LIMITS.jsonHealthChars);
  const logs = (event.logLines ?? []).slice(-LIMITS.logLines).map((l) => truncateHead(sanitize(String(l)), LIMITS.jsonLogLineChars));
  return {
    source: 'repairman',
    kind: event.kind,
    severity: event.severity,
    level: event.level,
    container: event.container,
    host: event.host,
    at: Number.isFinite(event.atMs) ? new Date(event.atMs).toISOString() : null,
    atMs: Number.isFinite(event.atMs) ? event.atMs : null,
    title: plainTitle(event),
    summary: event.summary,
    reason: event.reason ?? null,
    next: event.next ?? null,
    healthOutput: health,
    logLines: logs,
    dedupeKey: event.dedupeKey ?? null,
    text: renderMessage(event, 'markdown', { ...opts, maxChars: MAX_TEXT_CHARS.json }).text,
  };
}

/** The HTTP request (headers and JSON body) for one destination. Pure. */
export function buildRequest(target: Pick<NotifyTarget, 'format' | 'fieldKey'>, event: NotifyEvent, opts: RenderOptions = {}): PreparedRequest {
  const headers = { ...REQUEST_HEADERS };
  const o = (format: NotifyFormat): RenderOptions => ({ ...opts, maxChars: opts.maxChars ?? MAX_TEXT_CHARS[format] });
  switch (target.format) {
    case 'slack':
      return { headers, body: JSON.stringify({ text: renderMessage(event, 'slack', o('slack')).text }) };
    case 'mattermost':
      return { headers, body: JSON.stringify({ text: renderMessage(event, 'markdown', o('mattermost')).text }) };
    case 'discord':
      return {
        headers,
        body: JSON.stringify({
          content: renderMessage(event, 'markdown', o('discord')).text,
          username: 'Repairman',
          // Whatever the text says, nobody is pinged (container output may contain @everyone).
          allowed_mentions: { parse: [] },
        }),
      };
    case 'apprise': {
      const msg = renderMessage(event, 'markdown', o('apprise'));
      return { headers, body: JSON.stringify({ title: msg.title, body: msg.body, type: appriseType(event), format: 'markdown' }) };
    }
    case 'json':
      return { headers, body: JSON.stringify(jsonPayload(event, opts)) };
    case 'field':
      // willfarrell/docker-autoheal's WEBHOOK_URL body: one key (WEBHOOK_JSON_KEY) holding the text.
      return { headers, body: JSON.stringify({ [target.fieldKey ?? 'content']: renderMessage(event, 'markdown', o('field')).text }) };
  }
}

// Which body a notify URL receives, chosen from the URL alone (no guessing from answers).
//
// Rules, first match wins:
//  1. An explicit format prefix on the scheme: `<format>+http://...` or `<format>+https://...` where
//     format is slack, mattermost, discord, json or apprise. The prefix is removed before posting:
//       json+https://example.org/hook     -> POST https://example.org/hook, the generic JSON object
//       apprise+http://apprise:8000/notify/KEY -> POST http://apprise:8000/notify/KEY, Apprise API body
//       mattermost+https://chat.example.org/custom/path -> Mattermost text on a non-standard path
//  2. Host hooks.slack.com                                   -> slack      ({ "text" }, Slack mrkdwn)
//  3. Host discord.com / discordapp.com (and ptb./canary.), path with /webhooks/
//                                                            -> discord    ({ content, username, allowed_mentions })
//     ... unless the path ends with /slack (Discord's Slack-compatible endpoint) -> slack
//  4. A path containing /hooks/ (Mattermost incoming webhooks: https://host/hooks/<id>)
//                                                            -> mattermost ({ "text" }, Markdown)
//     Also `field.<key>+http(s)://...`: `{ "<key>": text }` (willfarrell/docker-autoheal's WEBHOOK_URL with
//     WEBHOOK_JSON_KEY, docs/behaviour.md §11), e.g. field.text+https://chat.example.org/hook
//  5. Any other http(s) URL                                  -> slack      (the Slack-compatible { "text" }
//     body most chat servers accept: Rocket.Chat, Zulip's Slack endpoint, Teams-to-Slack bridges...)
import { maskUrl } from '../util/mask.js';

export type NotifyFormat = 'slack' | 'mattermost' | 'discord' | 'json' | 'apprise' | 'field';

export const NOTIFY_FORMATS: readonly NotifyFormat[] = ['slack', 'mattermost', 'discord', 'json', 'apprise', 'field'];

export interface NotifyTarget {
  /** As configured (with its prefix): the identity of a destination. Secret: never log it. */
  raw: string;
  format: NotifyFormat;
  /** For `field.<key>+`: the JSON key holding the text. */
  fieldKey?: string;
  /** The URL actually posted to (prefix removed). Secret too. */
  postUrl: string;
  /** Scheme and host only, for logs and errors. */
  masked: string;
}

export type TargetResult = { ok: true; target: NotifyTarget } | { ok: false; error: string };

const PREFIX = /^([a-z]+)(?:\.([A-Za-z0-9_$@-]{1,64}))?\+(https?:\/\/.*)$/is;
const DISCORD_HOST = /^(?:(?:ptb|canary)\.)?discord(?:app)?\.com$/;

export function parseNotifyTarget(raw: string): TargetResult {
  const trimmed = raw.trim();
  const masked = maskUrl(trimmed);
  let explicit: NotifyFormat | undefined;
  let fieldKey: string | undefined;
  let postUrl = trimmed;
  const m = PREFIX.exec(trimmed);
  if (m) {
    const name = (m[1] ?? '').toLowerCase();
    if (!(NOTIFY_FORMATS as readonly string[]).includes(name)) {
      return { ok: false, error: `unknown notification format "${name}" in ${masked} (known: ${NOTIFY_FORMATS.join(', ')})` };
    }
    explicit = name as NotifyFormat;
    if ((name === 'field') !== (m[2] !== undefined)) {
      return { ok: false, error: name === 'field' ? `field+ needs a key, e.g. field.text+https://... in ${masked}` : `only field takes a key (${name}.${m[2] ?? ''}) in ${masked}` };
    }
    fieldKey = m[2];
    postUrl = m[3] ?? '';
  }
  let url: URL;
  try {
    url = new URL(postUrl);
  } catch {
    return { ok: false, error: `not a URL: ${masked}` };
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    return { ok: false, error: `not an http(s) URL: ${masked}` };
  }
  return { ok: true, target: { raw: trimmed, format: explicit ?? formatOf(url), ...(fieldKey ? { fieldKey } : {}), postUrl, masked } };
}

function formatOf(url: URL): NotifyFormat {
  const host = url.hostname.toLowerCase();
  const path = url.pathname;
  if (host === 'hooks.slack.com') return 'slack';
  if (DISCORD_HOST.test(host) && path.includes('/webhooks/')) {
    return /\/slack\/?$/.test(path) ? 'slack' : 'discord';
  }
  if (path.includes('/hooks/')) return 'mattermost';
  return 'slack';
}

/** Several URLs separated by commas or spaces (docs/behaviour.md §1); empty parts ignored, duplicates once. */
export function splitNotifyUrls(value: string): string[] {
  return [...new Set(value.split(/[\s,]+/).filter((p) => p !== ''))];
}

/**
 * The origin (scheme, host, port) a notify URL posts to, normalised as browsers do it: a format prefix
 * is removed, default ports dropped, `0x7f000001` read as 127.0.0.1. Null when it is not an http(s) URL.
 */
export function notifyUrlOrigin(raw: string): string | null {
  const trimmed = raw.trim();
  const m = PREFIX.exec(trimmed);
  try {
    const url = new URL(m ? (m[3] ?? '') : trimmed);
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') return null;
    return url.origin;
  } catch {
    return null;
  }
}

/** The host part of an origin or URL, without brackets, lower case ('' when unreadable). */
export function hostOf(urlOrOrigin: string): string {
  try {
    return new URL(urlOrOrigin).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  } catch {
    return '';
  }
}

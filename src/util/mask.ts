// Secrets (notify URLs carry tokens in their path or query) are shown as scheme and host only.

// A scheme-less "host.name/path..." (a URL missing its https://): the host is not secret, the path is.
const BARE_HOST_PATH = /^([a-z0-9-]+(?:\.[a-z0-9-]+)+(?::\d+)?)\//i;

// Schemes whose host part is a machine, not a credential. In others (Apprise-style "slack://tokenA/
// tokenB", "tgram://bottoken/chat") the "host" is itself a token.
const HOST_IS_PUBLIC = new Set(['http:', 'https:', 'ws:', 'wss:', 'ftp:', 'ftps:', 'tcp:', 'ssh:']);

/** "https://hooks.slack.com/services/T0/B0/xyz" -> "https://hooks.slack.com/***". */
export function maskUrl(raw: string): string {
  try {
    const u = new URL(raw);
    // A unix socket path locates the engine; it carries no credential and people need to see it.
    if (u.protocol === 'unix:') return raw;
    // "json+https:" (a notification format prefix) is https underneath.
    const base = u.protocol.slice(u.protocol.lastIndexOf('+') + 1);
    if (!HOST_IS_PUBLIC.has(base)) return `${u.protocol}${raw.slice(u.protocol.length).startsWith('//') ? '//' : ''}***`;
    return `${u.protocol}//${u.host}/***`;
  } catch {
    if (!raw.length) return '';
    const bare = BARE_HOST_PATH.exec(raw);
    return bare ? `${bare[1]}/***` : '***';
  }
}

/** Mask every URL found in free text (error messages from fetch and friends may embed them). */
export function maskUrlsInText(text: string): string {
  return text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, (m) => maskUrl(m));
}

/** A list of URLs as typed (commas or spaces between them), each masked: safe to show in any message. */
export function maskUrlList(raw: string): string {
  return raw
    .split(/[\s,]+/)
    .filter((part) => part !== '')
    .map(maskUrl)
    .join(', ');
}

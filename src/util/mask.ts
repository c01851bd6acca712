// Secrets (notify URLs carry tokens in their path or query) are shown as scheme and host only.

// A scheme-less "host.name/path..." (a URL missing its https://): the host is not secret, the path is.
const BARE_HOST_PATH = /^([a-z0-9-]+(?:\.[a-z0-9-]+)+(?::\d+)?)\//i;

// Schemes whose host part is a machine, not a credential. In others (Apprise-style "slack://tokenA/
// tokenB", "tgram://bottoken/chat") the "host" is itself a token.
const HOST_IS_PUBLIC = new Set(['http:', 'https:', 'ws:', 'wss:', 'ftp:', 'ftps:', 'tcp:', 'ssh:']);

// Engine addresses (DOCKER_HOST): host, port and path say where the engine is and carry no token, so
// people must see them whole to find a typo; only a password in the userinfo is secret.
const ENGINE_SCHEMES = new Set(['tcp:', 'ssh:']);

/** "https://hooks.slack.com/services/T0/B0/xyz" -> "https://hooks.slack.com/***". */
export function maskUrl(raw: string): string {
  try {
    const u = new URL(raw);
    // A unix socket path locates the engine; it carries no credential and people need to see it.
    if (u.protocol === 'unix:') return raw;
    // "json+https:" (a notification format prefix) is https underneath.
    const base = u.protocol.slice(u.protocol.lastIndexOf('+') + 1);
    if (!HOST_IS_PUBLIC.has(base)) return `${u.protocol}${raw.slice(u.protocol.length).startsWith('//') ? '//' : ''}***`;
    if (ENGINE_SCHEMES.has(u.protocol)) {
      const user = u.username ? `${u.username}${u.password ? ':***' : ''}@` : '';
      const path = u.pathname === '/' && !raw.replace(/[?#].*$/, '').endsWith('/') ? '' : u.pathname;
      return `${u.protocol}//${user}${u.host}${path}${u.search || u.hash ? '?***' : ''}`;
    }
    return `${u.protocol}//${u.host}/***`;
  } catch {
    if (!raw.length) return '';
    const bare = BARE_HOST_PATH.exec(raw);
    return bare ? `${bare[1]}/***` : '***';
  }
}

/** Mask every URL found in free text (error messages from fetch and friends may embed them). */
export function maskUrlsInText(text: string): string {
  // Sentence punctuation after a URL ("at tcp://127.0.0.1:1: connection refused") is not part of it.
  return text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, (m) => {
    const trail = /[.,:;)\]]+$/.exec(m)?.[0] ?? '';
    return maskUrl(m.slice(0, m.length - trail.length)) + trail;
  });
}

/** A list of URLs as typed (commas or spaces between them), each masked: safe to show in any message. */
export function maskUrlList(raw: string): string {
  return raw
    .split(/[\s,]+/)
    .filter((part) => part !== '')
    .map(maskUrl)
    .join(', ');
}

// ---- label text: ONE rule for every place a label key or value is shown (docs/behaviour.md §1, issue 17) -----

/** Label key suffixes whose value is a secret whatever it looks like. */
const SECRET_LABEL_NAME = /url|token|secret|passw|auth|credential|hook|api_?key|private|cookie|session/i;

/** A host and a path without a scheme, inside text: "hooks.slack.com/services/T0/B0/xyz". */
const BARE_URL_IN_TEXT = /\b([a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?::\d+)?)\/[^\s"'<>]*/gi;

/**
 * Tokens: well-known secret prefixes (Stripe tok_/sk_live_, Slack xox?-, GitHub ghp_, GitLab glpat-,
 * AWS AKIA), or a run of 20+ letters, digits, _ and - mixing letters and digits (random keys look like
 * that). Hex-only runs are container and image ids, not secrets.
 */
const TOKEN_IN_TEXT = /\b(?:(?:sk|pk|rk|tok|whsec|acct)_(?:live|test)_|xox[abeoprs]-|gh[opsur]_|glpat-|AKIA)[A-Za-z0-9_-]*|\b[A-Za-z0-9_-]{20,}/g;

function maskTokens(text: string): string {
  return text.replace(TOKEN_IN_TEXT, (m) => {
    if (/^[0-9a-f]+$/i.test(m)) return m;
    const known = /^(?:(?:sk|pk|rk|tok|whsec|acct)_(?:live|test)_|xox[abeoprs]-|gh[opsur]_|glpat-|AKIA)/.test(m);
    return known || (/[0-9]/.test(m) && /[A-Za-z]/.test(m)) ? '***' : m;
  });
}

/** Free text with every URL (with or without a scheme) cut to its host and every token masked. */
export function maskSecretsInText(text: string): string {
  return maskTokens(maskUrlsInText(text).replace(BARE_URL_IN_TEXT, (_m, host: string) => `${host}/***`));
}

/**
 * A label's value as it may be shown anywhere (log, journal, HTTP, page, CLI): under a name that says
 * secret (…url, …token, webhook…) only the hosts of URLs survive, anything else is masked whole;
 * under any other name, URLs are cut to their host and token-like words masked. `3`, `5m`, `true`,
 * `DEBUG` stay as they are.
 */
export function maskLabelValue(suffix: string, raw: string): string {
  if (SECRET_LABEL_NAME.test(suffix)) return raw.trim() === '' ? raw : maskUrlList(raw);
  return maskSecretsInText(raw);
}

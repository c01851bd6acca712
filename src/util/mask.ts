// Secrets (notify URLs carry tokens in their path or query) are shown as scheme and host only.

/** "https://hooks.slack.com/services/T0/B0/xyz" -> "https://hooks.slack.com/***". */
export function maskUrl(raw: string): string {
  try {
    const u = new URL(raw);
    return `${u.protocol}//${u.host}/***`;
  } catch {
    return raw.length ? '***' : '';
  }
}

/** Mask every URL found in free text (error messages from fetch and friends may embed them). */
export function maskUrlsInText(text: string): string {
  return text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, (m) => maskUrl(m));
}

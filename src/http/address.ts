// Where to reach a Repairman HTTP server from this machine, from its settings. Kept apart from
// server.ts so `repairman healthcheck` loads only what it needs (it runs every few seconds).
import { normalizePrefix } from './prefix.js';

/** Host part of a URL that reaches a server bound to `address` from this machine. */
export function connectHost(address: string): string {
  const a = address.trim();
  if (a === '' || a === '0.0.0.0') return '127.0.0.1';
  if (a === '::' || a === '[::]') return '[::1]';
  if (a.includes(':') && !a.startsWith('[')) return `[${a}]`;
  return a;
}

/** The root URL (with a trailing slash) of the instance these settings describe. */
export function instanceRootUrl(s: { httpAddress: string; httpPort: number; httpPrefix: string }): string {
  const prefix = normalizePrefix(s.httpPrefix);
  // The prefix is literal text: encode each character that is not allowed as-is in a path.
  const path = prefix.split('/').map((seg) => encodeURIComponent(seg).replace(/%(2[146-9ABC]|3[ABD]|40|5F|7E)/gi, (m) => decodeURIComponent(m))).join('/');
  return `http://${connectHost(s.httpAddress)}:${s.httpPort}${path}/`;
}

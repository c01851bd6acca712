// The HTTP prefix is literal text (docs/behaviour.md §6): `/a.b(c)+` matches only itself, never `/aXb(c)+`.
// Matching is plain string comparison; no RegExp is ever built from the prefix.

/** "" for no prefix; otherwise "/x..." with one leading slash and no trailing slash. */
export function normalizePrefix(raw: string): string {
  let p = raw.trim();
  while (p.endsWith('/')) p = p.slice(0, -1);
  if (p === '') return '';
  return p.startsWith('/') ? p : `/${p}`;
}

/**
 * The route inside the prefix for a decoded path ("/" for the root, "/healthz"...), or null when the
 * path lies outside the prefix. `/p` and `/p/` are both the root; one trailing slash on a sub-route
 * is tolerated (`/p/healthz/`), as people type it.
 */
export function routeInPrefix(path: string, prefix: string): string | null {
  const p = normalizePrefix(prefix);
  let rest: string;
  if (p === '') rest = path;
  else if (path === p) rest = '/';
  else if (path.startsWith(p) && path.charAt(p.length) === '/') rest = path.slice(p.length);
  else return null;
  if (rest === '') rest = '/';
  if (rest.length > 1 && rest.endsWith('/')) rest = rest.slice(0, -1);
  return rest;
}

/**
 * A relative URL base for links and fetches from a page served at `rawPath` (the path as the client
 * sent it, still percent-encoded): relative links keep working behind a reverse proxy that rewrites
 * the prefix. "/p/" -> "./", "/p" -> "./p/".
 */
export function relativeBase(rawPath: string): string {
  if (rawPath.endsWith('/')) return './';
  const last = rawPath.slice(rawPath.lastIndexOf('/') + 1);
  return `./${last}/`;
}

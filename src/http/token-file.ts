// The HTTP bearer token lives in a file (--http-token-file), so it is not in `docker inspect` or the
// process list: a Docker secret or a file mounted read-only. Read by the server and by the commands
// that ask a running instance (status).
import { readFileSync } from 'node:fs';
import { RepairmanError } from '../errors.js';

/** The token in the file (surrounding whitespace and the final newline removed); undefined for ''. */
export function readTokenFile(path: string): string | undefined {
  if (path === '') return undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new RepairmanError('RM_CONFIG_INVALID', `--http-token-file / HTTP_TOKEN_FILE: cannot read ${path} (${code})`);
  }
  const token = text.trim();
  if (token === '') throw new RepairmanError('RM_CONFIG_INVALID', `--http-token-file / HTTP_TOKEN_FILE: ${path} is empty`);
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f]/.test(token)) throw new RepairmanError('RM_CONFIG_INVALID', `--http-token-file / HTTP_TOKEN_FILE: the token in ${path} has spaces or control characters`);
  return token;
}

// `repairman healthcheck`: GET <prefix>/healthz of the instance these settings describe and exit 0 on
// 200, 1 otherwise (docs/behaviour.md §7). Made for an image HEALTHCHECK: no engine access, one short request, and
// only exit codes 0 and 1 (Docker reserves 2), even for a configuration error.
import { instanceRootUrl } from '../http/address.js';
import { httpGet } from '../http-client/client.js';
import { errorMessage } from '../errors.js';
import type { CommandRun } from './types.js';
import { openSettings } from './open-settings.js';
import { printable } from '../util/printable.js';

/** Under the image HEALTHCHECK's --timeout (3 s) with Node's start-up, so the failure is ours and says why. */
export const HEALTHCHECK_TIMEOUT_MS = 2000;

/** The `degraded` sentences of a /healthz body, terminal-safe; none when it has none. */
function degradedOf(body: string): string[] {
  try {
    const list = (JSON.parse(body) as { degraded?: unknown }).degraded;
    return Array.isArray(list) ? list.map((d) => printable(String(d))) : [];
  } catch {
    return [];
  }
}

export const run: CommandRun = async (ctx) => {
  const loaded = openSettings(ctx, 'healthcheck', { errorExit: 1 });
  if (typeof loaded === 'number') return loaded;
  const { settings } = loaded;
  if (settings.httpPort === 0) {
    ctx.stderr.write('repairman healthcheck: the HTTP server is disabled (--http-port 0 / HTTP_PORT=0), so there is no /healthz to ask\n');
    return 1;
  }
  const url = `${instanceRootUrl(settings)}healthz`;
  try {
    const res = await httpGet(url, { timeoutMs: HEALTHCHECK_TIMEOUT_MS, signal: ctx.signal });
    if (res.status === 200) {
      // Degraded is healthy for a HEALTHCHECK (a restart would not fix it), but worth a word.
      const degraded = degradedOf(res.body);
      ctx.stdout.write(degraded.length ? `healthy, degraded: ${url} answered 200: ${degraded.join('; ')}\n` : `healthy: ${url} answered 200\n`);
      return 0;
    }
    let reason = '';
    try {
      const body = JSON.parse(res.body) as { reason?: unknown; error?: { message?: unknown } };
      reason = typeof body.reason === 'string' ? body.reason : typeof body.error?.message === 'string' ? body.error.message : '';
    } catch {
      reason = res.body.slice(0, 200).trim();
    }
    ctx.stderr.write(`unhealthy: ${url} answered ${res.status}${reason ? `: ${reason}` : ''}\n`);
    return 1;
  } catch (err) {
    ctx.stderr.write(`unhealthy: no answer from ${url} (${errorMessage(err)})\n`);
    return 1;
  }
};

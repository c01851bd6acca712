// `repairman [run] [SWITCHES]`: the supervisor (docs/behaviour.md §7). A bad setting stops it before it touches
// anything (exit 2, every error listed); otherwise it runs until SIGTERM/SIGINT and exits 0 after
// stopping cleanly (timers cleared, event stream closed, in-flight work finished or abandoned,
// journal closed) within a second.
import { startApp } from '../app.js';
import { describeEnvTypo, findEnvTypos } from '../config/env-typos.js';
import { formatConfigErrors } from '../config/load.js';
import { errorMessage, isRepairmanError, RepairmanError } from '../errors.js';
import { createLogger } from '../log.js';
import type { CommandRun } from './types.js';
import { openSettings } from './open-settings.js';

export const run: CommandRun = async (ctx) => {
  const loaded = openSettings(ctx, 'run');
  if (typeof loaded === 'number') return loaded;
  if (loaded.positionals.length > 0) {
    ctx.stderr.write(formatConfigErrors([new RepairmanError('RM_USAGE', `run takes no arguments, got: ${loaded.positionals.join(' ')}`)]));
    return 2;
  }
  const { settings } = loaded;
  const log = createLogger({ out: ctx.stdout, level: settings.debug ? 'debug' : 'info' });
  for (const typo of findEnvTypos(ctx.env)) log.warn(describeEnvTypo(typo), { variable: typo.name, ...(typo.suggestion ? { suggestion: typo.suggestion } : {}) });
  if (ctx.signal.aborted) return 0;

  let app;
  try {
    app = await startApp({ settings, env: ctx.env, log, signal: ctx.signal, sources: loaded.sources });
  } catch (err) {
    // Only what makes running impossible gets here: an unusable DOCKER_HOST/TLS setting (a
    // configuration error, exit 2) or a journal database that cannot be opened.
    const config = isRepairmanError(err, 'RM_CONFIG_INVALID') || isRepairmanError(err, 'RM_ENGINE_TLS');
    const code = isRepairmanError(err) ? ` [${err.code}]` : '';
    ctx.stderr.write(`repairman: cannot start: ${errorMessage(err)}${code}\n`);
    return config ? 2 : 1;
  }
  await app.done;
  return 0;
};

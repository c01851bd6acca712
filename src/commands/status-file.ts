// `repairman status` without a running instance (issue 22): the engine's listing and the journal file
// (--db-path) read as the same ContainersPayload a running instance serves, so it prints the same way.
import { engineHostOf } from '../config/labels.js';
import type { GlobalSettings } from '../config/types.js';
import { createDockerClient } from '../docker/client.js';
import { engineAddress } from '../docker/endpoint.js';
import { errorMessage } from '../errors.js';
import { detectSelfIdentity } from '../heal/self-id.js';
import { buildContainersPayload, type ContainersPayload } from '../http/payloads.js';
import { openJournal } from '../journal/journal.js';
import { readStandaloneState } from '../state/standalone.js';
import { maskUrlsInText } from '../util/mask.js';
import { resolveTimeZone } from '../util/time-format.js';
import type { CommandContext } from './types.js';
import { packageVersion } from './version.js';

export async function readStatusFile(
  ctx: CommandContext,
  settings: GlobalSettings,
): Promise<{ ok: true; payload: ContainersPayload; from: string } | { ok: false; from: string; why: string }> {
  const from = `--db-path ${settings.dbPath}`;
  if (settings.dbPath === ':memory:' || settings.dbPath === '') {
    return { ok: false, from: '--db-path', why: 'the journal is in memory (":memory:"): only the running instance knows its state' };
  }
  let journal;
  try {
    journal = openJournal({ dbPath: settings.dbPath, readonly: true });
  } catch (err) {
    return { ok: false, from, why: errorMessage(err) };
  }
  let engine;
  try {
    engine = createDockerClient(ctx.env);
    const nowMs = Date.now();
    const state = await readStandaloneState({
      engine,
      journal,
      settings,
      labelContext: { notifyOrigins: settings.labelNotifyOrigins, engineHost: engineHostOf(engineAddress(ctx.env)), autohealLabel: settings.autohealLabel },
      self: detectSelfIdentity(ctx.env),
      version: packageVersion(),
      where: `the engine and ${settings.dbPath}`,
      signal: ctx.signal,
    }, nowMs);
    const payload = buildContainersPayload(state, nowMs, resolveTimeZone(ctx.env.TZ));
    payload.source = { kind: 'file', dbPath: settings.dbPath, lastAliveMs: state.lastAliveMs };
    return { ok: true, payload, from: `the engine and ${settings.dbPath}` };
  } catch (err) {
    return { ok: false, from, why: `cannot read the engine: ${maskUrlsInText(errorMessage(err))}` };
  } finally {
    engine?.close();
    journal.close();
  }
}

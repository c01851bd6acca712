// `repairman explain NAME [--json]`: whether Repairman watches container NAME and why, each deciding
// setting and where it came from, its budget, pauses, providers and dependents, and what happens next
// and when (docs/behaviour.md §11). Asked of the running instance over HTTP (<root>/api/explain); when
// none answers, or with --db-path given, read alone from the engine and the journal file: the same
// explanation of the same facts (src/state/explain/), and the output says which source it used.
import { engineHostOf } from '../config/labels.js';
import { errorMessage, isRepairmanError } from '../errors.js';
import { createDockerClient } from '../docker/client.js';
import { engineAddress } from '../docker/endpoint.js';
import { detectSelfIdentity } from '../heal/self-id.js';
import { readTokenFile } from '../http/token-file.js';
import { httpGet } from '../http-client/client.js';
import { openJournal } from '../journal/journal.js';
import type { Journal } from '../journal/types.js';
import { explain } from '../state/explain/explain.js';
import { gatherFacts, journalKnowledge } from '../state/explain/facts.js';
import { renderExplanation } from '../state/explain/render.js';
import type { Explanation } from '../state/explain/types.js';
import { maskUrlsInText } from '../util/mask.js';
import { resolveTimeZone } from '../util/time-format.js';
import type { LoadedSettings } from './open-settings.js';
import { openSettings } from './open-settings.js';
import { instanceRoot, STATUS_TIMEOUT_MS } from './status.js';
import type { CommandContext, CommandRun } from './types.js';

type Asked = { ok: true; explanation: Explanation; from: string } | { ok: false; from: string; why: string };

function looksLikeExplanation(v: unknown): v is Explanation {
  if (!v || typeof v !== 'object') return false;
  const e = v as Partial<Explanation>;
  return typeof e.sentence === 'string' && typeof e.verdict === 'string' && typeof e.next === 'string' && Array.isArray(e.settings);
}

/** The running instance's answer, or why there is none. */
async function askInstance(ctx: CommandContext, loaded: LoadedSettings, name: string, timeZone: string): Promise<Asked> {
  const { settings, options } = loaded;
  const found = instanceRoot(settings, options);
  if (!found.ok) return found;
  const root = found.root;
  const url = `${root}api/explain?name=${encodeURIComponent(name)}&tz=${encodeURIComponent(timeZone)}`;
  try {
    const bearer = readTokenFile(settings.httpTokenFile);
    const res = await httpGet(url, { timeoutMs: STATUS_TIMEOUT_MS, signal: ctx.signal, maxBodyBytes: 1024 * 1024, ...(bearer === undefined ? {} : { bearer }) });
    if (res.status === 401) return { ok: false, from: root, why: 'answered 401: give the instance\'s --http-token-file (HTTP_TOKEN_FILE)' };
    let body: unknown;
    try {
      body = JSON.parse(res.body);
    } catch {
      return { ok: false, from: root, why: `answered ${res.status} with something that is not JSON: is this a Repairman?` };
    }
    const e = res.status === 404 ? (body as { explanation?: unknown }).explanation : body;
    if ((res.status === 200 || res.status === 404) && looksLikeExplanation(e)) return { ok: true, explanation: e, from: root };
    if (res.status === 404) return { ok: false, from: root, why: 'answered 404: is --http-prefix (or the --url path) right, and is it a Repairman with `explain`?' };
    const message = (body as { error?: { message?: unknown } }).error?.message;
    return { ok: false, from: root, why: `answered ${res.status}${typeof message === 'string' ? `: ${message}` : ''}` };
  } catch (err) {
    return { ok: false, from: root, why: errorMessage(err) };
  }
}

/** Read from the engine and the journal file, as a running instance would decide. */
async function explainAlone(ctx: CommandContext, loaded: LoadedSettings, name: string, timeZone: string): Promise<{ explanation: Explanation; notes: string[] }> {
  const { settings } = loaded;
  const notes: string[] = [];
  let journal: Journal | null = null;
  const memory = settings.dbPath === ':memory:' || settings.dbPath === '';
  if (!memory) {
    try {
      journal = openJournal({ dbPath: settings.dbPath, readonly: true });
    } catch (err) {
      notes.push(`Note: cannot read the journal ${settings.dbPath}: ${errorMessage(err)}; budget and pauses unknown.`);
    }
  }
  const engine = createDockerClient(ctx.env);
  try {
    const nowMs = Date.now();
    const where = journal ? `the engine and ${settings.dbPath}` : 'the engine only (no journal file to read)';
    const facts = await gatherFacts({
      engine,
      settings,
      sources: loaded.sources,
      labelContext: { notifyOrigins: settings.labelNotifyOrigins, engineHost: engineHostOf(engineAddress(ctx.env)), autohealLabel: settings.autohealLabel },
      self: detectSelfIdentity(ctx.env),
      source: { kind: 'standalone', where },
      signal: ctx.signal,
    }, journalKnowledge(journal, settings, nowMs), name);
    return { explanation: explain(facts, { nowMs, timeZone }), notes };
  } finally {
    engine.close();
    journal?.close();
  }
}

export const run: CommandRun = async (ctx) => {
  const loaded = openSettings(ctx, 'explain');
  if (typeof loaded === 'number') return loaded;
  if (loaded.positionals.length !== 1) {
    ctx.stderr.write(`repairman explain: give exactly one container NAME (got ${loaded.positionals.length}) [RM_USAGE]\n`);
    return 2;
  }
  const name = loaded.positionals[0] as string;
  const timeZone = resolveTimeZone(ctx.env.TZ);
  const json = loaded.options.json === true;
  const write = (e: Explanation, from?: string, notes: string[] = []): number => {
    if (json) ctx.stdout.write(`${JSON.stringify({ ...e, source: from ? { ...e.source, where: from } : e.source }, null, 2)}\n`);
    else ctx.stdout.write(renderExplanation(e, { ...(from ? { from } : {}), notes }));
    return e.verdict === 'unknown' ? 1 : 0;
  };
  // --db-path on the command line asks for the file itself; otherwise the running instance first.
  const notes: string[] = [];
  if (loaded.sources.db_path?.source !== 'switch') {
    const asked = await askInstance(ctx, loaded, name, timeZone);
    if (asked.ok) return write(asked.explanation, `the running instance at ${asked.from}`);
    notes.push(`Note: no running Repairman answered at ${asked.from} (${asked.why}).`);
  }
  try {
    const alone = await explainAlone(ctx, loaded, name, timeZone);
    return write(alone.explanation, undefined, [...notes, ...alone.notes]);
  } catch (err) {
    if (ctx.signal.aborted) return 0;
    ctx.stderr.write(`repairman explain: cannot ask the engine: ${maskUrlsInText(errorMessage(err))}${isRepairmanError(err) ? ` [${err.code}]` : ''}\n${notes.map((n) => `  ${n}\n`).join('')}`);
    return 1;
  }
};

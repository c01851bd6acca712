// Watching Repairman and the engine from the outside during reliability tests: the process's memory
// (RSS from /proc), the engine's own event stream (its record of what was really done to which
// container, independent of what Repairman says), and the "did it crash or hide a crash" checks.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { onLines } from '../../helpers/lines.js';
import type { EngineEvent, LogLine, RepairmanProcess } from '../../helpers/repairman.js';

// ---- memory -----------------------------------------------------------------------------------

export interface RssSample {
  /** Milliseconds since the sampler started. */
  tMs: number;
  rssMb: number;
}

/** Resident set size of a process in MB (VmRSS), or null once it is gone. */
export function rssMb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

export interface RssSampler {
  samples: RssSample[];
  stop(): RssSample[];
}

export function sampleRss(pid: number, everyMs = 1000): RssSampler {
  const t0 = Date.now();
  const samples: RssSample[] = [];
  const take = (): void => {
    const mb = rssMb(pid);
    if (mb !== null) samples.push({ tMs: Date.now() - t0, rssMb: Math.round(mb * 10) / 10 });
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    samples,
    stop: () => {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}

/** Mean RSS of the samples whose time is in [fromMs, toMs). */
export function meanRss(samples: RssSample[], fromMs: number, toMs: number): number {
  const xs = samples.filter((s) => s.tMs >= fromMs && s.tMs < toMs).map((s) => s.rssMb);
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

/** A compact curve for reports: about `points` samples, "t=12s 41.2MB". */
export function rssCurve(samples: RssSample[], points = 12): string {
  if (samples.length === 0) return '(no samples)';
  const step = Math.max(1, Math.floor(samples.length / points));
  const picked = samples.filter((_, i) => i % step === 0);
  const last = samples[samples.length - 1]!;
  if (picked[picked.length - 1] !== last) picked.push(last);
  return picked.map((s) => `t=${Math.round(s.tMs / 1000)}s ${s.rssMb.toFixed(1)}MB`).join(', ');
}

// ---- the engine's own record --------------------------------------------------------------------

export interface EventFollower {
  events: EngineEvent[];
  /** Stops following; resolves once the docker CLI has exited. */
  stop(): Promise<EngineEvent[]>;
}

/**
 * Follow `docker events` live from now (the engine keeps only a small buffer for --since queries, so
 * long tests must subscribe). Resolves once the subscription is in place.
 */
export async function followEngineEvents(dockerHost: string, filters: Record<string, string[]> = { type: ['container'] }): Promise<EventFollower> {
  const args = ['events', '--format', '{{json .}}'];
  for (const [k, vs] of Object.entries(filters)) for (const v of vs) args.push('--filter', `${k}=${v}`);
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: dockerHost };
  delete env.DOCKER_TLS_VERIFY;
  delete env.DOCKER_CERT_PATH;
  delete env.DOCKER_CONTEXT;
  const child: ChildProcess = spawn('docker', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const events: EngineEvent[] = [];
  onLines(child.stdout!, (text) => {
    const line = text.trim();
    if (!line) return;
    try {
      events.push(JSON.parse(line) as EngineEvent);
    } catch {
      // the CLI prints only JSON here
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // The CLI has subscribed once it has connected; there is no signal for it, so wait a moment.
  await new Promise((r) => setTimeout(r, 500));
  return {
    events,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      return events;
    },
  };
}

export const nameOf = (e: EngineEvent): string => e.Actor?.Attributes?.name ?? '';
export const secOf = (e: EngineEvent): number => e.timeNano / 1e9;

export interface RestartMark {
  name: string;
  id: string;
  /** Engine time (s) of the kill that began the restart (its decision, give or take an inspect). */
  beganSec: number;
  /** Engine time (s) of the restart event (the restart's end). */
  endSec: number;
}

/** Every `restart` the engine did, with the kill that began it, per container name. */
export function restartsByName(events: EngineEvent[]): Map<string, RestartMark[]> {
  const out = new Map<string, RestartMark[]>();
  // Per container id: the first kill of the current stop sequence, and whether a start followed it
  // (a kill then a start without `restart` was someone's kill and a start: the next kill begins anew).
  const open = new Map<string, { killSec: number; started: boolean }>();
  for (const e of [...events].sort((a, b) => a.timeNano - b.timeNano)) {
    if (e.Type !== 'container') continue;
    const id = e.Actor.ID;
    const seq = open.get(id);
    if (e.Action === 'kill') {
      if (!seq || seq.started) open.set(id, { killSec: secOf(e), started: false });
    } else if (e.Action === 'start') {
      if (seq) seq.started = true;
    } else if (e.Action === 'restart') {
      const name = nameOf(e);
      const list = out.get(name) ?? [];
      list.push({ name, id, beganSec: seq?.killSec ?? secOf(e), endSec: secOf(e) });
      out.set(name, list);
      open.delete(id);
    }
  }
  return out;
}

// ---- did it crash, or hide one? ------------------------------------------------------------------

/** Log messages that mean an exception escaped somewhere (cli.ts and healer.ts log them so). */
export const CRASH_MESSAGES = /^unexpected (failure|healing failure)|could not handle an engine event|notification delivery crashed/;

export function crashLines(rm: RepairmanProcess): LogLine[] {
  return rm.lines.filter((l) => CRASH_MESSAGES.test(l.msg));
}

/** Still running, no unhandled exception or rejection logged, nothing on stderr. */
export function assertAliveAndClean(rm: RepairmanProcess, what = 'repairman'): void {
  assert.equal(rm.child.exitCode, null, `${what} exited (code ${rm.child.exitCode})\n${rm.dump()}`);
  assert.equal(rm.child.signalCode, null, `${what} was killed by ${rm.child.signalCode}`);
  assertNoCrashLogged(rm, what);
}

export function assertNoCrashLogged(rm: RepairmanProcess, what = 'repairman'): void {
  const bad = crashLines(rm);
  assert.deepEqual(bad, [], `${what} logged an escaped exception:\n${bad.map((l) => JSON.stringify(l)).join('\n')}`);
  assert.doesNotMatch(rm.stderr(), /Unhandled|UnhandledPromiseRejection|TypeError|RangeError|at .*\.js:\d+/, `${what} wrote an exception on stderr:\n${rm.stderr()}`);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---- notifications against the journal ------------------------------------------------------------

export interface Notified {
  kind: string;
  container: string;
  atMs: number;
}

/**
 * Pair notified events with journal entries one to one: same container and kind, the journal's time
 * at most `maxMs` before the message's (healer.ts journals, then builds the message; a slow SQLite
 * write on a busy disk sits between the two clock readings). Returns what is left on each side.
 */
export function pairUp(messages: Notified[], entries: Notified[], maxMs = 2_000): { unjournaled: Notified[]; unnotified: Notified[] } {
  const used = new Set<Notified>();
  const unjournaledList: Notified[] = [];
  for (const m of [...messages].sort((a, b) => a.atMs - b.atMs)) {
    let best: Notified | undefined;
    for (const e of entries) {
      if (used.has(e) || e.container !== m.container || e.kind !== m.kind) continue;
      const d = m.atMs - e.atMs;
      if (d < -5 || d > maxMs) continue;
      if (!best || Math.abs(m.atMs - e.atMs) < Math.abs(m.atMs - best.atMs)) best = e;
    }
    if (best) used.add(best);
    else unjournaledList.push(m);
  }
  return { unjournaled: unjournaledList, unnotified: entries.filter((e) => !used.has(e)) };
}

/** The messages that have no journal entry (see pairUp). */
export function unjournaled(messages: Notified[], entries: Notified[], maxMs = 2_000): Notified[] {
  return pairUp(messages, entries, maxMs).unjournaled;
}

// Turning the engine's own event record into per-trial latencies. Each trial is matched by container
// id, and both ends are the ENGINE's timestamps (timeNano), so neither our clock nor the time it takes
// the event stream to reach us distorts the figure.

/** The fields of an engine event the benchmarks use (`docker events --format '{{json .}}'`). */
export interface BenchEvent {
  id: string;
  action: string;
  timeNano: bigint;
  attributes: Record<string, string>;
}

export interface Trial {
  id: string;
  name: string;
  /** Engine time of the trigger (health_status: unhealthy, or the crash's die). */
  triggerNano: bigint;
  /** The engine event that began Repairman's repair (kill/restart for a restart, start after a crash). */
  reaction: string;
  reactionNano: bigint;
  latencyMs: number;
}

export interface Pairing {
  trials: Trial[];
  /** Triggers with no repair event after them (still pending, or the container changed on its own). */
  unanswered: number;
  /** How often each action came first after the trigger (which event a repair starts with). */
  firstActions: Record<string, number>;
}

const HEALTH_UNHEALTHY = 'health_status: unhealthy';
/** Events that can begin a restart of a running container. */
const RESTART_START = new Set(['kill', 'stop', 'restart', 'die']);

function byContainer(events: readonly BenchEvent[]): Map<string, BenchEvent[]> {
  const m = new Map<string, BenchEvent[]>();
  for (const e of events) {
    let list = m.get(e.id);
    if (!list) m.set(e.id, (list = []));
    list.push(e);
  }
  for (const list of m.values()) list.sort((a, b) => (a.timeNano < b.timeNano ? -1 : a.timeNano > b.timeNano ? 1 : 0));
  return m;
}

function nsToMs(ns: bigint): number {
  return Number(ns) / 1e6;
}

/**
 * The moment a container turned unhealthy. Docker: its `health_status: unhealthy`. Podman 4.x writes
 * `health_status` when a check starts, with the status from before it; the check ends with an
 * exec_died carrying its exit code: the first failing one right after a health event (the benchmark
 * uses 1 retry) is the turn.
 */
function isUnhealthyTurn(list: readonly BenchEvent[], i: number, engine: 'docker' | 'podman'): boolean {
  const e = list[i]!;
  if (engine === 'docker') return e.action === HEALTH_UNHEALTHY;
  return e.action === 'exec_died' && e.attributes.containerExitCode !== '0' && (list[i - 1]?.action.startsWith('health_status') ?? false);
}

/**
 * Unhealthy -> restart: from each turn to unhealthy to the first event of the restart that follows
 * (Docker emits `kill` first when it stops a running container for a restart, Podman `restart`). A
 * `die` first means the container ended by itself: not a reaction, not counted.
 */
export function pairUnhealthy(events: readonly BenchEvent[], engine: 'docker' | 'podman' = 'docker'): Pairing {
  const trials: Trial[] = [];
  const firstActions: Record<string, number> = {};
  let unanswered = 0;
  for (const [id, list] of byContainer(events)) {
    list.forEach((e, i) => {
      if (!isUnhealthyTurn(list, i, engine)) return;
      // On Podman the next check's (stale) health event may come before the restart: not an answer.
      const next = list.slice(i + 1).find((n) => RESTART_START.has(n.action) || n.action === 'start' || (engine === 'docker' && n.action.startsWith('health_status')));
      if (!next || !RESTART_START.has(next.action)) {
        unanswered++;
        return;
      }
      firstActions[next.action] = (firstActions[next.action] ?? 0) + 1;
      if (next.action === 'die') return;
      trials.push({
        id,
        name: e.attributes.name ?? id.slice(0, 12),
        triggerNano: e.timeNano,
        reaction: next.action,
        reactionNano: next.timeNano,
        latencyMs: nsToMs(next.timeNano - e.timeNano),
      });
    });
  }
  return { trials, unanswered, firstActions };
}

/** Crash -> start: from each `die` with a non-zero exitCode not preceded by a kill, to the next `start`. */
export function pairCrashes(events: readonly BenchEvent[]): Pairing {
  const trials: Trial[] = [];
  const firstActions: Record<string, number> = {};
  let unanswered = 0;
  for (const [id, list] of byContainer(events)) {
    list.forEach((e, i) => {
      if (e.action !== 'die') return;
      const code = Number(e.attributes.exitCode ?? '0');
      if (!Number.isFinite(code) || code === 0) return;
      const prev = list[i - 1];
      if (prev && prev.action === 'kill') return; // someone stopped it: not a crash
      const next = list.slice(i + 1).find((n) => n.action !== 'stop');
      if (!next || next.action !== 'start') {
        unanswered++;
        return;
      }
      firstActions[next.action] = (firstActions[next.action] ?? 0) + 1;
      trials.push({
        id,
        name: e.attributes.name ?? id.slice(0, 12),
        triggerNano: e.timeNano,
        reaction: 'start',
        reactionNano: next.timeNano,
        latencyMs: nsToMs(next.timeNano - e.timeNano),
      });
    });
  }
  return { trials, unanswered, firstActions };
}

/** Parse one `docker events --format '{{json .}}'` line (null for anything else). */
export function parseEventLine(line: string): BenchEvent | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (!v || typeof v !== 'object') return null;
  const o = v as { Type?: unknown; Action?: unknown; Actor?: { ID?: unknown; Attributes?: unknown }; timeNano?: unknown };
  if (o.Type !== undefined && o.Type !== 'container') return null;
  if (typeof o.Action !== 'string' || typeof o.Actor?.ID !== 'string') return null;
  if (typeof o.timeNano !== 'number' && typeof o.timeNano !== 'string') return null;
  // JSON numbers lose precision beyond 2^53 ns (about 104 days since 1970): read the digits themselves.
  const nanoText = /"timeNano":\s*(\d+)/.exec(line)?.[1] ?? String(o.timeNano);
  const attributes = o.Actor.Attributes && typeof o.Actor.Attributes === 'object' ? (o.Actor.Attributes as Record<string, string>) : {};
  return { id: o.Actor.ID, action: o.Action, timeNano: BigInt(nanoText), attributes };
}

// What each route answers, as plain data built from a StateView. Pure apart from reading the state,
// so the report's rules are unit-tested with a fake state and an explicit clock.
import type { ContainerView, DuplicateView, HealthView, PauseView, StateView } from '../state/types.js';
import type { JournalEntry } from '../journal/types.js';
import { maskUrl, maskUrlsInText } from '../util/mask.js';

export const REPORT_LIMIT = { min: 1, max: 1000, def: 20 } as const;
export const EVENTS_LIMIT = { min: 1, max: 1000, def: 50 } as const;
export const TIMELINE_HOURS = 24;

// ---- secrets ---------------------------------------------------------------------------------

const SECRET_KEY = /url|token|secret|password|passwd|webhook|auth|credential/i;

/**
 * A deep copy with every secret hidden: URLs in any string become scheme+host, and a string under a
 * key that sounds secret (notify_url, token...) is masked whole. The state should hold no secrets,
 * but the HTTP output is the last line of defence and costs little.
 */
export function redact<T>(value: T, key = ''): T {
  if (typeof value === 'string') {
    return (SECRET_KEY.test(key) ? maskUrl(value) : maskUrlsInText(value)) as T;
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, key)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redact(v, k);
    return out as T;
  }
  return value;
}

function redactContainer(c: ContainerView): ContainerView {
  const copy = redact(c);
  // A bad notify_url label's value is the secret itself, under the key "value".
  copy.labelProblems = copy.labelProblems.map((p) =>
    SECRET_KEY.test(p.label) ? { ...p, value: maskUrl(p.value), fallback: maskUrlsInText(p.fallback) } : p,
  );
  return copy;
}

// ---- JSON ------------------------------------------------------------------------------------

/**
 * True when the keys are already in the order Array.prototype.sort() would put them. An own
 * "__proto__" key (JSON.parse makes one) says no: the copy drops it, and the output must not change.
 */
function inSortedOrder(keys: string[]): boolean {
  for (let i = 0; i < keys.length; i++) {
    if (keys[i] === '__proto__' || (i > 0 && (keys[i - 1] as string) > (keys[i] as string))) return false;
  }
  return true;
}

/** JSON with object keys sorted at every level (the report's keys are sorted, docs/behaviour.md §6). */
export function sortedJson(value: unknown, indent = 2): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const src = v as Record<string, unknown>;
      const keys = Object.keys(src);
      // An object whose keys are already sorted is written as it is: a sorted copy of every object
      // made each refresh of a full timeline grow V8's young generation (BENCHMARKS.md, "Figures
      // behind the code").
      if (inSortedOrder(keys)) return v;
      const out: Record<string, unknown> = {};
      for (const k of keys.sort()) out[k] = src[k];
      return out;
    }
    return v;
  }, indent);
}

// ---- the original report (GET <prefix>/) ------------------------------------------------------

export interface ReportFailing {
  id: string;
  ident: string;
  restarts_in_current_frame: number;
  reached_max_in_previous_frame: boolean;
}

export interface ReportEvent {
  num: number;
  container: string;
  date: string;
  message: string;
}

export interface Report {
  constantly_failing: ReportFailing[];
  constantly_failing_count: number;
  /**
   * Only while the engine is unreachable: why (its address masked). Absent otherwise, so the report
   * stays the original's byte for byte when all is well.
   */
  engine_error?: string;
  global_status: boolean;
  last_events: ReportEvent[];
}

/**
 * The report's date format, as the original wrote it (SQLite `datetime('now')`): "YYYY-MM-DD HH:MM:SS"
 * in UTC. Kept byte-for-byte so scripts that parse the original report keep working.
 */
export function reportDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** A container counts against global_status (docs/behaviour.md §6). */
export function isConstantlyFailing(c: ContainerView): boolean {
  const b = c.budget;
  return b.state === 'longer_wait' || b.state === 'given_up' || (b.reachedMaxInPreviousFrame && b.restartsInFrame > 0);
}

/**
 * global_status is also false while the engine is unreachable: a monitor reading only this report
 * must not see "all fine" from a supervisor that can see nothing.
 */
export function buildReport(state: StateView, limit: number, nowMs: number): Report {
  const failing = state
    .containers()
    .filter(isConstantlyFailing)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((c) => ({
      // As in the original: the budget is keyed by name, so `id` is the name and `ident` is
      // "<name>=False" (the name with its failing status), not the engine's container id.
      id: c.name,
      ident: `${c.name}=False`,
      restarts_in_current_frame: c.budget.restartsInFrame,
      reached_max_in_previous_frame: c.budget.reachedMaxInPreviousFrame,
    }));
  const events = state.events({ limit }).slice(0, limit);
  const health = state.health(nowMs);
  return {
    constantly_failing: failing,
    constantly_failing_count: failing.length,
    ...(health.engineUp ? {} : { engine_error: maskUrlsInText(health.reason) }),
    global_status: failing.length === 0 && health.engineUp,
    last_events: events.map((e) => ({
      num: e.num,
      container: e.container,
      date: reportDate(e.atMs),
      message: maskUrlsInText(e.message),
    })),
  };
}

// ---- JSON API ----------------------------------------------------------------------------------

export interface TimelineMark {
  container: string;
  atMs: number;
  kind: string;
}

export interface ContainersPayload {
  generatedAtMs: number;
  /** The IANA zone times are shown in (env TZ, else the system's); all numbers are UTC epoch ms. */
  timeZone: string;
  version: string;
  startedAtMs: number;
  health: HealthView;
  containers: ContainerView[];
  duplicates: DuplicateView[];
  /** Maintenance pauses in force (docs/behaviour.md §12); container '*' is every container. */
  pauses?: PauseView[];
  timeline: { sinceMs: number; untilMs: number; restarts: TimelineMark[] };
  /** Set when read without a running instance (`status --db-path`): the engine and this journal file. */
  source?: { kind: 'file'; dbPath: string; lastAliveMs: number | null };
}

export function buildContainersPayload(state: StateView, nowMs: number, timeZone: string): ContainersPayload {
  return { ...payloadWithout(state, nowMs, timeZone), containers: state.containers().map(redactContainer) };
}

/** Containers written to the reply at a time. */
const CONTAINERS_PER_CHUNK = 100;

/**
 * The text of sortedJson(buildContainersPayload(...)) and a newline, in pieces of a hundred
 * containers: 10,000 containers make a 7 MB reply, which as one string (with its copies on the way
 * out) grew the supervisor's RSS by ~40 MB per request (BENCHMARKS.md "Scale").
 */
export function containersPayloadChunks(state: StateView, nowMs: number, timeZone: string): Iterable<string> {
  // Read now, not at the first piece: a state that throws is a 500, not a reply cut half way.
  // "containers" sorts first: the other keys follow it, as sortedJson writes them.
  const rest = sortedJson(payloadWithout(state, nowMs, timeZone));
  return pieces(state.containers(), rest);
}

function* pieces(views: ContainerView[], rest: string): Generator<string> {
  if (views.length === 0) {
    yield `{\n  "containers": [],${rest.slice(1)}\n`;
    return;
  }
  yield '{\n  "containers": [';
  for (let i = 0; i < views.length; i += CONTAINERS_PER_CHUNK) {
    let chunk = '';
    for (let k = i; k < Math.min(views.length, i + CONTAINERS_PER_CHUNK); k++) {
      // One level deeper than on its own: every line of the container's JSON indented by 4 more.
      chunk += `${k ? ',' : ''}\n    ${sortedJson(redactContainer(views[k] as ContainerView)).replace(/\n/g, '\n    ')}`;
    }
    yield chunk;
  }
  yield `\n  ],${rest.slice(1)}\n`;
}

function payloadWithout(state: StateView, nowMs: number, timeZone: string): Omit<ContainersPayload, 'containers'> {
  const sinceMs = nowMs - TIMELINE_HOURS * 3600_000;
  return {
    generatedAtMs: nowMs,
    timeZone,
    version: state.version,
    startedAtMs: state.startedAtMs,
    health: redact(state.health(nowMs)),
    duplicates: redact(state.duplicates()),
    pauses: state.pauses?.() ?? [],
    timeline: {
      sinceMs,
      untilMs: nowMs,
      restarts: state
        .restartsSince(sinceMs)
        .filter((r) => r.atMs >= sinceMs && r.atMs <= nowMs)
        // Keys in sorted order: sortedJson then writes the marks without copying them.
        .map((r) => ({ atMs: r.atMs, container: r.container, kind: r.kind })),
    },
  };
}

export interface EventsPayload {
  events: JournalEntry[];
  /** Pass as `before` to get the next (older) page; null when there is none. */
  next: number | null;
}

export function buildEventsPayload(state: StateView, opts: { limit: number; beforeNum?: number; container?: string }): EventsPayload {
  // One more than asked tells whether an older page exists without a count query.
  const query: { limit: number; beforeNum?: number; container?: string } = { limit: opts.limit + 1 };
  if (opts.beforeNum !== undefined) query.beforeNum = opts.beforeNum;
  if (opts.container !== undefined) query.container = opts.container;
  const got = state.events(query);
  const page = got.slice(0, opts.limit);
  const last = page[page.length - 1];
  return { events: redact(page), next: got.length > opts.limit && last ? last.num : null };
}

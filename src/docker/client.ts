// The Docker Engine API client: node:http / node:https over a unix socket, tcp (optionally TLS) or
// ssh (docker system dial-stdio), with keep-alive connections. No dockerode: its import alone costs
// too much of the container's 80 MB cap (BENCHMARKS.md, "Figures behind the code").
//
// Every call but the event stream has a deadline (restart/stop: the stop timeout plus a margin) and
// accepts an AbortSignal; an aborted call rejects with the signal's reason (an AbortError by
// default), never with a RepairmanError, because aborting is the caller's decision, not an engine
// failure. Failures are RepairmanErrors with the RM_ENGINE_* codes of src/errors.ts.
import http from 'node:http';
import type https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { RepairmanError, type ErrorCode } from '../errors.js';
import { loadHttps } from '../http-client/client.js';
import { silentLogger, type Logger } from '../log.js';
import { logsFromMultiplexed, logsFromRaw, MultiplexError } from './demux.js';
import { resolveEndpoint, sshArgs, type Endpoint } from './endpoint.js';
import { JsonLineSplitter, tryParseJson } from './json-lines.js';
import { CLIENT_MAX_API_VERSION, negotiateApiVersion } from './negotiate.js';
import { JsonSyntaxError } from './json-stream.js';
import { ListingParser, ListingTooLargeError } from './listing.js';
import { dockerState, engineKindFromPing, engineKindFromVersion, podmanEventFilters, podmanListFilters, type EngineKind } from './podman.js';
import { PodmanEventFeed } from './podman-events.js';
import { parseEvent, parseInspect, parseVersion, ShapeError } from './shape.js';
import { createSshConnection } from './ssh-connection.js';
import type { ContainerInspect, ContainerRecreator, ContainerSummary, DockerEvent, EngineApi, EngineVersion, Filters, LogsResult } from './types.js';
import { formatBytes } from '../util/format-bytes.js';

// node:https (and with it node:tls) is loaded (loadHttps) only for tcp+TLS endpoints: most engines
// are on a unix socket and should not pay for it (BENCHMARKS.md, "Client footprint").

export const DEFAULT_CALL_TIMEOUT_MS = 10_000;
/** restart/stop wait for the engine's own stop timeout; this is on top, for the kill and the start. */
export const STOP_MARGIN_MS = 15_000;
/** The engine's stop timeout when neither the call nor the container sets one. */
export const ENGINE_DEFAULT_STOP_TIMEOUT_SEC = 10;
const MIB = 1024 * 1024;
// A broken engine, or a proxy in front of it, must not exhaust memory: Repairman's container is capped
// at 80 MB. Listings are read as a stream and reduced container by container (listing.ts), so only one
// container's entry is capped. Every other reply is capped by what its call can really need, a reply
// that announces more (Content-Length) is refused before a byte of it is read, and the buffered replies
// being read at once share one budget, held until the reply is parsed. What counts is the bytes read,
// not how they are kept: Node frees socket chunks only at a GC (measured: RELIABILITY.md,
// faulty-engine-replies).
/**
 * One container's entry in a listing (read as a stream, so the listing itself has no cap): one is
 * 1-5 KB with compose's labels; a megabyte is labels nobody writes by hand.
 */
export const DEFAULT_MAX_LIST_RECORD_BYTES = 1 * MIB;
/** Containers in one listing: 5x the 10,000 Repairman is measured with; each kept record is ~0.5 KB. */
export const DEFAULT_MAX_LIST_RECORDS = 50_000;
/** Every other reply: an inspect is 10-30 KB, logs are asked for tail=10, errors are a line. */
export const DEFAULT_MAX_BODY_BYTES = 1 * MIB;
/** All the buffered replies being read at once (inspects, logs, errors; not listings). */
export const DEFAULT_MAX_BUFFERED_BYTES = 8 * MIB;

export interface DockerClientOptions {
  /** Deadline of every call except the event stream (default 10 s). */
  callTimeoutMs?: number;
  logger?: Logger;
  /** Cap of one container's entry in a listing (default DEFAULT_MAX_LIST_RECORD_BYTES). */
  maxListRecordBytes?: number;
  /** Cap of the number of containers in a listing (default DEFAULT_MAX_LIST_RECORDS). */
  maxListRecords?: number;
  /** Label names kept from listings besides those of isKeptLabel (e.g. AUTOHEAL_CONTAINER_LABEL). */
  extraLabels?: readonly string[];
  /** Cap of every other reply (default DEFAULT_MAX_BODY_BYTES). */
  maxBodyBytes?: number;
  /** Cap of all the replies being read at once (default DEFAULT_MAX_BUFFERED_BYTES). */
  maxBufferedBytes?: number;
  /** The ssh executable for ssh:// hosts (default "ssh" from PATH). */
  sshCommand?: string;
  /** Environment of the ssh process (default process.env). */
  sshEnv?: NodeJS.ProcessEnv;
  /** Newest API version to talk (tests; default CLIENT_MAX_API_VERSION). */
  clientMaxApiVersion?: string;
}

type Query = Record<string, string | number | boolean | undefined>;

interface CallOpts {
  query?: Query;
  signal?: AbortSignal;
  /** Deadline of the whole call (streams: of the wait for the response headers only). */
  timeoutMs?: number;
  /** false for /_ping and /version used to negotiate. */
  versioned?: boolean;
  /** The largest reply body accepted, and what the call is for people reading the error. */
  cap?: { bytes: number; of: string };
  /** A 2xx body goes to a new one of these as it arrives instead of being buffered (listings). */
  consume?: () => ListingParser;
  /** A JSON request body (create). */
  json?: unknown;
}

/** What a call's failure handlers need to tell a deadline from an abort from a transport failure. */
interface CallState {
  reason?: 'timeout' | 'abort';
  res?: IncomingMessage;
  abortError: () => unknown;
  clearDeadline: () => void;
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Replaced by an empty buffer once decoded (shaped()), so parsing does not keep both. */
  body: Buffer;
}

/** call(): the engine no longer speaks the negotiated version. */
const TOO_NEW: unique symbol = Symbol('too new');

const EMPTY = Buffer.alloc(0);

/** 16 MB, 900 KB: sizes as people read them in errors. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED', 'ENOENT', 'EPIPE', 'ECONNRESET', 'ECONNABORTED', 'EACCES', 'EPERM', 'ENOTFOUND', 'EAI_AGAIN',
  'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ETIMEDOUT', 'ENOTSOCK', 'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_SOCKET_CLOSED',
]);

// OpenSSL's certificate verification failures, as Node reports them in err.code.
const TLS_VERIFY_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'INVALID_CA', 'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'EPROTO',
]);

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

function pathWithQuery(path: string, query: Query | undefined): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === undefined) continue;
    params.set(k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

function containerPath(id: string, suffix = ''): string {
  if (typeof id !== 'string' || id === '') throw new TypeError('a container id or name is required');
  return `/containers/${encodeURIComponent(id)}${suffix}`;
}

function checkStopTimeout(value: number | undefined): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 0)) {
    throw new TypeError(`stopTimeoutSec must be a non-negative integer, got ${String(value)}`);
  }
}

/** The engine's own error text: {"message": "..."} or plain text, shortened. */
function engineMessage(body: Buffer): string {
  const text = body.toString('utf8');
  const parsed = tryParseJson(text) as { message?: unknown } | undefined;
  const msg = parsed && typeof parsed.message === 'string' ? parsed.message : text.trim();
  return msg.length > 500 ? `${msg.slice(0, 500)}…` : msg;
}

function sinceUntil(value: number | string | Date | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value instanceof Date) return (value.getTime() / 1000).toFixed(3);
  return String(value);
}

export class DockerClient implements EngineApi, ContainerRecreator {
  readonly endpoint: Endpoint;
  private readonly agent: http.Agent;
  private readonly transport: { request: typeof http.request };
  private readonly callTimeoutMs: number;
  private readonly maxBodyBytes: number;
  private readonly maxListRecordBytes: number;
  private readonly maxListRecords: number;
  private readonly extraLabels: readonly string[];
  private readonly maxBufferedBytes: number;
  /** Bytes of the replies being read or parsed right now (against maxBufferedBytes). */
  private bufferedBytes = 0;
  private readonly clientMaxApiVersion: string;
  private readonly log: Logger;
  private calls = 0;
  private version_: string | undefined;
  private negotiating: Promise<string> | undefined;
  private engineApiVersion_: string | undefined;
  private engineKind_: EngineKind | undefined;
  /** Event lines that were not JSON or not an event (skipped). */
  badEventLines = 0;

  constructor(endpoint: Endpoint, opts: DockerClientOptions = {}) {
    this.endpoint = endpoint;
    this.callTimeoutMs = opts.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.maxListRecordBytes = opts.maxListRecordBytes ?? DEFAULT_MAX_LIST_RECORD_BYTES;
    this.maxListRecords = opts.maxListRecords ?? DEFAULT_MAX_LIST_RECORDS;
    this.extraLabels = opts.extraLabels ?? [];
    this.maxBufferedBytes = opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.clientMaxApiVersion = opts.clientMaxApiVersion ?? CLIENT_MAX_API_VERSION;
    this.log = opts.logger ?? silentLogger;
    this.transport = http;
    if (endpoint.kind === 'tcp' && endpoint.tls) {
      const httpsModule = loadHttps();
      this.transport = httpsModule;
      this.agent = new httpsModule.Agent({ keepAlive: true });
    } else if (endpoint.kind === 'ssh') {
      const args = sshArgs(endpoint);
      // Every connection is an ssh process: keep a couple idle for reuse, close the rest.
      const agent = new http.Agent({ keepAlive: true, maxFreeSockets: 2 });
      agent.createConnection = () => createSshConnection({ command: opts.sshCommand ?? 'ssh', args, env: opts.sshEnv ?? process.env });
      this.agent = agent;
    } else {
      this.agent = new http.Agent({ keepAlive: true });
    }
  }

  /** Number of HTTP requests made so far, including the one-time version negotiation. */
  get callCount(): number {
    return this.calls;
  }

  /** The API version in use, once negotiated. */
  get apiVersion(): string | undefined {
    return this.version_;
  }

  /** The newest API version the engine reported, once negotiated. */
  get engineApiVersion(): string | undefined {
    return this.engineApiVersion_;
  }

  /** Docker or Podman, once negotiated (Podman needs its filters and events translated). */
  get engineKind(): EngineKind | undefined {
    return this.engineKind_;
  }

  /** Connections currently open (busy or idle kept-alive); for tests checking nothing leaks. */
  get openConnections(): number {
    let n = 0;
    for (const list of [...Object.values(this.agent.sockets), ...Object.values(this.agent.freeSockets)]) n += list?.length ?? 0;
    return n;
  }

  /** Bytes of replies being read or parsed right now; for tests checking the budget is given back. */
  get bufferedReplyBytes(): number {
    return this.bufferedBytes;
  }

  /** Close idle kept-alive connections (and with them ssh processes); in-flight calls fail. */
  close(): void {
    this.agent.destroy();
  }

  // ---- the calls -------------------------------------------------------------------------------

  async ping(opts: { signal?: AbortSignal } = {}): Promise<void> {
    const engineMax = await this.request('GET', '/_ping', { versioned: false, signal: opts.signal }, (reply) => {
      this.expectOk('GET /_ping', reply);
      this.engineKind_ ??= engineKindFromPing(reply.headers);
      return reply.headers['api-version'];
    });
    // A free negotiation: ping answers carry the engine's API version. An unusable one is left for
    // the first versioned call to report; the engine did answer, which is all ping promises.
    if (!this.version_) this.tryAdoptVersion(engineMax);
  }

  async version(opts: { signal?: AbortSignal } = {}): Promise<EngineVersion> {
    const v = await this.request('GET', '/version', { versioned: false, signal: opts.signal }, (reply) => {
      this.expectOk('GET /version', reply);
      return this.shaped('GET /version', reply, parseVersion);
    });
    if (!this.version_) this.tryAdoptVersion(v.ApiVersion);
    return v;
  }

  /**
   * The containers, reduced as the listing arrives (src/docker/listing.ts): memory follows the number
   * of containers, not the listing's size; each container's entry is capped, not the listing.
   */
  async listContainers(opts: { all?: boolean; filters?: Filters; signal?: AbortSignal } = {}): Promise<ContainerSummary[]> {
    const query: Query = { all: opts.all ? true : undefined };
    await this.negotiate(opts.signal);
    const filters = this.engineKind_ === 'podman' ? podmanListFilters(opts.filters) : opts.filters;
    if (filters && Object.keys(filters).length > 0) query.filters = JSON.stringify(filters);
    const out: ContainerSummary[] = [];
    // A fresh parser per attempt: a renegotiated retry starts the listing again.
    const consume = (): ListingParser => {
      out.length = 0;
      return new ListingParser({ maxRecordBytes: this.maxListRecordBytes, maxRecords: this.maxListRecords, extraLabels: this.extraLabels }, (c) => out.push(c));
    };
    const list = await this.call('GET', '/containers/json', { query, signal: opts.signal, consume }, (reply) => {
      this.expectOk('GET /containers/json', reply);
      return out;
    });
    if (this.engineKind_ === 'podman') for (const c of list) c.State = dockerState(c.State);
    return list;
  }

  async inspect(id: string, opts: { signal?: AbortSignal } = {}): Promise<ContainerInspect> {
    const path = containerPath(id, '/json');
    const cap = { bytes: this.maxBodyBytes, of: 'an inspect (usually 10-30 KB)' };
    const info = await this.call('GET', path, { signal: opts.signal, cap }, (reply) => {
      this.expectOk(`GET ${path}`, reply);
      return this.shaped(`GET ${path}`, reply, parseInspect);
    });
    if (this.engineKind_ === 'podman') info.State.Status = dockerState(info.State.Status);
    // Podman's --health-on-failure is only in its own inspect; read it when it can matter.
    if (this.engineKind_ === 'podman' && info.State.Health?.Status === 'unhealthy') {
      const action = await this.podmanHealthOnFailure(info.Id, opts.signal);
      if (action !== undefined) info.Config.HealthcheckOnFailureAction = action;
    }
    return info;
  }

  /** Config.HealthcheckOnFailureAction of Podman's own inspect; undefined when it has none. */
  private async podmanHealthOnFailure(id: string, signal: AbortSignal | undefined): Promise<string | undefined> {
    const path = `/libpod${containerPath(id, '/json')}`;
    const cap = { bytes: this.maxBodyBytes, of: 'an inspect (usually 10-30 KB)' };
    return this.call('GET', path, { signal, cap }, (reply) => {
      this.expectOk(`GET ${path}`, reply);
      const action = this.shaped(`GET ${path}`, reply, (v) => (v as { Config?: { HealthcheckOnFailureAction?: unknown } } | null)?.Config?.HealthcheckOnFailureAction);
      return typeof action === 'string' ? action : undefined;
    });
  }

  /** Start; a container already running (304) is fine. */
  async start(id: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    const path = containerPath(id, '/start');
    await this.call('POST', path, { signal: opts.signal }, (reply) => this.expectOk(`POST ${path}`, reply, [304]));
  }

  /** Stop, waiting stopTimeoutSec before the kill; a container already stopped (304) is fine. */
  async stop(id: string, opts: { stopTimeoutSec?: number; signal?: AbortSignal } = {}): Promise<void> {
    await this.stopOrRestart('stop', id, opts);
  }

  /** Restart, waiting stopTimeoutSec before the kill. */
  async restart(id: string, opts: { stopTimeoutSec?: number; signal?: AbortSignal } = {}): Promise<void> {
    await this.stopOrRestart('restart', id, opts);
  }

  async remove(id: string, opts: { force?: boolean; volumes?: boolean; signal?: AbortSignal } = {}): Promise<void> {
    const path = containerPath(id);
    await this.call('DELETE', path, {
      query: { force: opts.force ? true : undefined, v: opts.volumes ? true : undefined },
      signal: opts.signal,
      // Removing with force kills first; a stuck container can take the engine a while.
      timeoutMs: opts.force ? this.callTimeoutMs + STOP_MARGIN_MS : this.callTimeoutMs,
    }, (reply) => this.expectOk(`DELETE ${path}`, reply));
  }

  /** Create a container from a create request's body; its id. */
  async create(name: string, body: Record<string, unknown>, opts: { signal?: AbortSignal } = {}): Promise<string> {
    return this.call('POST', '/containers/create', { query: { name }, json: body, signal: opts.signal }, (reply) => {
      this.expectOk('POST /containers/create', reply);
      const parsed: unknown = JSON.parse(reply.body.toString('utf8'));
      const id = parsed && typeof parsed === 'object' ? (parsed as { Id?: unknown }).Id : undefined;
      if (typeof id !== 'string' || id === '') throw new RepairmanError('RM_ENGINE_BAD_REPLY', 'POST /containers/create: the reply has no container id');
      return id;
    });
  }

  async rename(id: string, newName: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    const path = containerPath(id, '/rename');
    await this.call('POST', path, { query: { name: newName }, signal: opts.signal }, (reply) => this.expectOk(`POST ${path}`, reply));
  }

  /** The last `tail` lines (default all) of stdout and stderr, demultiplexed. */
  async logs(id: string, opts: { tail?: number; stdout?: boolean; stderr?: boolean; signal?: AbortSignal } = {}): Promise<LogsResult> {
    if (opts.tail !== undefined && (!Number.isInteger(opts.tail) || opts.tail < 0)) {
      throw new TypeError(`tail must be a non-negative integer, got ${String(opts.tail)}`);
    }
    const path = containerPath(id, '/logs');
    const query: Query = { stdout: opts.stdout ?? true, stderr: opts.stderr ?? true, tail: opts.tail ?? 'all' };
    const cap = { bytes: this.maxBodyBytes, of: `logs${opts.tail === undefined ? '' : ` (tail=${opts.tail})`}` };
    const { type, body } = await this.call('GET', path, { query, signal: opts.signal, cap }, (reply) => {
      this.expectOk(`GET ${path}`, reply);
      return { type: String(reply.headers['content-type'] ?? ''), body: reply.body };
    });
    // API 1.42+ says which framing it used; older engines do not, and then the container's TTY
    // setting decides, as in the docker CLI.
    let tty: boolean;
    if (type.includes('vnd.docker.multiplexed-stream')) tty = false;
    else if (type.includes('vnd.docker.raw-stream')) tty = true;
    else tty = (await this.inspect(id, { signal: opts.signal })).Config.Tty === true;
    if (tty) return logsFromRaw(body);
    try {
      return logsFromMultiplexed(body);
    } catch (err) {
      if (err instanceof MultiplexError) {
        throw new RepairmanError('RM_ENGINE_BAD_REPLY', `GET ${path}: the log stream is not multiplexed as expected (${err.message})`, { cause: err });
      }
      throw err;
    }
  }

  /**
   * The event stream: yields events as they come; ends when the engine closes it (e.g. after
   * `until`) or promptly when the signal aborts, closing the connection. Lines that are not events
   * are skipped (counted in badEventLines, logged at debug). No deadline once connected.
   * Connection failures throw RepairmanError (RM_ENGINE_UNREACHABLE...); the caller reconnects.
   */
  events(opts: { filters?: Filters; since?: number | string | Date; until?: number | string | Date; signal?: AbortSignal } = {}): AsyncIterable<DockerEvent> {
    return this.eventStream(opts);
  }

  private async *eventStream(opts: { filters?: Filters; since?: number | string | Date; until?: number | string | Date; signal?: AbortSignal }): AsyncGenerator<DockerEvent> {
    const signal = opts.signal;
    if (signal?.aborted) return;
    const query: Query = { since: sinceUntil(opts.since), until: sinceUntil(opts.until) };
    let opened: { res: IncomingMessage; done: () => void };
    let podman: PodmanEventFeed | undefined;
    try {
      await this.negotiate(signal);
      let filters = opts.filters;
      if (this.engineKind_ === 'podman') {
        filters = podmanEventFilters(filters);
        podman = new PodmanEventFeed({ inspect: (id) => this.inspect(id, { signal }), asked: opts.filters?.event });
      }
      if (filters && Object.keys(filters).length > 0) query.filters = JSON.stringify(filters);
      opened = await this.openStream('GET', '/events', { query, signal });
    } catch (err) {
      if (signal?.aborted) return;
      throw err;
    }
    const { res, done } = opened;
    const splitter = new JsonLineSplitter();
    const handle = (line: string): DockerEvent | undefined => {
      const event = parseEvent(tryParseJson(line));
      if (!event) {
        this.badEventLines++;
        this.log.debug('skipped a line of the event stream that is not an event', { line: line.slice(0, 200) });
      }
      return event;
    };
    try {
      for await (const chunk of res) {
        for (const line of splitter.push(chunk as Buffer)) {
          const event = handle(line);
          if (event) yield* podman ? await podman.translate(event) : [event];
        }
      }
      for (const line of splitter.end()) {
        const event = handle(line);
        if (event) yield* podman ? await podman.translate(event) : [event];
      }
    } catch (err) {
      if (signal?.aborted) return;
      throw this.transportError('GET /events', err);
    } finally {
      if (splitter.droppedLines > 0) this.badEventLines += splitter.droppedLines;
      // Also when the consumer stops iterating early: never leave the connection open.
      if (!res.complete) res.destroy();
      done();
    }
  }

  // ---- plumbing --------------------------------------------------------------------------------

  private async stopOrRestart(action: 'stop' | 'restart', id: string, opts: { stopTimeoutSec?: number; signal?: AbortSignal }): Promise<void> {
    checkStopTimeout(opts.stopTimeoutSec);
    const path = containerPath(id, `/${action}`);
    let waitSec = opts.stopTimeoutSec;
    if (waitSec === undefined) {
      // The engine will use the container's own StopTimeout: learn it so our deadline outlasts it.
      const info = await this.inspect(id, { signal: opts.signal });
      const own = info.Config.StopTimeout;
      waitSec = typeof own === 'number' && own >= 0 ? own : ENGINE_DEFAULT_STOP_TIMEOUT_SEC;
    }
    await this.call('POST', path, {
      query: { t: opts.stopTimeoutSec },
      signal: opts.signal,
      timeoutMs: waitSec * 1000 + STOP_MARGIN_MS,
    }, (reply) => this.expectOk(`POST ${path}`, reply, action === 'stop' ? [304] : []));
  }

  private adoptVersion(engineMax: unknown): string {
    const n = negotiateApiVersion(typeof engineMax === 'string' ? engineMax : undefined, this.clientMaxApiVersion);
    if (!n.ok) {
      throw new RepairmanError(n.tooOld ? 'RM_ENGINE_ERROR' : 'RM_ENGINE_BAD_REPLY', `cannot agree on an API version with the engine at ${this.endpoint.display}: ${n.reason}`);
    }
    this.engineApiVersion_ = typeof engineMax === 'string' ? engineMax.trim() : undefined;
    this.version_ = n.version;
    this.log.debug('negotiated the engine API version', { engine: this.engineApiVersion_, using: n.version });
    return n.version;
  }

  private tryAdoptVersion(engineMax: unknown): void {
    try {
      this.adoptVersion(engineMax);
    } catch {
      // negotiate() will fetch and report it.
    }
  }

  /** The negotiated version; the first call pings (and falls back to /version without the header). */
  private negotiate(signal: AbortSignal | undefined): Promise<string> {
    if (this.version_) return Promise.resolve(this.version_);
    // One negotiation shared by the calls that start together; a failure is not cached.
    this.negotiating ??= (async () => {
      try {
        const header = await this.request('GET', '/_ping', { versioned: false }, (ping) => {
          this.expectOk('GET /_ping', ping);
          this.engineKind_ = engineKindFromPing(ping.headers);
          return ping.headers['api-version'];
        });
        if (typeof header === 'string' && header.trim() !== '') return this.adoptVersion(header);
        const v = await this.version();
        if (this.engineKind_ !== 'podman') this.engineKind_ = engineKindFromVersion(v);
        return this.version_ ?? this.adoptVersion(v.ApiVersion);
      } finally {
        this.negotiating = undefined;
      }
    })();
    const shared = this.negotiating;
    if (!signal) return shared;
    // The caller's signal abandons its wait, not the shared negotiation others may be waiting on.
    return new Promise<string>((resolve, reject) => {
      if (signal.aborted) return reject(abortReason(signal));
      const onAbort = (): void => reject(abortReason(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      shared.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  /** A versioned call; renegotiates once if the engine was replaced by an older one meanwhile. */
  private async call<T>(method: string, path: string, opts: CallOpts, use: (reply: Reply) => T): Promise<T> {
    const version = await this.negotiate(opts.signal);
    const first = await this.request(method, `/v${version}${path}`, opts, (reply) =>
      reply.status === 400 && /client version .* is too new/i.test(engineMessage(reply.body)) ? TOO_NEW : use(reply),
    );
    if (first !== TOO_NEW) return first;
    this.log.info('the engine now speaks an older API version; renegotiating', { was: version });
    this.version_ = undefined;
    const again = await this.negotiate(opts.signal);
    return this.request(method, `/v${again}${path}`, opts, use);
  }

  /**
   * One HTTP request within the deadline, its body buffered (capped) and given to `use`; the body's
   * bytes count against the budget of replies being read until `use` returns (parsing included).
   */
  private async request<T>(method: string, path: string, opts: CallOpts, use: (reply: Reply) => T): Promise<T> {
    const what = `${method} ${path.replace(/^\/v[\d.]+/, '')}`;
    const timeoutMs = opts.timeoutMs ?? this.callTimeoutMs;
    const { res, done, state } = await this.open(method, path, opts, timeoutMs);
    const held = { bytes: 0 };
    try {
      const status = res.statusCode ?? 0;
      const body = opts.consume && status >= 200 && status < 300
        ? await this.consumeBody(res, what, state, opts.consume())
        : await this.readBody(res, what, state, opts.cap ?? { bytes: this.maxBodyBytes, of: 'this call' }, held);
      return use({ status: res.statusCode ?? 0, headers: res.headers, body });
    } finally {
      this.bufferedBytes -= held.bytes;
      done();
    }
  }

  /** A request whose deadline covers only the wait for the response headers (streams). */
  private async openStream(method: string, path: string, opts: CallOpts): Promise<{ res: IncomingMessage; done: () => void }> {
    const version = await this.negotiate(opts.signal);
    const full = `/v${version}${path}`;
    const { res, done, state } = await this.open(method, full, opts, opts.timeoutMs ?? this.callTimeoutMs);
    state.clearDeadline();
    if ((res.statusCode ?? 0) >= 300) {
      const held = { bytes: 0 };
      try {
        const body = await this.readBody(res, `${method} ${path}`, state, { bytes: this.maxBodyBytes, of: 'an error reply' }, held);
        this.expectOk(`${method} ${path}`, { status: res.statusCode ?? 0, headers: res.headers, body });
      } finally {
        this.bufferedBytes -= held.bytes;
        done();
      }
    }
    return { res, done };
  }

  /**
   * Send a request and wait for the response headers. The returned `state` tells later failures
   * apart (deadline vs abort vs transport); `done` releases the timer and the abort listener.
   */
  private open(method: string, path: string, opts: CallOpts, timeoutMs: number, attempt = 0): Promise<{ res: IncomingMessage; done: () => void; state: CallState }> {
    const signal = opts.signal;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const what = `${method} ${path.replace(/^\/v[\d.]+/, '')}`;
    const fullPath = pathWithQuery(`${this.endpoint.kind === 'tcp' ? this.endpoint.basePath : ''}${path}`, opts.query);
    this.calls++;
    return new Promise((resolve, reject) => {
      const ep = this.endpoint;
      const payload = opts.json === undefined ? undefined : Buffer.from(JSON.stringify(opts.json));
      const headers: Record<string, string | number> = { Accept: 'application/json' };
      if (payload) {
        headers['Content-Type'] = 'application/json';
        headers['Content-Length'] = payload.length;
      }
      const options: https.RequestOptions = { method, path: fullPath, agent: this.agent, headers };
      if (ep.kind === 'unix') {
        options.socketPath = ep.socketPath;
      } else if (ep.kind === 'tcp') {
        options.host = ep.host;
        options.port = ep.port;
        if (ep.tls) {
          options.ca = ep.tls.ca;
          if (ep.tls.cert && ep.tls.key) {
            options.cert = ep.tls.cert;
            options.key = ep.tls.key;
          }
          if (isIP(ep.host) === 0) options.servername = ep.host;
        }
      } else {
        // The host is decided by the ssh process; the name only keys the agent's pool.
        options.host = 'localhost';
      }
      const req = this.transport.request(options);
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const state: CallState = {
        abortError: () => abortReason(signal!),
        clearDeadline: () => {
          if (timer) clearTimeout(timer);
          timer = undefined;
        },
      };
      const onAbort = (): void => {
        state.reason ??= 'abort';
        // The deadline timer goes too: a pending 25 s restart deadline would otherwise keep a
        // shutting-down process alive.
        done();
        req.destroy();
        state.res?.destroy();
        if (!settled) {
          settled = true;
          reject(abortReason(signal!));
        }
      };
      const done = (): void => {
        state.clearDeadline();
        signal?.removeEventListener('abort', onAbort);
      };
      timer = setTimeout(() => {
        state.reason ??= 'timeout';
        req.destroy();
        if (!settled) {
          settled = true;
          done();
          reject(new RepairmanError('RM_ENGINE_TIMEOUT', `${what}: the engine at ${ep.display} did not answer within ${timeoutMs} ms`, { details: { timeoutMs } }));
        }
      }, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('response', (res) => {
        if (settled) {
          res.destroy();
          return;
        }
        settled = true;
        state.res = res;
        resolve({ res, done, state });
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (settled) return;
        settled = true;
        done();
        // A kept-alive connection the engine (or a proxy) closed just as we reused it: the request
        // never arrived. Reading again is harmless; a POST is not retried (it might have arrived).
        if (attempt === 0 && method === 'GET' && req.reusedSocket && !state.reason && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) {
          this.log.debug('a reused engine connection was closed; retrying once on a new one', { call: what });
          resolve(this.open(method, path, opts, timeoutMs, 1));
          return;
        }
        if (state.reason === 'abort') reject(abortReason(signal!));
        else reject(this.transportError(what, err));
      });
      req.end(payload);
    });
  }

  /**
   * A 2xx body handed to `parser` chunk by chunk (nothing buffered); its refusal closes the connection
   * and becomes RM_ENGINE_BAD_REPLY. Resolves with an empty body once the parser has taken the end.
   */
  private consumeBody(res: IncomingMessage, what: string, state: CallState, parser: ListingParser): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      let finished = false;
      const finish = (err?: unknown): void => {
        if (finished) return;
        finished = true;
        if (err === undefined) resolve(EMPTY);
        else {
          reject(err);
          res.destroy();
        }
      };
      const refused = (err: unknown): void => {
        if (err instanceof ListingTooLargeError) {
          finish(new RepairmanError('RM_ENGINE_BAD_REPLY', `${what}: ${err.message}; refusing to read more: is a proxy, or something other than dockerd, answering at ${this.endpoint.display}?`, {
            cause: err, details: { recordLimitBytes: this.maxListRecordBytes, recordsLimit: this.maxListRecords },
          }));
        } else if (err instanceof JsonSyntaxError) {
          finish(new RepairmanError('RM_ENGINE_BAD_REPLY', `${what}: the engine's reply is not JSON (${err.message})`, { cause: err }));
        } else if (err instanceof ShapeError) {
          finish(new RepairmanError('RM_ENGINE_BAD_REPLY', `${what}: unexpected reply: ${err.message}`, { cause: err }));
        } else finish(err);
      };
      res.on('error', (err) => this.failedRead(what, state, finish, err));
      res.on('close', () => {
        if (!res.complete) this.failedRead(what, state, finish);
      });
      res.on('data', (chunk: Buffer) => {
        if (finished) return;
        try {
          parser.write(chunk);
        } catch (err) {
          refused(err);
        }
      });
      res.on('end', () => {
        if (finished) return;
        try {
          parser.end();
          finish();
        } catch (err) {
          refused(err);
        }
      });
    });
  }

  /**
   * The body of a reply, refused (RM_ENGINE_BAD_REPLY, the connection closed) when it is larger than
   * `cap` (at once when its Content-Length says so) or would take the replies being read at once past
   * maxBufferedBytes. The bytes taken from that budget are added to `held`; the caller gives them back.
   */
  private readBody(res: IncomingMessage, what: string, state: CallState, cap: { bytes: number; of: string }, held: { bytes: number }): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      let finished = false;
      const finish = (err?: unknown, body?: Buffer): void => {
        if (finished) return;
        finished = true;
        if (err !== undefined) reject(err);
        else resolve(body!);
      };
      const failed = (err?: unknown): void => this.failedRead(what, state, finish, err);
      res.on('error', failed);
      res.on('close', () => {
        if (!res.complete) failed();
      });
      // A reply too big for its call suggests something other than dockerd; a full shared budget
      // only means too much at once (a very large host), which the next re-check tries again.
      const refuse = (why: string, suspect = true): void => {
        const hint = suspect ? `: is a proxy, or something other than dockerd, answering at ${this.endpoint.display}?` : '';
        finish(new RepairmanError('RM_ENGINE_BAD_REPLY', `${what}: ${why}${hint}`, {
          details: { limitBytes: cap.bytes, bufferLimitBytes: this.maxBufferedBytes },
        }));
        res.destroy();
      };
      const take = (n: number): boolean => {
        if (this.bufferedBytes + n > this.maxBufferedBytes) {
          refuse(`the replies being read at once would take more than ${formatBytes(this.maxBufferedBytes)}; refusing to buffer this one (tried again at the next re-check)`, false);
          return false;
        }
        this.bufferedBytes += n;
        held.bytes += n;
        return true;
      };
      const status = res.statusCode ?? 0;
      const header = res.headers['content-length'];
      const length = status !== 204 && status !== 304 && header !== undefined && /^\d+$/.test(header) ? Number(header) : undefined;
      if (length !== undefined && length > cap.bytes) {
        refuse(`the engine announced a reply of ${formatBytes(length)}, more than the ${formatBytes(cap.bytes)} accepted for ${cap.of}; refusing to read it`);
        return;
      }
      // A known length is read straight into one buffer: no list of chunks to copy again at the end.
      let whole: Buffer | undefined;
      if (length !== undefined) {
        if (!take(length)) return;
        whole = Buffer.allocUnsafe(length);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (finished) return;
        if (whole) {
          // Node's parser never delivers more than the Content-Length; checked all the same.
          if (size + chunk.length > whole.length) return refuse(`the engine sent more than the ${formatBytes(whole.length)} it announced`);
          chunk.copy(whole, size);
          size += chunk.length;
          return;
        }
        if (size + chunk.length > cap.bytes) {
          return refuse(`the reply is larger than ${formatBytes(cap.bytes)}, the most accepted for ${cap.of}; refusing to buffer it`);
        }
        if (!take(chunk.length)) return;
        chunks.push(chunk);
        size += chunk.length;
      });
      res.on('end', () => {
        if (whole) return finish(undefined, size === whole.length ? whole : whole.subarray(0, size));
        const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
        chunks.length = 0;
        finish(undefined, body);
      });
    });
  }

  private expectOk(what: string, reply: Reply, alsoFine: number[] = []): void {
    const { status } = reply;
    if ((status >= 200 && status < 300) || alsoFine.includes(status)) return;
    const msg = engineMessage(reply.body);
    if (status === 400 && /HTTP request to an HTTPS server/i.test(msg)) {
      throw new RepairmanError('RM_ENGINE_TLS', `${what}: the engine at ${this.endpoint.display} expects TLS: set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH to a folder with ca.pem, cert.pem and key.pem`, { details: { status, engineMessage: msg } });
    }
    let code: ErrorCode = 'RM_ENGINE_ERROR';
    if (status === 404) code = 'RM_ENGINE_NOT_FOUND';
    else if (status === 409) code = 'RM_ENGINE_CONFLICT';
    throw new RepairmanError(code, `${what}: engine answered ${status}${msg ? `: ${msg}` : ''}`, { details: { status, engineMessage: msg } });
  }

  private shaped<T>(what: string, reply: Reply, parse: (v: unknown) => T): T {
    const text = reply.body.toString('utf8');
    reply.body = EMPTY;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new RepairmanError('RM_ENGINE_BAD_REPLY', `${what}: the engine's reply is not JSON (${JSON.stringify(text.slice(0, 80))})`);
    }
    try {
      return parse(json);
    } catch (err) {
      if (err instanceof ShapeError) throw new RepairmanError('RM_ENGINE_BAD_REPLY', `${what}: unexpected reply: ${err.message}`, { cause: err });
      throw err;
    }
  }

  /** A reply that stopped coming: the deadline, the caller's abort, or the connection. */
  private failedRead(what: string, state: CallState, finish: (err: unknown) => void, err?: unknown): void {
    if (state.reason === 'timeout') {
      finish(new RepairmanError('RM_ENGINE_TIMEOUT', `${what}: the engine at ${this.endpoint.display} did not finish its reply in time`));
    } else if (state.reason === 'abort') {
      finish(state.abortError());
    } else {
      finish(this.transportError(what, err ?? Object.assign(new Error('the connection closed in the middle of the reply'), { code: 'ECONNRESET' })));
    }
  }

  /** A socket/TLS/ssh failure as a RepairmanError with a message a person can act on. */
  private transportError(what: string, err: unknown): RepairmanError {
    if (err instanceof RepairmanError) return err;
    const e = err as NodeJS.ErrnoException & { reason?: string };
    const code = typeof e?.code === 'string' ? e.code : '';
    const raw = e instanceof Error ? e.message : String(err);
    const ep = this.endpoint;
    const tls = ep.kind === 'tcp' ? ep.tls : undefined;
    const details = { code, endpoint: ep.display };
    if (tls && (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || TLS_VERIFY_CODES.has(code) || /ssl|tls|certificate/i.test(raw))) {
      let why: string;
      if (/alert (bad certificate|certificate required|unknown ca|certificate unknown|handshake failure)/i.test(raw) || /ALERT_(BAD_CERTIFICATE|CERTIFICATE_REQUIRED|UNKNOWN_CA|CERTIFICATE_UNKNOWN)/.test(code)) {
        why = tls.cert
          ? `the engine rejected the client certificate (cert.pem in ${tls.certPath}); it must be signed by a CA the engine trusts`
          : `the engine requires a client certificate, and ${tls.certPath} has no cert.pem and key.pem`;
      } else if (TLS_VERIFY_CODES.has(code) || /certificate|verify/i.test(raw)) {
        why = `the engine's certificate could not be verified with ${tls.certPath}/ca.pem (${raw})`;
      } else {
        why = raw;
      }
      return new RepairmanError('RM_ENGINE_TLS', `${what}: TLS with the engine at ${ep.display} failed: ${why}`, { cause: err, details });
    }
    if (UNREACHABLE_CODES.has(code) || /socket hang up|ECONNRESET|closed/i.test(raw)) {
      let hint = '';
      if (code === 'ENOENT' && ep.kind === 'unix') hint = ': the socket does not exist (is dockerd running? is the socket mounted into this container?)';
      else if (code === 'ENOENT') hint = `: ${raw}`;
      else if (code === 'EACCES' || code === 'EPERM') hint = ': permission denied on the socket (run as root or a member of the docker group)';
      else if (code === 'ECONNREFUSED') hint = ': connection refused (is dockerd listening there?)';
      else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') hint = `: host name not found (${raw})`;
      else hint = `: ${raw}`;
      if (tls && (code === 'ECONNRESET' || /socket hang up/i.test(raw))) hint += ' (with TLS this often means the engine rejected the client certificate)';
      return new RepairmanError('RM_ENGINE_UNREACHABLE', `${what}: cannot reach the Docker engine at ${ep.display}${hint}`, { cause: err, details });
    }
    if (code.startsWith('HPE_')) {
      return new RepairmanError('RM_ENGINE_BAD_REPLY', `${what}: the engine at ${ep.display} did not answer with valid HTTP (${raw})`, { cause: err, details });
    }
    return new RepairmanError('RM_ENGINE_UNREACHABLE', `${what}: cannot talk to the Docker engine at ${ep.display}: ${raw}`, { cause: err, details });
  }
}

/**
 * A client for the engine named by env (DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH).
 * Throws RM_CONFIG_INVALID / RM_ENGINE_TLS for unusable settings; talks to nobody until the first call.
 */
export function createDockerClient(env: NodeJS.ProcessEnv, opts: DockerClientOptions = {}): DockerClient {
  return new DockerClient(resolveEndpoint(env), opts);
}

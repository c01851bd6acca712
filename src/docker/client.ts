// The Docker Engine API client: node:http / node:https over a unix socket, tcp (optionally TLS) or
// ssh (docker system dial-stdio), with keep-alive connections. No dockerode: its import alone costs
// too much of the container's 80 MB cap (BENCHMARKS.md, "Figures behind the code").
//
// Every call but the event stream has a deadline (restart/stop: the stop timeout plus a margin) and
// accepts an AbortSignal; an aborted call rejects with the signal's reason (an AbortError by
// default), never with a RepairmanError, because aborting is the caller's decision, not an engine
// failure. Failures are RepairmanErrors with the RM_ENGINE_* codes of src/errors.ts.
import type { IncomingMessage } from 'node:http';
import { isRepairmanError, RepairmanError } from '../errors.js';
import { logsFromMultiplexed, logsFromRaw, MultiplexError } from './demux.js';
import { resolveEndpoint } from './endpoint.js';
import { JsonLineSplitter, tryParseJson } from './json-lines.js';
import { ListingParser } from './listing.js';
import { dockerInspect, dockerState, engineKindFromPing, podmanEventFilters, podmanListFilters } from './podman.js';
import { PodmanEventFeed } from './podman-events.js';
import { parseEvent, parseInspect, parseVersion } from './shape.js';
import type { ContainerInspect, ContainerRecreator, ContainerSummary, DockerEvent, EngineApi, EngineVersion, Filters, LogsResult } from './types.js';
import { STOP_MARGIN_MS, ENGINE_DEFAULT_STOP_TIMEOUT_SEC, type DockerClientOptions, type Query, containerPath, checkStopTimeout, sinceUntil } from './engine-call.js';
import { EngineConnection } from './connection.js';

export { DEFAULT_CALL_TIMEOUT_MS, FULL_LISTING_TIMEOUT_MS, STOP_MARGIN_MS, ENGINE_DEFAULT_STOP_TIMEOUT_SEC, DEFAULT_MAX_LIST_RECORD_BYTES, DEFAULT_MAX_LIST_RECORDS, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_BUFFERED_BYTES, type DockerClientOptions } from './engine-call.js';

export class DockerClient extends EngineConnection implements EngineApi, ContainerRecreator {
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
  async listContainers(opts: { all?: boolean; filters?: Filters; signal?: AbortSignal; timeoutMs?: number } = {}): Promise<ContainerSummary[]> {
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
    const list = await this.call('GET', '/containers/json', { query, signal: opts.signal, consume, ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }) }, (reply) => {
      this.expectOk('GET /containers/json', reply);
      return out;
    });
    if (this.engineKind_ === 'podman') {
      for (const c of list) {
        c.State = dockerState(c.State);
        c.HealthUnknown = true;
      }
    }
    return list;
  }

  async inspect(id: string, opts: { signal?: AbortSignal } = {}): Promise<ContainerInspect> {
    const path = containerPath(id, '/json');
    const cap = { bytes: this.maxBodyBytes, of: 'an inspect (usually 10-30 KB)' };
    const info = await this.call('GET', path, { signal: opts.signal, cap }, (reply) => {
      this.expectOk(`GET ${path}`, reply);
      return this.shaped(`GET ${path}`, reply, parseInspect);
    });
    if (this.engineKind_ === 'podman') dockerInspect(info);
    // Podman's --health-on-failure is only in its own inspect; read it when it can matter.
    if (this.engineKind_ === 'podman' && info.State.Health?.Status === 'unhealthy') {
      // A socket proxy without a /libpod rule (tecnativa's) refuses it: reported (the refusal), and
      // the container is still healed as on Docker rather than not at all.
      const action = await this.podmanHealthOnFailure(info.Id, opts.signal).catch((err: unknown) => {
        if (isRepairmanError(err, 'RM_ENGINE_REFUSED')) return undefined;
        throw err;
      });
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

  /** Kill with the engine's default signal (SIGKILL). */
  async kill(id: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    const path = containerPath(id, '/kill');
    await this.call('POST', path, { signal: opts.signal }, (reply) => this.expectOk(`POST ${path}`, reply));
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
  events(opts: { filters?: Filters; since?: number | string | Date; until?: number | string | Date; signal?: AbortSignal; onOpen?: () => void } = {}): AsyncIterable<DockerEvent> {
    return this.eventStream(opts);
  }

  private async *eventStream(opts: { filters?: Filters; since?: number | string | Date; until?: number | string | Date; signal?: AbortSignal; onOpen?: () => void }): AsyncGenerator<DockerEvent> {
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
    opts.onOpen?.();
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

}

/**
 * A client for the engine named by env (DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH).
 * Throws RM_CONFIG_INVALID / RM_ENGINE_TLS for unusable settings; talks to nobody until the first call.
 */
export function createDockerClient(env: NodeJS.ProcessEnv, opts: DockerClientOptions = {}): DockerClient {
  return new DockerClient(resolveEndpoint(env), opts);
}

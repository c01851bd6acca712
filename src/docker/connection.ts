// The connection to one engine under DockerClient: transport (unix, tcp+TLS, ssh), keep-alive agent,
// API version negotiation, deadlines, reply caps and the errors people read. DockerClient (client.ts)
// adds the calls themselves.
import http from 'node:http';
import type https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { RepairmanError, type ErrorCode } from '../errors.js';
import { loadHttps } from '../http-client/client.js';
import { silentLogger, type Logger } from '../log.js';
import { sshArgs, type Endpoint } from './endpoint.js';
import { CLIENT_MAX_API_VERSION, negotiateApiVersion } from './negotiate.js';
import { JsonSyntaxError } from './json-stream.js';
import { ListingParser, ListingTooLargeError } from './listing.js';
import { engineKindFromPing, engineKindFromVersion, type EngineKind } from './podman.js';
import { callKindOf, refusedCallError, type RefusedCalls } from './refusals.js';
import { ShapeError } from './shape.js';
import { createSshConnection } from './ssh-connection.js';
import type { EngineVersion } from './types.js';
import { formatBytes } from '../util/format-bytes.js';
import { DEFAULT_CALL_TIMEOUT_MS, DEFAULT_MAX_LIST_RECORD_BYTES, DEFAULT_MAX_LIST_RECORDS, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_BUFFERED_BYTES, type DockerClientOptions, type CallOpts, type CallState, type Reply, TOO_NEW, EMPTY, engineTransportError, abortReason, pathWithQuery, engineMessage } from './engine-call.js';

export abstract class EngineConnection {
  readonly endpoint: Endpoint;
  protected readonly agent: http.Agent;
  protected readonly transport: { request: typeof http.request };
  protected readonly callTimeoutMs: number;
  protected readonly maxBodyBytes: number;
  protected readonly maxListRecordBytes: number;
  protected readonly maxListRecords: number;
  protected readonly extraLabels: readonly string[];
  protected readonly maxBufferedBytes: number;
  /** Bytes of the replies being read or parsed right now (against maxBufferedBytes). */
  protected bufferedBytes = 0;
  protected readonly clientMaxApiVersion: string;
  protected readonly log: Logger;
  protected calls = 0;
  protected version_: string | undefined;
  protected negotiating: Promise<string> | undefined;
  protected engineApiVersion_: string | undefined;
  protected engineKind_: EngineKind | undefined;
  /** Event lines that were not JSON or not an event (skipped). */
  badEventLines = 0;
  /** Where calls answered 403 are reported, and the calls that go through again. */
  protected readonly refusals: RefusedCalls | undefined;

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
    this.refusals = opts.refusals;
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

  /** GET /version: negotiation falls back to it when /_ping gives no API version. */
  abstract version(opts?: { signal?: AbortSignal }): Promise<EngineVersion>;

  protected adoptVersion(engineMax: unknown): string {
    const n = negotiateApiVersion(typeof engineMax === 'string' ? engineMax : undefined, this.clientMaxApiVersion);
    if (!n.ok) {
      throw new RepairmanError(n.tooOld ? 'RM_ENGINE_ERROR' : 'RM_ENGINE_BAD_REPLY', `cannot agree on an API version with the engine at ${this.endpoint.display}: ${n.reason}`);
    }
    this.engineApiVersion_ = typeof engineMax === 'string' ? engineMax.trim() : undefined;
    this.version_ = n.version;
    this.log.debug('negotiated the engine API version', { engine: this.engineApiVersion_, using: n.version });
    return n.version;
  }

  protected tryAdoptVersion(engineMax: unknown): void {
    try {
      this.adoptVersion(engineMax);
    } catch {
      // negotiate() will fetch and report it.
    }
  }

  /** The negotiated version; the first call pings (and falls back to /version without the header). */
  protected negotiate(signal: AbortSignal | undefined): Promise<string> {
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
  protected async call<T>(method: string, path: string, opts: CallOpts, use: (reply: Reply) => T): Promise<T> {
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
  protected async request<T>(method: string, path: string, opts: CallOpts, use: (reply: Reply) => T): Promise<T> {
    const what = `${method} ${path.replace(/^\/v[\d.]+/, '')}`;
    const timeoutMs = opts.timeoutMs ?? this.callTimeoutMs;
    const { res, done, state } = await this.open(method, path, opts, timeoutMs);
    const held = { bytes: 0 };
    try {
      const status = res.statusCode ?? 0;
      // Any answer but 403 means the call got through (a proxy lets it pass again).
      if (status !== 403 && this.refusals?.size) this.refusals.allowed(callKindOf(method, path));
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
  protected async openStream(method: string, path: string, opts: CallOpts): Promise<{ res: IncomingMessage; done: () => void }> {
    const version = await this.negotiate(opts.signal);
    const full = `/v${version}${path}`;
    const { res, done, state } = await this.open(method, full, opts, opts.timeoutMs ?? this.callTimeoutMs);
    state.clearDeadline();
    if (res.statusCode !== 403 && this.refusals?.size) this.refusals.allowed(callKindOf(method, path));
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
  protected open(method: string, path: string, opts: CallOpts, timeoutMs: number, attempt = 0): Promise<{ res: IncomingMessage; done: () => void; state: CallState }> {
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
  protected consumeBody(res: IncomingMessage, what: string, state: CallState, parser: ListingParser): Promise<Buffer> {
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
  protected readBody(res: IncomingMessage, what: string, state: CallState, cap: { bytes: number; of: string }, held: { bytes: number }): Promise<Buffer> {
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

  protected expectOk(what: string, reply: Reply, alsoFine: number[] = []): void {
    const { status } = reply;
    if ((status >= 200 && status < 300) || alsoFine.includes(status)) return;
    const msg = engineMessage(reply.body);
    if (status === 400 && /HTTP request to an HTTPS server/i.test(msg)) {
      throw new RepairmanError('RM_ENGINE_TLS', `${what}: the engine at ${this.endpoint.display} expects TLS: set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH to a folder with ca.pem, cert.pem and key.pem`, { details: { status, engineMessage: msg } });
    }
    if (status === 403) {
      const err = refusedCallError(what, this.endpoint.display, msg);
      this.refusals?.refused(err);
      throw err;
    }
    let code: ErrorCode = 'RM_ENGINE_ERROR';
    if (status === 404) code = 'RM_ENGINE_NOT_FOUND';
    else if (status === 409) code = 'RM_ENGINE_CONFLICT';
    throw new RepairmanError(code, `${what}: engine answered ${status}${msg ? `: ${msg}` : ''}`, { details: { status, engineMessage: msg } });
  }

  protected shaped<T>(what: string, reply: Reply, parse: (v: unknown) => T): T {
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
  protected failedRead(what: string, state: CallState, finish: (err: unknown) => void, err?: unknown): void {
    if (state.reason === 'timeout') {
      finish(new RepairmanError('RM_ENGINE_TIMEOUT', `${what}: the engine at ${this.endpoint.display} did not finish its reply in time`));
    } else if (state.reason === 'abort') {
      finish(state.abortError());
    } else {
      finish(this.transportError(what, err ?? Object.assign(new Error('the connection closed in the middle of the reply'), { code: 'ECONNRESET' })));
    }
  }

  /** A socket/TLS/ssh failure as a RepairmanError with a message a person can act on. */
  protected transportError(what: string, err: unknown): RepairmanError {
    return engineTransportError(this.endpoint, what, err);
  }
}

// Repairman's HTTP server (docs/behaviour.md §6) on node:http, read-only: the original JSON report, liveness,
// Prometheus metrics, a JSON API and the status page, all under a literal path prefix.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../log.js';
import type { StateView } from '../state/types.js';
import { errorMessage, type ErrorCode } from '../errors.js';
import { maskUrlsInText } from '../util/mask.js';
import { knownTimeZone, resolveTimeZone } from '../util/time-format.js';
import { instanceRootUrl } from './address.js';
import { HttpMetrics, type RouteLabel } from './http-metrics.js';
import {
  buildContainersPayload, buildEventsPayload, buildReport, containersPayloadChunks, EVENTS_LIMIT, redact, REPORT_LIMIT, sortedJson,
} from './payloads.js';
import { normalizePrefix, relativeBase, routeInPrefix } from './prefix.js';
import { intParam, parseTarget, QueryError, single, type ParsedTarget } from './request-url.js';

/** Longest request target served; longer ones get 414 (Node itself refuses heads over 16 KiB). */
export const MAX_URL_LENGTH = 4096;
export const REQUEST_TIMEOUT_MS = 15_000;
export const HEADERS_TIMEOUT_MS = 10_000;
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** After close(), requests in flight get this long before their connections are cut. */
export const CLOSE_GRACE_MS = 1_000;
/** Connections kept at once; one more makes the oldest one that is not being answered go (below). */
const MAX_CONNECTIONS = 256;
const TOKEN_COOKIE = 'repairman_token';

export interface HttpServerOptions {
  address: string;
  port: number;
  prefix: string;
  state: StateView;
  log: Logger;
  signal?: AbortSignal;
  /** The clock (tests); Date.now by default. */
  now?: () => number;
  /** IANA zone for times shown on the page; env TZ, else the system's. */
  timeZone?: string;
  /** Bearer token every route but /healthz needs (--http-token-file); none when undefined. */
  token?: string;
  /** Host names answered besides the bound address, IP addresses and localhost (--http-hosts). */
  hosts?: readonly string[];
  /** Override the timeouts (tests use short ones). */
  timeouts?: Partial<{ requestMs: number; headersMs: number; keepAliveMs: number }>;
}

export interface RunningHttpServer {
  port: number;
  /** The root URL, e.g. http://127.0.0.1:8080/prefix/ (0.0.0.0 shown as 127.0.0.1). */
  url: string;
  close(): Promise<void>;
}

// The status page (its view code, CSS, client script and node:crypto for the nonce) is loaded by
// the first request for it; most instances only ever answer /healthz and /metrics.
type PageModule = typeof import('./page.js');
let pageModule: Promise<PageModule> | undefined;
const loadPage = (): Promise<PageModule> => (pageModule ??= import('./page.js'));

const ALLOW = 'GET, HEAD';
const JSON_TYPE = 'application/json; charset=utf-8';
const METRICS_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
const JSON_CSP = "default-src 'none'; frame-ancestors 'none'";

type RouteName = '/' | '/healthz' | '/metrics' | '/api/containers' | '/api/events' | '/api/explain';
const ROUTES: ReadonlySet<string> = new Set<RouteName>(['/', '/healthz', '/metrics', '/api/containers', '/api/events', '/api/explain']);

interface Reply {
  status: number;
  type: string;
  /** Pieces are written as the client takes them (a large reply is never one string). */
  body: string | Iterable<string>;
  headers?: Record<string, string>;
}

function jsonReply(status: number, value: unknown, headers?: Record<string, string>): Reply {
  const r: Reply = { status, type: JSON_TYPE, body: `${sortedJson(value)}\n` };
  if (headers) r.headers = headers;
  return r;
}

function errorReply(status: number, code: ErrorCode, message: string, headers?: Record<string, string>): Reply {
  return jsonReply(status, { error: { code, message } }, headers);
}

/**
 * A browser gets the page: the Accept header names text/html, and does not rank application/json
 * as high (a script sending "application/json, text/html;q=0.5" still gets JSON; so does * / *).
 */
export function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  let html = -1;
  let json = -1;
  for (const part of accept.toLowerCase().split(',')) {
    const [type = '', ...params] = part.split(';').map((x) => x.trim());
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (!Number.isFinite(q)) continue;
    if (type === 'text/html') html = Math.max(html, q);
    else if (type === 'application/json') json = Math.max(json, q);
  }
  return html > 0 && html > json;
}

/** The host name of a Host header, without its port or brackets, lower case ('' when absent). */
function hostName(header: string | undefined): string {
  const h = (header ?? '').trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') === -1 ? undefined : h.indexOf(']'));
  const colon = h.indexOf(':');
  return colon === -1 ? h : h.slice(0, colon);
}

/**
 * DNS rebinding: a page on evil.example whose name is made to resolve to 127.0.0.1 is same-origin with
 * this server in the browser, but its requests say `Host: evil.example`. IP addresses cannot be
 * rebound, so they pass (the image listens on 0.0.0.0 and is reached by whatever address); names must
 * be localhost, the bound address or one listed in --http-hosts. No Host at all is HTTP/1.0: no browser.
 */
export function hostAllowed(header: string | undefined, address: string, hosts: readonly string[]): boolean {
  const name = hostName(header);
  if (name === '' || isIP(name) !== 0) return true;
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  return name === address.toLowerCase() || hosts.includes(name);
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

export async function startHttpServer(opts: HttpServerOptions): Promise<RunningHttpServer> {
  const { state, log } = opts;
  const prefix = normalizePrefix(opts.prefix);
  const now = opts.now ?? Date.now;
  // A zone Intl does not know (TZ=garbage, POSIX forms) means UTC (src/util/time-format.ts). Resolved on
  // the first request that shows times: the first Intl call maps ICU's zone and locale data into RSS,
  // which an instance nobody looks at never needs.
  let resolvedZone: string | undefined;
  const zone = (): string => (resolvedZone ??= resolveTimeZone(opts.timeZone ?? process.env.TZ));
  const metrics = new HttpMetrics(state.metrics, state.version);
  let closing: Promise<void> | null = null;
  const hosts = (opts.hosts ?? []).map((h) => h.toLowerCase());
  // Compared as digests in constant time: the time an answer takes says nothing about the token.
  const tokenDigest = opts.token ? digest(opts.token) : undefined;
  const tokenMatches = (candidate: string | undefined): boolean =>
    tokenDigest !== undefined && candidate !== undefined && candidate !== '' && timingSafeEqual(digest(candidate), tokenDigest);
  const cookiePath = prefix === '' ? '/' : `${prefix}/`;

  /** Null when the request may go on; otherwise the answer (401, or 303 storing ?token= in a cookie). */
  function access(req: IncomingMessage, target: ParsedTarget, sub: string | null): Reply | null {
    if (!tokenDigest || sub === '/healthz') return null;
    const auth = req.headers.authorization ?? '';
    const bearer = /^Bearer\s+(.+)$/i.exec(auth)?.[1]?.trim();
    if (tokenMatches(bearer) || tokenMatches(cookieValue(req.headers.cookie, TOKEN_COOKIE))) return null;
    const given = sub === '/' ? single(target.query, 'token') : undefined;
    if (given !== undefined && tokenMatches(given)) {
      // Once: the token goes into a cookie the page's scripts cannot read, sent to this server only,
      // and the address bar (history, bookmarks, Referer) loses it.
      return {
        status: 303,
        type: JSON_TYPE,
        body: `${sortedJson({ status: 'see other' })}\n`,
        headers: {
          Location: './',
          'Set-Cookie': `${TOKEN_COOKIE}=${encodeURIComponent(given)}; Path=${cookiePath}; HttpOnly; SameSite=Strict`,
        },
      };
    }
    return errorReply(401, 'RM_HTTP_UNAUTHORIZED', 'a bearer token is needed: Authorization: Bearer <the token in --http-token-file> (the status page takes it once as ?token=)', {
      'WWW-Authenticate': 'Bearer realm="repairman"',
    });
  }

  function pageReply(page: PageModule, target: ParsedTarget, limit: number): Reply {
    const report = buildReport(state, limit, now());
    // The page keeps the report's status code: monitors read the status line whatever they accept.
    const status = report.global_status ? 200 : 500;
    const nonce = page.newNonce();
    const body = page.renderPage({
      data: buildContainersPayload(state, now(), zone()),
      events: buildEventsPayload(state, { limit }),
      base: relativeBase(target.rawPath),
      limit,
      nonce,
    });
    return { status, type: 'text/html; charset=utf-8', body, headers: { 'Content-Security-Policy': page.pageCsp(nonce), Vary: 'Accept' } };
  }

  function handle(req: IncomingMessage, target: ParsedTarget, route: RouteName): Reply | Promise<Reply> {
    const nowMs = now();
    switch (route) {
      case '/': {
        const limit = intParam(target.query, 'limit', REPORT_LIMIT) ?? REPORT_LIMIT.def;
        if (prefersHtml(req.headers.accept)) return loadPage().then((page) => pageReply(page, target, limit));
        const report = buildReport(state, limit, nowMs);
        return jsonReply(report.global_status ? 200 : 500, report, { Vary: 'Accept' });
      }
      case '/healthz': {
        const h = state.health(nowMs);
        // Degraded is still 200: a restart of Repairman would not fix a journal or a proxy, and a 503
        // would make the image's HEALTHCHECK restart it in a loop.
        const degraded = h.degraded.map((d) => maskUrlsInText(d));
        if (!h.ok) return jsonReply(503, { status: 'unavailable', reason: maskUrlsInText(h.reason), ...(degraded.length ? { degraded } : {}) });
        return jsonReply(200, degraded.length ? { status: 'degraded', degraded } : { status: 'ok' });
      }
      case '/metrics': {
        metrics.sample(nowMs, state.startedAtMs);
        return { status: 200, type: METRICS_TYPE, body: state.metrics.render() };
      }
      case '/api/containers':
        return { status: 200, type: JSON_TYPE, body: containersPayloadChunks(state, nowMs, zone()) };
      case '/api/events': {
        const limit = intParam(target.query, 'limit', EVENTS_LIMIT) ?? EVENTS_LIMIT.def;
        const beforeNum = intParam(target.query, 'before', { min: 1, max: Number.MAX_SAFE_INTEGER });
        const container = single(target.query, 'container');
        if (container !== undefined && (container.length === 0 || container.length > 255)) {
          throw new QueryError('container', '"container" must be a container name of 1 to 255 characters');
        }
        const q: { limit: number; beforeNum?: number; container?: string } = { limit };
        if (beforeNum !== undefined) q.beforeNum = beforeNum;
        if (container !== undefined) q.container = container;
        return jsonReply(200, buildEventsPayload(state, q));
      }
      case '/api/explain':
        return explainReply(target, nowMs);
    }
  }

  /** `repairman explain NAME` asked of this instance: 200 with the explanation, 404 (with it) for an unknown name. */
  async function explainReply(target: ParsedTarget, nowMs: number): Promise<Reply> {
    const name = single(target.query, 'name');
    if (name === undefined || name.length === 0 || name.length > 255) throw new QueryError('name', '"name" must be a container name (or id) of 1 to 255 characters');
    const tz = single(target.query, 'tz');
    const timeZone = tz === undefined ? zone() : knownTimeZone(tz);
    if (timeZone === null) throw new QueryError('tz', '"tz" must be a time zone this server knows (e.g. Europe/Warsaw or UTC)');
    if (!state.explain) return errorReply(404, 'RM_HTTP_NOT_FOUND', 'this server cannot explain containers');
    let e;
    try {
      e = await state.explain(name, { nowMs, timeZone, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    } catch (err) {
      return errorReply(503, 'RM_STATE_UNAVAILABLE', `cannot ask the engine about ${JSON.stringify(name)}: ${maskUrlsInText(errorMessage(err))}`);
    }
    const body = redact(e);
    if (e.verdict === 'unknown') return jsonReply(404, { error: { code: 'RM_HTTP_NOT_FOUND', message: body.sentence }, explanation: body });
    return jsonReply(200, body);
  }

  function route(req: IncomingMessage): { reply: Reply | Promise<Reply>; label: RouteLabel } {
    const url = req.url ?? '';
    if (url.length > MAX_URL_LENGTH) {
      return { reply: errorReply(414, 'RM_HTTP_BAD_REQUEST', `the request target is longer than ${MAX_URL_LENGTH} characters`), label: 'invalid' };
    }
    if (!hostAllowed(req.headers.host, opts.address, hosts)) {
      return { reply: errorReply(403, 'RM_HTTP_FORBIDDEN_HOST', 'this Host is not served here; add the name to --http-hosts (HTTP_HOSTS) to allow it'), label: 'invalid' };
    }
    const parsed = parseTarget(url);
    if (!parsed.ok) return { reply: errorReply(400, 'RM_HTTP_BAD_REQUEST', parsed.message), label: 'invalid' };
    const sub = routeInPrefix(parsed.target.path, prefix);
    const denied = access(req, parsed.target, sub);
    if (denied) return { reply: denied, label: sub !== null && ROUTES.has(sub) ? (sub as RouteName) : 'unmatched' };
    if (sub === null || !ROUTES.has(sub)) {
      return { reply: errorReply(404, 'RM_HTTP_NOT_FOUND', 'no such page; see the status page at the prefix root'), label: 'unmatched' };
    }
    const name = sub as RouteName;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return {
        reply: errorReply(405, 'RM_HTTP_METHOD_NOT_ALLOWED', `${req.method ?? 'this method'} is not allowed here; Repairman's HTTP interface is read-only`, { Allow: ALLOW }),
        label: name,
      };
    }
    const failed = (err: unknown): Reply => {
      if (err instanceof QueryError) return errorReply(400, 'RM_HTTP_BAD_QUERY', err.message);
      log.error('http: failed to answer', { route: name, error: errorMessage(err) });
      return errorReply(500, 'RM_HTTP_INTERNAL', 'internal error; see the Repairman log');
    };
    try {
      const reply = handle(req, parsed.target, name);
      return { reply: reply instanceof Promise ? reply.catch(failed) : reply, label: name };
    } catch (err) {
      return { reply: failed(err), label: name };
    }
  }

  const requestMs = opts.timeouts?.requestMs ?? REQUEST_TIMEOUT_MS;
  const headersMs = Math.min(requestMs, opts.timeouts?.headersMs ?? HEADERS_TIMEOUT_MS);
  const serverOptions = {
    requestTimeout: requestMs,
    headersTimeout: headersMs,
    // How often Node looks for requests past those timeouts (default 30 s: too lax for a 10 s limit).
    connectionsCheckingInterval: Math.min(1000, headersMs),
  };
  function send(res: ServerResponse, req: IncomingMessage, reply: Reply, label: RouteLabel): void {
    res.statusCode = reply.status;
    res.setHeader('Content-Type', reply.type);
    if (typeof reply.body === 'string') res.setHeader('Content-Length', Buffer.byteLength(reply.body));
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Content-Security-Policy', JSON_CSP);
    for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v);
    if (closing) res.setHeader('Connection', 'close');
    res.on('finish', () => metrics.observe(label, reply.status));
    log.debug('http request', { method: req.method, route: label, status: reply.status });
    // Node drops the body of a HEAD response itself; the headers stay those of the GET.
    if (typeof reply.body === 'string') res.end(reply.body);
    else if (req.method === 'HEAD') res.end();
    else writePieces(res, reply.body[Symbol.iterator]());
  }

  /** Writes the pieces as the socket drains; a client gone stops it. */
  function writePieces(res: ServerResponse, pieces: Iterator<string>): void {
    const more = (): void => {
      try {
        for (let p = pieces.next(); !p.done; p = pieces.next()) {
          if (res.destroyed) return;
          if (!res.write(p.value)) {
            res.once('drain', more);
            return;
          }
        }
        res.end();
      } catch (err) {
        log.error('http reply failed', { error: errorMessage(err) });
        res.destroy();
      }
    };
    more();
  }

  const server = createServer(serverOptions, (req, res: ServerResponse) => {
    // Bodies are never read; let them flow away so keep-alive connections stay usable.
    req.resume();
    const { reply, label } = route(req);
    if (reply instanceof Promise) void reply.then((r) => send(res, req, r, label));
    else send(res, req, reply, label);
  });
  server.keepAliveTimeout = opts.timeouts?.keepAliveMs ?? KEEP_ALIVE_TIMEOUT_MS;
  // Many idle or slow clients (headers trickling in, byte by byte) must never stop /healthz from
  // answering: Node's maxConnections refuses the NEWEST connection, which is the probe. Instead a new
  // connection beyond the limit makes the OLDEST one that is not being answered go; a probe sends its
  // request at once and is answered long before it becomes the oldest.
  const open = new Set<Socket>();
  const answering = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.on('close', () => {
      open.delete(socket);
      answering.delete(socket);
    });
    if (open.size <= MAX_CONNECTIONS) return;
    for (const old of open) {
      if (old === socket || answering.has(old)) continue;
      old.destroy();
      break;
    }
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    answering.add(socket);
    res.on('close', () => answering.delete(socket));
  });
  server.maxHeadersCount = 100;

  // Requests Node's parser refuses (malformed, head too large, timed out) get a JSON answer too.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const body = `${sortedJson({ error: { code: 'RM_HTTP_BAD_REQUEST', message: STATUS_CODES[status] ?? 'Bad Request' } })}\n`;
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: ${JSON_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n${body}`,
    );
    metrics.observe('invalid', status);
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(new Error(`HTTP server cannot listen on ${opts.address}:${opts.port}: ${err.code ?? err.message}`, { cause: err }));
    };
    server.once('error', onError);
    server.listen({ host: opts.address, port: opts.port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => log.error('http server error', { error: errorMessage(err) }));

  const port = (server.address() as AddressInfo).port;
  const url = instanceRootUrl({ httpAddress: opts.address, httpPort: port, httpPrefix: prefix });
  log.debug('http server listening', { address: opts.address, port, prefix: prefix || '/' });

  const onAbort = (): void => void close();
  function close(): Promise<void> {
    closing ??= new Promise<void>((resolve) => {
      opts.signal?.removeEventListener('abort', onAbort);
      const grace = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
      grace.unref();
      server.close(() => {
        clearTimeout(grace);
        resolve();
      });
      server.closeIdleConnections();
    });
    return closing;
  }
  if (opts.signal) {
    if (opts.signal.aborted) void close();
    else opts.signal.addEventListener('abort', onAbort, { once: true });
  }
  return { port, url, close };
}


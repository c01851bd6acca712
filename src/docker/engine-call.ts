// What every Engine API call shares: its options, deadlines and caps, the error codes that mean
// "unreachable" or "bad certificate", and small helpers for paths and engine messages.
import http from 'node:http';
import type { IncomingMessage } from 'node:http';
import { type Logger } from '../log.js';
import { tryParseJson } from './json-lines.js';
import { ListingParser } from './listing.js';
import { RepairmanError } from '../errors.js';
import type { Endpoint } from './endpoint.js';
import type { RefusedCalls } from './refusals.js';

export const DEFAULT_CALL_TIMEOUT_MS = 10_000;
/**
 * The deadline of a listing of every container: dockerd sends nothing before the whole listing is
 * built, and 10,000 containers took over 10 s on a loaded 2-CPU machine (BENCHMARKS.md "Scale").
 */
export const FULL_LISTING_TIMEOUT_MS = 60_000;
/** restart/stop wait for the engine's own stop timeout; this is on top, for the kill and the start. */
export const STOP_MARGIN_MS = 15_000;
/** The engine's stop timeout when neither the call nor the container sets one. */
export const ENGINE_DEFAULT_STOP_TIMEOUT_SEC = 10;
export const MIB = 1024 * 1024;
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
  /** Told of every call answered 403 (a socket proxy) and of those that go through again. */
  refusals?: RefusedCalls;
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface CallOpts {
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
export interface CallState {
  reason?: 'timeout' | 'abort';
  res?: IncomingMessage;
  abortError: () => unknown;
  clearDeadline: () => void;
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Replaced by an empty buffer once decoded (shaped()), so parsing does not keep both. */
  body: Buffer;
}

/** call(): the engine no longer speaks the negotiated version. */
export const TOO_NEW: unique symbol = Symbol('too new');

export const EMPTY = Buffer.alloc(0);

/** 16 MB, 900 KB: sizes as people read them in errors. */
export const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED', 'ENOENT', 'EPIPE', 'ECONNRESET', 'ECONNABORTED', 'EACCES', 'EPERM', 'ENOTFOUND', 'EAI_AGAIN',
  'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ETIMEDOUT', 'ENOTSOCK', 'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_SOCKET_CLOSED',
]);

// OpenSSL's certificate verification failures, as Node reports them in err.code.
export const TLS_VERIFY_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'INVALID_CA', 'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'EPROTO',
]);

export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

export function pathWithQuery(path: string, query: Query | undefined): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === undefined) continue;
    params.set(k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

export function containerPath(id: string, suffix = ''): string {
  if (typeof id !== 'string' || id === '') throw new TypeError('a container id or name is required');
  return `/containers/${encodeURIComponent(id)}${suffix}`;
}

export function checkStopTimeout(value: number | undefined): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 0)) {
    throw new TypeError(`stopTimeoutSec must be a non-negative integer, got ${String(value)}`);
  }
}

/** The engine's own error text: {"message": "..."} or plain text, shortened. */
export function engineMessage(body: Buffer): string {
  const text = body.toString('utf8');
  const parsed = tryParseJson(text) as { message?: unknown } | undefined;
  const msg = parsed && typeof parsed.message === 'string' ? parsed.message : text.trim();
  return msg.length > 500 ? `${msg.slice(0, 500)}…` : msg;
}

export function sinceUntil(value: number | string | Date | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value instanceof Date) return (value.getTime() / 1000).toFixed(3);
  return String(value);
}

/** A socket/TLS/ssh failure as a RepairmanError with a message a person can act on. */
export function engineTransportError(ep: Endpoint, what: string, err: unknown): RepairmanError {
  if (err instanceof RepairmanError) return err;
  const e = err as NodeJS.ErrnoException & { reason?: string };
  const code = typeof e?.code === 'string' ? e.code : '';
  const raw = e instanceof Error ? e.message : String(err);
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

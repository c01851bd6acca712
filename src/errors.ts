// The one error catalogue. Every error Repairman raises carries a stable code from this table, so
// scripts and tests can match on codes while messages stay free to improve. README's error table is
// generated from ERROR_CATALOGUE (a test fails when they drift).

export const ERROR_CATALOGUE = {
  RM_CONFIG_INVALID: 'A setting from a switch or the environment has a value Repairman cannot use.',
  RM_CONFIG_CONFLICT: 'Two settings contradict each other (cross-check failed).',
  RM_USAGE: 'Unknown command, unknown switch or missing argument on the command line.',
  RM_LABEL_INVALID: 'A container label org.riotkit.repairman.* has a value that cannot be used (the global value is used).',
  RM_LABEL_UNKNOWN: 'A container carries an org.riotkit.repairman.* label that Repairman does not know.',
  RM_ENGINE_UNREACHABLE: 'The Docker engine could not be reached (socket missing, connection refused, TLS failure).',
  RM_ENGINE_TIMEOUT: 'The Docker engine did not answer within the call\'s timeout.',
  RM_ENGINE_NOT_FOUND: 'The engine answered 404: the container (or object) does not exist.',
  RM_ENGINE_CONFLICT: 'The engine answered 409: the container is in a state that forbids the call.',
  RM_ENGINE_REFUSED: 'The engine answered 403: a socket proxy in front of it (or an authorization plugin) does not allow the call; the message names the call and the proxy setting (or the plugin) that allows it.',
  RM_ENGINE_BAD_REPLY: 'The engine answered with something that is not the expected JSON or stream.',
  RM_ENGINE_ERROR: 'The engine answered with another error status (4xx/5xx).',
  RM_ENGINE_TLS: 'TLS settings (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH) are unusable or the handshake failed.',
  RM_HTTP_BAD_QUERY: 'An HTTP request had a bad query parameter.',
  RM_HTTP_BAD_REQUEST: 'An HTTP request was malformed: bad percent-encoding or UTF-8, a request target too long, a head Node refused.',
  RM_HTTP_NOT_FOUND: 'No such HTTP path (outside the prefix, or not a route).',
  RM_HTTP_METHOD_NOT_ALLOWED: 'An HTTP method other than GET or HEAD (the HTTP interface is read-only).',
  RM_HTTP_UNAUTHORIZED: 'An HTTP request without the bearer token of --http-token-file (every route but <prefix>/healthz needs it).',
  RM_HTTP_FORBIDDEN_HOST: 'An HTTP request whose Host header is not this server\'s address, localhost or a name in --http-hosts (DNS rebinding).',
  RM_HTTP_INTERNAL: 'The HTTP server failed to build an answer (see the log).',
  RM_NOTIFY_FAILED: 'A notification could not be delivered.',
  RM_JOURNAL: 'The SQLite journal could not be opened, migrated or written.',
  RM_JOURNAL_DEGRADED: 'The journal file of a running Repairman cannot be opened or written (damaged, not a database, a directory, read-only, disk full): it heals on with the restart budgets in memory, keeps new entries in memory and retries the file; /healthz says "degraded".',
  RM_STATE_UNAVAILABLE: 'A command could not read state from a running instance or a database.',
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export class RepairmanError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;
  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RepairmanError';
    this.code = code;
    this.details = options.details ?? {};
  }
}

export function isRepairmanError(err: unknown, code?: ErrorCode): err is RepairmanError {
  return err instanceof RepairmanError && (code === undefined || err.code === code);
}

/** A message for any thrown value, never "[object Object]". */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

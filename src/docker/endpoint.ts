// Where the engine is, read from the environment with the docker CLI's semantics:
//   DOCKER_HOST        unix:///path | tcp://host[:port][/base] | ssh://[user@]host[:port]
//                      (unset or empty: unix:///var/run/docker.sock; when that socket does not
//                      exist, rootless Podman's $XDG_RUNTIME_DIR/podman/podman.sock, then rootful
//                      Podman's /run/podman/podman.sock, whichever exists first)
//   DOCKER_TLS_VERIFY  non-empty and not 0/false: tcp:// uses TLS and verifies the engine
//   DOCKER_CERT_PATH   folder with ca.pem, cert.pem, key.pem (default ~/.docker)
// Certificates are read here, once, so a bad TLS setup is a start-up error, not a failure on the
// first call minutes later.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { RepairmanError } from '../errors.js';

/** The engine's socket when DOCKER_HOST is unset, empty or just `unix://` (as the docker CLI). */
export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';
export const DEFAULT_DOCKER_HOST = `unix://${DEFAULT_DOCKER_SOCKET}`;
/** Rootful Podman's socket (podman.socket of systemd, or `podman system service` as root). */
export const ROOTFUL_PODMAN_SOCKET = '/run/podman/podman.sock';

/** The fixed sockets looked for when DOCKER_HOST is unset; a test passes paths of its own. */
export interface DefaultSockets {
  docker: string;
  rootfulPodman: string;
}
export const DEFAULT_SOCKETS: Readonly<DefaultSockets> = { docker: DEFAULT_DOCKER_SOCKET, rootfulPodman: ROOTFUL_PODMAN_SOCKET };

/**
 * The socket to use when DOCKER_HOST is unset: Docker's when it exists, else rootless Podman's
 * ($XDG_RUNTIME_DIR/podman/podman.sock, what `systemctl --user enable --now podman.socket` serves),
 * else rootful Podman's; Docker's when none exists (the error then names the usual one).
 */
export function defaultSocket(env: NodeJS.ProcessEnv, exists: (path: string) => boolean = existsSync, sockets: Readonly<DefaultSockets> = DEFAULT_SOCKETS): string {
  if (exists(sockets.docker)) return sockets.docker;
  const runtimeDir = env.XDG_RUNTIME_DIR?.trim();
  const candidates = [...(runtimeDir && runtimeDir.startsWith('/') ? [join(runtimeDir, 'podman', 'podman.sock')] : []), sockets.rootfulPodman];
  return candidates.find((p) => exists(p)) ?? sockets.docker;
}

export interface TlsFiles {
  certPath: string;
  ca: Buffer;
  /** Client certificate and key; absent when the folder has neither (an engine without client auth). */
  cert?: Buffer;
  key?: Buffer;
}

export type Endpoint =
  | { kind: 'unix'; socketPath: string; display: string }
  | { kind: 'tcp'; host: string; port: number; basePath: string; tls?: TlsFiles; display: string }
  | { kind: 'ssh'; host: string; user?: string; port?: number; display: string };

/** The docker CLI's tcp ports: 2376 with TLS, 2375 without. */
const DEFAULT_TCP_PORT = 2375;
const DEFAULT_TLS_PORT = 2376;

function configError(variable: string, value: string, expected: string): RepairmanError {
  return new RepairmanError('RM_CONFIG_INVALID', `${variable}=${JSON.stringify(value)} is not usable: expected ${expected}`, {
    details: { variable, value, expected },
  });
}

/** DOCKER_HOST may carry a password (ssh://user:pw@host): never repeat it in a message. */
function withoutPassword(raw: string): string {
  return raw.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}

/** The docker CLI treats any non-empty DOCKER_TLS_VERIFY as on; we also accept 0/false as off. */
export function tlsVerifyEnabled(value: string | undefined): boolean {
  if (value === undefined) return false;
  const v = value.trim().toLowerCase();
  return v !== '' && v !== '0' && v !== 'false' && v !== 'no' && v !== 'off';
}

function parsePort(variable: string, value: string, portText: string): number {
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
    throw configError(variable, value, 'a port between 1 and 65535');
  }
  return port;
}

/** The files of a TLS folder: the docker CLI's names, or willfarrell's for DOCKER_SOCK=tcps://. */
interface TlsNames {
  cert: string;
  key: string;
  defaultDir: string;
  defaultShown: string;
}

const CLI_TLS_NAMES: TlsNames = { cert: 'cert.pem', key: 'key.pem', defaultDir: '', defaultShown: '~/.docker' };

function readTlsFiles(env: NodeJS.ProcessEnv, names: TlsNames = CLI_TLS_NAMES): TlsFiles {
  const fromEnv = env.DOCKER_CERT_PATH;
  const certPath = fromEnv && fromEnv.trim() !== '' ? fromEnv : names.defaultDir || join(env.HOME || homedir(), '.docker');
  const variable = fromEnv ? 'DOCKER_CERT_PATH' : `DOCKER_CERT_PATH (unset, default ${names.defaultShown})`;
  const read = (file: string): Buffer | undefined => {
    try {
      return readFileSync(join(certPath, file));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new RepairmanError('RM_ENGINE_TLS',
        `${variable}=${JSON.stringify(certPath)}: cannot read ${file}: ${(err as Error).message}`, { cause: err, details: { certPath, file } });
    }
  };
  const ca = read('ca.pem');
  const cert = read(names.cert);
  const key = read(names.key);
  if (!ca) {
    throw new RepairmanError('RM_ENGINE_TLS',
      `TLS is asked for but ${variable}=${JSON.stringify(certPath)} has no ca.pem: expected a folder with ca.pem, ${names.cert} and ${names.key}`,
      { details: { certPath, missing: 'ca.pem' } });
  }
  if (Boolean(cert) !== Boolean(key)) {
    throw new RepairmanError('RM_ENGINE_TLS',
      `${variable}=${JSON.stringify(certPath)} has ${cert ? `${names.cert} but no ${names.key}` : `${names.key} but no ${names.cert}`}: expected both (the client certificate and its key) or neither`,
      { details: { certPath, missing: cert ? names.key : names.cert } });
  }
  return cert && key ? { certPath, ca, cert, key } : { certPath, ca };
}

/** Where willfarrell/docker-autoheal's image reads the certificates for DOCKER_SOCK=tcps://. */
export const DOCKER_SOCK_CERT_DIR = '/certs';
const DOCKER_SOCK_TLS_NAMES: TlsNames = { cert: 'client-cert.pem', key: 'client-key.pem', defaultDir: DOCKER_SOCK_CERT_DIR, defaultShown: DOCKER_SOCK_CERT_DIR };

/** The engine's address as configured: DOCKER_HOST, else DOCKER_SOCK as a DOCKER_HOST. */
export function engineAddress(env: NodeJS.ProcessEnv): string | undefined {
  const host = env.DOCKER_HOST?.trim();
  if (host) return host;
  const sock = env.DOCKER_SOCK?.trim();
  return sock ? dockerSockToHost(sock) : undefined;
}

/**
 * willfarrell/docker-autoheal's DOCKER_SOCK (docs/behaviour.md §11), read only when DOCKER_HOST is not set:
 * a socket path, tcp://host:port, or tcps://host:port (TLS, ca.pem, client-cert.pem, client-key.pem in
 * /certs, or in DOCKER_CERT_PATH when set).
 */
export function dockerSockToHost(raw: string): string {
  if (/^tcps:\/\//i.test(raw)) return `tcp://${raw.slice('tcps://'.length)}`;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) return raw;
  return `unix://${raw}`;
}

/**
 * Resolve the engine endpoint; throws RM_CONFIG_INVALID (bad DOCKER_HOST) or RM_ENGINE_TLS (bad
 * certificates). `exists` decides which default socket exists, `sockets` which paths are the default
 * ones (tests pass their own: a test never looks at the real /var/run/docker.sock).
 */
export function resolveEndpoint(env: NodeJS.ProcessEnv, exists: (path: string) => boolean = existsSync, sockets: Readonly<DefaultSockets> = DEFAULT_SOCKETS): Endpoint {
  const sock = env.DOCKER_HOST?.trim() ? undefined : env.DOCKER_SOCK?.trim() || undefined;
  const variable = sock ? 'DOCKER_SOCK' : 'DOCKER_HOST';
  const raw = sock ? dockerSockToHost(sock) : env.DOCKER_HOST?.trim() || `unix://${defaultSocket(env, exists, sockets)}`;
  const tcps = sock !== undefined && /^tcps:\/\//i.test(sock);
  const shown = withoutPassword(sock ?? raw);
  const bad = (expected: string): RepairmanError => configError(variable, shown, expected);
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(raw);
  if (!m) throw bad('unix:///path/to/docker.sock, tcp://host:port or ssh://[user@]host[:port]');
  const scheme = m[1]!.toLowerCase();
  const rest = m[2]!;

  if (scheme === 'unix') {
    // Like the CLI, "unix://" alone means the default socket.
    const socketPath = rest === '' ? sockets.docker : rest;
    if (!socketPath.startsWith('/')) throw bad(`an absolute socket path, e.g. ${DEFAULT_DOCKER_HOST}`);
    return { kind: 'unix', socketPath, display: `unix://${socketPath}` };
  }

  if (scheme === 'tcp') {
    let url: URL;
    try {
      url = new URL(`http://${rest}`);
    } catch {
      throw bad('tcp://host:port, e.g. tcp://127.0.0.1:2376');
    }
    if (url.hostname === '') throw bad('tcp://host:port with a host, e.g. tcp://127.0.0.1:2376');
    if (url.username || url.password || url.search || url.hash) throw bad('tcp://host:port without user, query or fragment');
    const tls = tcps ? readTlsFiles(env, DOCKER_SOCK_TLS_NAMES)
      : !sock && tlsVerifyEnabled(env.DOCKER_TLS_VERIFY) ? readTlsFiles(env) : undefined;
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const portMatch = /:(\d*)$/.exec(rest.split('/')[0] ?? '');
    const port = url.port !== '' ? parsePort(variable, shown, url.port)
      : portMatch && portMatch[1] === '' ? parsePort(variable, shown, '') : tls ? DEFAULT_TLS_PORT : DEFAULT_TCP_PORT;
    const basePath = url.pathname === '/' ? '' : url.pathname.replace(/\/+$/, '');
    const hostPart = isIP(host) === 6 ? `[${host}]` : host;
    const endpoint: Endpoint = { kind: 'tcp', host, port, basePath, display: `tcp://${hostPart}:${port}${basePath}${tls ? ' (TLS)' : ''}` };
    if (tls) endpoint.tls = tls;
    return endpoint;
  }

  if (scheme === 'ssh') {
    let url: URL;
    try {
      url = new URL(`ssh://${rest}`);
    } catch {
      throw bad('ssh://[user@]host[:port]');
    }
    if (url.password) throw bad('ssh://[user@]host[:port] without a password (use an ssh key or agent)');
    if (url.hostname === '') throw bad('ssh://[user@]host[:port] with a host');
    if ((url.pathname !== '' && url.pathname !== '/') || url.search || url.hash) throw bad('ssh://[user@]host[:port] with no path, query or fragment');
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const endpoint: Endpoint = { kind: 'ssh', host, display: `ssh://${url.username ? `${decodeURIComponent(url.username)}@` : ''}${url.host}` };
    if (url.username) endpoint.user = decodeURIComponent(url.username);
    if (url.port !== '') endpoint.port = parsePort(variable, shown, url.port);
    return endpoint;
  }

  throw bad('a unix://, tcp:// or ssh:// address (npipe:// and fd:// are not supported)');
}

/** The ssh command line the docker CLI uses for ssh:// hosts. */
export function sshArgs(endpoint: { host: string; user?: string; port?: number }): string[] {
  const args = ['-o', 'ConnectTimeout=30', '-T'];
  if (endpoint.user !== undefined) args.push('-l', endpoint.user);
  if (endpoint.port !== undefined) args.push('-p', String(endpoint.port));
  // "--" so a host beginning with "-" can never be read as an ssh option.
  args.push('--', endpoint.host, 'docker', 'system', 'dial-stdio');
  return args;
}

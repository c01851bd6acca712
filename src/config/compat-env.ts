// The variables of the two tools people move here from (docs/behaviour.md §11), read as extra, lower
// sources of Repairman's own settings: willfarrell/docker-autoheal (its docker-entrypoint and
// Dockerfile are the reference for names and defaults) and qdm12/deunhealth. A settings-table row
// names its compatible source here; load.ts reads it after the row's own switch and variables.
import { dockerSockToHost } from '../docker/endpoint.js';

export type Peer = 'willfarrell/docker-autoheal' | 'qdm12/deunhealth';

export interface CompatHit {
  /** The variable the value came from (shown by `repairman config`). */
  name: string;
  /** Text for the row's own parser. */
  raw: string;
}

export interface CompatSource {
  peer: Peer;
  /** The peer's variables this source reads (for --help and the README). */
  env: readonly string[];
  read: (env: NodeJS.ProcessEnv) => CompatHit | undefined;
}

/** willfarrell's selection rules apply as soon as any AUTOHEAL_* variable is set (even empty). */
export function willfarrellMode(env: NodeJS.ProcessEnv): boolean {
  return Object.keys(env).some((k) => k.startsWith('AUTOHEAL_'));
}

/** willfarrell's label name when its rules apply: AUTOHEAL_CONTAINER_LABEL, default `autoheal`. */
export function willfarrellLabel(env: NodeJS.ProcessEnv): string | undefined {
  if (!willfarrellMode(env)) return undefined;
  const v = env.AUTOHEAL_CONTAINER_LABEL?.trim();
  return v ? v : 'autoheal';
}

const W: Peer = 'willfarrell/docker-autoheal';
const D: Peer = 'qdm12/deunhealth';

/** A variable read as it is (an empty value counts as unset, as in willfarrell's `${X:-default}`). */
function plain(peer: Peer, name: string): CompatSource {
  return {
    peer,
    env: [name],
    read: (env) => {
      const raw = env[name];
      return raw === undefined || raw.trim() === '' ? undefined : { name, raw };
    },
  };
}

export const COMPAT = {
  interval: plain(W, 'AUTOHEAL_INTERVAL'),
  startPeriod: plain(W, 'AUTOHEAL_START_PERIOD'),
  stopTimeout: plain(W, 'AUTOHEAL_DEFAULT_STOP_TIMEOUT'),
  apiTimeout: plain(W, 'CURL_TIMEOUT'),
  /** AUTOHEAL_CONTAINER_LABEL names the label; `all` heals every container but those labelled false. */
  autohealLabel: {
    peer: W,
    env: ['AUTOHEAL_CONTAINER_LABEL'],
    read: (env) => {
      const label = willfarrellLabel(env);
      if (label === undefined) return undefined;
      return { name: env.AUTOHEAL_CONTAINER_LABEL?.trim() ? 'AUTOHEAL_CONTAINER_LABEL' : 'AUTOHEAL_* (label default autoheal)', raw: label };
    },
  } satisfies CompatSource,
  /** willfarrell heals only labelled containers unless the label setting is `all`: global opt-in mode. */
  enableAutoheal: {
    peer: W,
    env: ['AUTOHEAL_CONTAINER_LABEL'],
    read: (env) => {
      const label = willfarrellLabel(env);
      if (label === undefined) return undefined;
      return { name: env.AUTOHEAL_CONTAINER_LABEL?.trim() ? 'AUTOHEAL_CONTAINER_LABEL' : 'AUTOHEAL_* (label default autoheal)', raw: label === 'all' ? 'true' : 'false' };
    },
  } satisfies CompatSource,
  /** Only running containers are monitored: crashed ones are not started. */
  healExited: {
    peer: W,
    env: ['AUTOHEAL_ONLY_MONITOR_RUNNING'],
    read: (env) => {
      const raw = env.AUTOHEAL_ONLY_MONITOR_RUNNING?.trim().toLowerCase();
      if (raw === undefined || raw === '' || raw === 'false') return undefined;
      // willfarrell filters on running for anything but the literal `false`.
      return { name: 'AUTOHEAL_ONLY_MONITOR_RUNNING', raw: 'false' };
    },
  } satisfies CompatSource,
  /** WEBHOOK_URL gets `{"<WEBHOOK_JSON_KEY>": text}` (key default `content`); APPRISE_URL the Apprise API body. */
  notifyUrls: {
    peer: W,
    env: ['WEBHOOK_URL', 'WEBHOOK_JSON_KEY', 'APPRISE_URL'],
    read: (env) => {
      const urls: string[] = [];
      const names: string[] = [];
      const hook = env.WEBHOOK_URL?.trim();
      if (hook) {
        const key = env.WEBHOOK_JSON_KEY?.trim() || 'content';
        urls.push(`field.${key}+${hook}`);
        names.push(env.WEBHOOK_JSON_KEY?.trim() ? 'WEBHOOK_URL + WEBHOOK_JSON_KEY' : 'WEBHOOK_URL');
      }
      const apprise = env.APPRISE_URL?.trim();
      if (apprise) {
        urls.push(`apprise+${apprise}`);
        names.push('APPRISE_URL');
      }
      return urls.length ? { name: names.join(', '), raw: urls.join(' ') } : undefined;
    },
  } satisfies CompatSource,
  /** willfarrell sends a message for every restart: restarts are DEBUG in docs/behaviour.md §5. */
  notifyLevel: {
    peer: W,
    env: ['WEBHOOK_URL', 'APPRISE_URL'],
    read: (env) => (env.WEBHOOK_URL?.trim() || env.APPRISE_URL?.trim() ? { name: env.WEBHOOK_URL?.trim() ? 'WEBHOOK_URL' : 'APPRISE_URL', raw: 'DEBUG' } : undefined),
  } satisfies CompatSource,
  /** A socket path, tcp://host:port, or tcps://host:port with the certificates in /certs. */
  dockerHost: {
    peer: W,
    env: ['DOCKER_SOCK'],
    read: (env) => {
      const raw = env.DOCKER_SOCK?.trim();
      if (!raw) return undefined;
      return { name: 'DOCKER_SOCK', raw: dockerSockToHost(raw) };
    },
  } satisfies CompatSource,
  /** deunhealth's LOG_LEVEL: `debug` turns debug logs on; other levels change nothing. */
  debug: {
    peer: D,
    env: ['LOG_LEVEL'],
    read: (env) => (env.LOG_LEVEL?.trim().toLowerCase() === 'debug' ? { name: 'LOG_LEVEL', raw: 'true' } : undefined),
  } satisfies CompatSource,
} as const;

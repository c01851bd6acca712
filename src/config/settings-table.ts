// THE settings table (docs/behaviour.md §1): one row per setting. Command-line parsing, environment reading,
// label decoding, validation, `--help` and the README's reference table are all derived from it, so a
// setting is added or changed here and nowhere else.
import { DEFAULT_DOCKER_HOST } from '../docker/endpoint.js';
import { COMPAT, type CompatSource } from './compat-env.js';
import { DEFAULT_NOTIFY_LEVEL } from '../notify/levels.js';
import { maskUrl } from '../util/mask.js';
import {
  BOOLEAN_EXPECTED,
  choiceParser,
  countExpected,
  countParser,
  parseAnyText,
  parseBoolean,
  parseHttpAddress,
  parseHostNames,
  parseHttpPrefix,
  parseNonEmpty,
  parseNotifyLevel,
  parseContainerNames,
  parseNotifyUrls,
  parseOrigins,
  parsePort,
  secondsExpected,
  secondsParser,
  type Parser,
  type RangeOpts,
} from './parsers.js';
import { BUDGET_MODES, UNHEALTHY_ACTIONS, type ContainerPolicy, type GlobalSettings } from './types.js';

export const LABEL_PREFIX = 'org.riotkit.repairman.';

export type GlobalField = Exclude<keyof GlobalSettings, 'defaults'>;
export type PolicyField = keyof ContainerPolicy;

interface RowCommon {
  /** Stable name: the label suffix for per-container settings, snake_case of the switch otherwise. */
  key: string;
  /** `--interval`; absent for settings only read from the environment. */
  switch?: string;
  /** Environment variables, in order of preference (several only for historical aliases). */
  env: readonly string[];
  /** A boolean switch may stand alone (= true) and has a `--no-` form; other switches need a value. */
  kind: 'boolean' | 'value';
  /** Placeholder for the value in `--help` (`<seconds>`); empty for booleans. */
  valueName: string;
  default: unknown;
  /** The default as documented (README, --help). */
  defaultText: string;
  parse: Parser<unknown>;
  /** The value as shown to people (secrets masked). */
  show: (value: unknown) => string;
  /** Accepted forms, in words (used in every error about this setting). */
  expected: string;
  description: string;
  /** Never shown in clear: notify URLs carry tokens. */
  secret: boolean;
  /** Set when the row goes beyond the table of docs/behaviour.md §1; says which section it serves. */
  extension?: string;
  /** Another tool's variables read below this row's own (docs/behaviour.md §11): switch > env > compat env > default. */
  compat?: CompatSource;
}

export interface GlobalRow extends RowCommon {
  scope: 'global';
  field: GlobalField;
}

export interface PolicyRow extends RowCommon {
  scope: 'policy';
  field: PolicyField;
  /** Full label key, org.riotkit.repairman.<key>. */
  label: string;
}

/** Read by other parts (the Docker client, the runtime) straight from the environment; documented here. */
export interface ExternalRow extends RowCommon {
  scope: 'external';
}

export type SettingRow = GlobalRow | PolicyRow | ExternalRow;

type Input<T> = {
  key: string;
  switch?: string;
  env?: readonly string[];
  valueName?: string;
  default: T;
  defaultText?: string;
  parse: Parser<T>;
  show?: (value: T) => string;
  expected: string;
  description: string;
  secret?: boolean;
  extension?: string;
  compat?: CompatSource;
};

const showText = (v: unknown): string => (v === '' ? '""' : String(v));

function common<T>(input: Input<T>, kind: 'boolean' | 'value'): RowCommon {
  const show = (input.show ?? showText) as (value: unknown) => string;
  return {
    key: input.key,
    switch: input.switch,
    env: input.env ?? [],
    kind,
    valueName: kind === 'boolean' ? '' : (input.valueName ?? '<value>'),
    default: input.default,
    defaultText: input.defaultText ?? show(input.default),
    parse: input.parse as Parser<unknown>,
    show,
    expected: input.expected,
    description: input.description,
    secret: input.secret ?? false,
    ...(input.extension ? { extension: input.extension } : {}),
    ...(input.compat ? { compat: input.compat } : {}),
  };
}

const kindOf = (value: unknown): 'boolean' | 'value' => (typeof value === 'boolean' ? 'boolean' : 'value');

function globalRow<K extends GlobalField>(field: K, input: Input<GlobalSettings[K]>): GlobalRow {
  return { ...common(input, kindOf(input.default)), scope: 'global', field };
}

function policyRow<K extends PolicyField>(field: K, input: Input<ContainerPolicy[K]>): PolicyRow {
  return { ...common(input, kindOf(input.default)), scope: 'policy', field, label: LABEL_PREFIX + input.key };
}

function externalRow(input: Input<string>): ExternalRow {
  return { ...common(input, 'value'), scope: 'external' };
}

const seconds = (opts: RangeOpts = {}) => ({ parse: secondsParser(opts), expected: secondsExpected(opts), valueName: '<seconds>' });
const count = (opts: RangeOpts = {}) => ({ parse: countParser(opts), expected: countExpected(opts), valueName: '<count>' });
const bool = { parse: parseBoolean, expected: BOOLEAN_EXPECTED };

export const SETTINGS: readonly SettingRow[] = [
  globalRow('debug', {
    key: 'debug', switch: '--debug', default: false, ...bool,
    compat: COMPAT.debug,
    description: 'Debug-level logs (not notifications).',
  }),
  globalRow('intervalSec', {
    key: 'interval', switch: '--interval', env: ['CHECK_INTERVAL'], default: 30, ...seconds({ min: 1 }),
    compat: COMPAT.interval,
    description: 'Seconds between full re-checks of all containers (events make reactions immediate; this is the safety net).',
  }),
  globalRow('namespace', {
    key: 'namespace', switch: '--namespace', env: ['NAMESPACE'], default: '', parse: parseAnyText, valueName: '<prefix>',
    expected: 'any text (a container name prefix)',
    description: 'Only containers whose name starts with this prefix (e.g. a compose project).',
  }),
  policyRow('secondsBetweenRestarts', {
    key: 'seconds_between_restarts', switch: '--seconds-between-restarts', env: ['DEFAULT_SECONDS_BETWEEN_RESTARTS'],
    default: 15, ...seconds(),
    description: 'Minimum gap between two restarts of one container.',
  }),
  policyRow('frameSizeSec', {
    key: 'frame_size_in_seconds', switch: '--frame-size-in-seconds', env: ['DEFAULT_FRAME_SIZE'], default: 300, ...seconds(),
    description: 'Length of the sliding frame in which max_restarts_in_frame applies.',
  }),
  policyRow('maxRestartsInFrame', {
    key: 'max_restarts_in_frame', switch: '--max-restarts-in-frame', env: ['DEFAULT_MAX_RESTARTS_IN_FRAME'], default: 2, ...count(),
    description: 'Restarts allowed per frame; 0 = no limit.',
  }),
  policyRow('secondsBetweenNextFrame', {
    key: 'seconds_between_next_frame', switch: '--seconds-between-next-frame', env: ['DEFAULT_SECONDS_BETWEEN_NEXT_FRAME'],
    default: 600, ...seconds(),
    description: "The longer wait once a frame's limit is reached.",
  }),
  policyRow('maxChecksToGiveUp', {
    key: 'max_checks_to_give_up', switch: '--max-checks-to-give-up', env: ['DEFAULT_MAX_CHECKS_TO_GIVE_UP'], default: 50, ...count(),
    description: 'Restarts in a row without recovery before giving up; 0 = never.',
  }),
  policyRow('maxHistoricEntries', {
    key: 'max_historic_entries', switch: '--max-historic-entries', env: ['DEFAULT_MAX_HISTORIC_ENTRIES'], default: 50, ...count(),
    description: 'Journal entries kept per container (the newest).',
  }),
  policyRow('enableCleaningDuplicatedServices', {
    key: 'enable_cleaning_duplicated_services', switch: '--enable-cleaning-duplicated-services',
    env: ['ENABLE_CLEANING_DUPLICATED_SERVICES', 'DEFAULT_ENABLE_DUPLICATED_SERVICES_REMOVING'], default: false, ...bool,
    description: "Remove docker-compose's hash-prefixed duplicates of this container.",
  }),
  policyRow('enableAutoheal', {
    key: 'enable_autoheal', switch: '--enable-autoheal', env: ['DEFAULT_ENABLE_AUTO_HEAL'], default: true, ...bool,
    compat: COMPAT.enableAutoheal,
    description: 'Heal this container at all (false globally + true on a label = opt-in mode). A bad label value means false.',
  }),
  policyRow('healExited', {
    key: 'heal_exited', switch: '--heal-exited', env: ['DEFAULT_HEAL_EXITED'], default: true, ...bool,
    compat: COMPAT.healExited,
    description: 'Also start containers that crashed. A bad label value means false.',
  }),
  globalRow('healExitedLookbackSec', {
    key: 'heal_exited_lookback', switch: '--heal-exited-lookback', env: ['DEFAULT_HEAL_EXITED_LOOKBACK'], default: 300, ...seconds(),
    description: 'A crash that happened before Repairman began watching counts only if it is at most this many seconds older than that (with a file --db-path: than when the previous run was last alive); older crashed containers are left alone.',
  }),
  policyRow('stopTimeoutSec', {
    key: 'stop_timeout', switch: '--stop-timeout', env: ['DEFAULT_STOP_TIMEOUT'], default: 10, ...seconds(),
    compat: COMPAT.stopTimeout,
    description: 'Seconds the engine waits before killing during a restart.',
  }),
  policyRow('notifyUrls', {
    key: 'notify_url', switch: '--notify-url', env: ['DEFAULT_NOTIFY_URL'], default: [], defaultText: '""',
    parse: parseNotifyUrls, valueName: '<urls>', secret: true,
    show: (urls) => (urls.length ? urls.map(maskUrl).join(', ') : '""'),
    expected: 'http(s) URLs (a format prefix like json+https:// allowed) separated by commas or spaces, or "" for none',
    compat: COMPAT.notifyUrls,
    description: 'Where notifications go (Slack, Mattermost, Discord or JSON webhooks). Secret: shown as scheme and host only.',
  }),
  policyRow('notifyLevel', {
    key: 'notify_level', switch: '--notify-level', env: ['DEFAULT_NOTIFY_LEVEL'], default: DEFAULT_NOTIFY_LEVEL, parse: parseNotifyLevel,
    valueName: '<level>', expected: 'DEBUG, INFO or WARNING, any case (ERROR is accepted as WARNING)',
    compat: COMPAT.notifyLevel,
    description: 'Least severity notified.',
  }),
  globalRow('labelNotifyOrigins', {
    key: 'label_notify_origins', switch: '--label-notify-origins', env: ['LABEL_NOTIFY_ORIGINS'], default: [], defaultText: '""',
    parse: parseOrigins, valueName: '<origins>', show: (v) => (v.length ? v.join(', ') : '""'),
    expected: 'origins such as https://chat.example.org or http://apprise:8000, separated by commas or spaces',
    extension: 'docs/behaviour.md §5 names it (labels are untrusted: where a notify_url label may post)',
    description: 'Where a notify_url label may post besides the origins (scheme, host, port) of the global notify URLs. Never the Docker endpoint\'s host; at most 5 URLs per label.',
  }),
  policyRow('dependsOn', {
    key: 'depends_on', default: [], defaultText: '""', parse: parseContainerNames, valueName: '<names>',
    show: (names) => (names.length ? names.join(', ') : '""'),
    expected: 'container names separated by commas or spaces',
    description: 'Label only: restart this container after each of these is restarted or started (docs/behaviour.md §10).',
    extension: 'docs/behaviour.md §10 names this label',
  }),
  policyRow('recreateDependents', {
    key: 'recreate_dependents', switch: '--recreate-dependents', env: ['RECREATE_DEPENDENTS'], default: true, ...bool,
    description: 'Recreate a dependent whose network provider was recreated (new id); false leaves it as it is.',
    extension: 'docs/behaviour.md §10 names this label; the switch sets its default',
  }),
  policyRow('onUnhealthy', {
    key: 'on_unhealthy', switch: '--on-unhealthy', env: ['DEFAULT_ON_UNHEALTHY'], default: 'restart',
    parse: choiceParser(UNHEALTHY_ACTIONS), valueName: '<action>', expected: 'restart, stop, kill or notify (any case)',
    description: 'What an unhealthy container gets: restart, stop, kill, or notify (only tell). A crashed container is always started (heal_exited).',
  }),
  policyRow('unhealthyForSec', {
    key: 'unhealthy_for', switch: '--unhealthy-for', env: ['DEFAULT_UNHEALTHY_FOR'], default: 0, ...seconds(),
    description: 'Act on an unhealthy container only once it has been unhealthy this long without recovering; a recovery in between starts the count again.',
  }),
  policyRow('budgetMode', {
    key: 'budget_mode', switch: '--budget-mode', env: ['DEFAULT_BUDGET_MODE'], default: 'frames',
    parse: choiceParser(BUDGET_MODES), valueName: '<mode>', expected: 'frames or backoff (any case)',
    description: "frames (the restart budget of docs/behaviour.md §3) or backoff (Kubernetes' CrashLoopBackOff: 10 s doubling to 5 min, back to the start after 10 min of running; max_checks_to_give_up still applies).",
  }),
  globalRow('postActionCommand', {
    key: 'post_action_command', switch: '--post-action-command', env: ['POST_ACTION_COMMAND'], default: '', parse: parseAnyText,
    valueName: '<command>', expected: 'a shell command, or "" for none',
    description: 'Run by /bin/sh after each action, with REPAIRMAN_CONTAINER, REPAIRMAN_ID, REPAIRMAN_ACTION, REPAIRMAN_REASON and REPAIRMAN_RESULT set; its exit code and last output lines are journaled. Global only: a label carrying it is a label problem and is ignored.',
  }),
  globalRow('postActionTimeoutSec', {
    key: 'post_action_timeout', switch: '--post-action-timeout', env: ['POST_ACTION_TIMEOUT'], default: 30, ...seconds({ min: 1 }),
    description: 'The post-action command (its whole process group) is killed after this long.',
    extension: 'docs/behaviour.md §12 asks for a time limit on post_action_command; this is it',
  }),
  globalRow('httpAddress', {
    key: 'http_address', switch: '--http-address', env: ['HTTP_ADDRESS'], default: '127.0.0.1', parse: parseHttpAddress,
    valueName: '<address>', expected: 'an IP address or a host name',
    description: 'Address the HTTP server listens on (the container image sets 0.0.0.0: its port is published by choice).',
  }),
  globalRow('httpPort', {
    key: 'http_port', switch: '--http-port', env: ['HTTP_PORT'], default: 8080, parse: parsePort, valueName: '<port>',
    expected: 'a port number from 0 to 65535', description: 'Port of the HTTP server; 0 disables it.',
  }),
  globalRow('httpPrefix', {
    key: 'http_prefix', switch: '--http-prefix', env: ['HTTP_PREFIX'], default: '', parse: parseHttpPrefix, valueName: '<path>',
    expected: 'a path prefix without spaces, ? or # (e.g. /SgbaCaVyewq)',
    description: 'Path prefix of every HTTP path, taken literally (a leading slash is added, a trailing one ignored).',
  }),
  globalRow('httpTokenFile', {
    key: 'http_token_file', switch: '--http-token-file', env: ['HTTP_TOKEN_FILE'], default: '', parse: parseAnyText, valueName: '<file>',
    show: (v) => (v === '' ? '""' : v), expected: 'the path of a file holding the token, or "" for none',
    extension: 'docs/behaviour.md §6 names it (access to the HTTP server)',
    description: 'File holding a bearer token (a file, so the token is not in `docker inspect`): every route but <prefix>/healthz then needs `Authorization: Bearer <token>`; the status page accepts it once as ?token= and keeps it in a cookie.',
  }),
  globalRow('httpHosts', {
    key: 'http_hosts', switch: '--http-hosts', env: ['HTTP_HOSTS'], default: [], defaultText: '""', parse: parseHostNames, valueName: '<names>',
    show: (v) => (v.length ? v.join(', ') : '""'), expected: 'host names separated by commas or spaces',
    extension: 'docs/behaviour.md §6 names it (the Host check against DNS rebinding)',
    description: 'Host names the HTTP server answers to besides its address, IP addresses and localhost; any other Host header is refused (DNS rebinding).',
  }),
  globalRow('dbPath', {
    key: 'db_path', switch: '--db-path', env: ['DB_PATH'], default: ':memory:', parse: parseNonEmpty, valueName: '<file>',
    expected: 'a file path or :memory:',
    description: 'SQLite file for the journal and the restart budget; :memory: keeps nothing across restarts.',
  }),
  globalRow('dryRun', {
    key: 'dry_run', switch: '--dry-run', env: ['DRY_RUN'], default: false, ...bool,
    description: 'Decide, log, journal and notify, but change no container.',
  }),
  globalRow('parallelism', {
    key: 'parallelism', switch: '--parallelism', env: ['PARALLELISM'], default: 8, ...count({ min: 1, max: 256 }),
    description: 'Restarts of different containers at once.',
    extension: 'docs/behaviour.md §2.4 sets this bound at 8; the setting keeps that default',
  }),
  globalRow('duplicateGraceSec', {
    key: 'duplicate_grace', switch: '--duplicate-grace', env: ['DUPLICATE_GRACE'], default: 60, ...seconds(),
    description: 'A hash-prefixed duplicate younger than this is left alone (docker-compose may be mid-way).',
    extension: 'docs/behaviour.md §4 fixes this grace at 60 seconds; the setting keeps that default',
  }),
  globalRow('autohealLabel', {
    key: 'autoheal_label', switch: '--autoheal-label', env: ['AUTOHEAL_LABEL'], default: '', parse: parseAnyText,
    valueName: '<label>', compat: COMPAT.autohealLabel,
    expected: 'a label name, all, or "" for off',
    description: 'willfarrell/docker-autoheal\'s selection label: a container with this label true (any case) is healed, false is left alone; all heals every container but those labelled false. Set from AUTOHEAL_CONTAINER_LABEL (default autoheal) as soon as any AUTOHEAL_* variable is set.',
    extension: 'docs/behaviour.md §11',
  }),
  globalRow('startPeriodSec', {
    key: 'start_period', switch: '--start-period', env: ['START_PERIOD'], default: 0, ...seconds(), compat: COMPAT.startPeriod,
    description: 'Seconds to wait after start before the first check of the containers.',
    extension: 'docs/behaviour.md §11 (AUTOHEAL_START_PERIOD)',
  }),
  globalRow('apiTimeoutSec', {
    key: 'api_timeout', switch: '--api-timeout', env: ['API_TIMEOUT'], default: 10, ...seconds({ min: 1 }), compat: COMPAT.apiTimeout,
    description: 'Time limit of one Docker API call; a restart or stop always gets its stop timeout plus a margin on top, whatever this says.',
    extension: 'docs/behaviour.md §11 (CURL_TIMEOUT)',
  }),
  globalRow('postRestartScript', {
    key: 'post_restart_script', switch: '--post-restart-script', env: ['POST_RESTART_SCRIPT'], default: '', parse: parseAnyText,
    valueName: '<command>', expected: 'a program and its arguments separated by spaces, or "" for none',
    description: 'Run after each restart with willfarrell/docker-autoheal\'s four arguments: /NAME, the short id, the state, the stop timeout. Split on spaces, not run by a shell; killed after 60 s.',
    extension: 'docs/behaviour.md §11 (POST_RESTART_SCRIPT)',
  }),
  externalRow({
    key: 'health_server_address', env: ['HEALTH_SERVER_ADDRESS'], default: '', defaultText: 'unset', parse: parseAnyText,
    show: (v) => v || 'unset', expected: 'host:port',
    description: 'qdm12/deunhealth\'s health server address: accepted and shown, with no effect (repairman healthcheck and /healthz on --http-port do that job).',
    extension: 'docs/behaviour.md §11',
  }),
  externalRow({
    key: 'tz', env: ['TZ'], default: '', defaultText: 'system', parse: parseAnyText, show: (v) => v || 'system',
    expected: 'a time zone such as Europe/Warsaw',
    description: 'Time zone of times shown to people; storage is always UTC.',
  }),
  externalRow({
    key: 'docker_host', env: ['DOCKER_HOST'], default: DEFAULT_DOCKER_HOST, parse: parseAnyText,
    expected: 'unix://, tcp:// or ssh:// address of the engine',
    compat: COMPAT.dockerHost,
    description: 'The engine, as for the docker CLI: unix://, tcp:// or ssh://. Unset: /var/run/docker.sock, or when it does not exist rootless Podman\'s $XDG_RUNTIME_DIR/podman/podman.sock (README, Podman).',
  }),
  externalRow({
    key: 'docker_tls_verify', env: ['DOCKER_TLS_VERIFY'], default: '', defaultText: 'unset', parse: parseAnyText,
    show: (v) => v || 'unset', expected: 'any non-empty value to verify',
    description: 'When set, tcp:// uses TLS and verifies the engine against ca.pem.',
  }),
  externalRow({
    key: 'docker_cert_path', env: ['DOCKER_CERT_PATH'], default: '', defaultText: '~/.docker', parse: parseAnyText,
    show: (v) => v || '~/.docker', expected: 'a directory holding ca.pem, cert.pem and key.pem',
    description: 'Directory with ca.pem, cert.pem and key.pem for TLS.',
  }),
];

export const GLOBAL_ROWS: readonly GlobalRow[] = SETTINGS.filter((r): r is GlobalRow => r.scope === 'global');
export const POLICY_ROWS: readonly PolicyRow[] = SETTINGS.filter((r): r is PolicyRow => r.scope === 'policy');

/** `--interval` -> row (switches only). */
export const ROW_BY_SWITCH: ReadonlyMap<string, SettingRow> = new Map(
  SETTINGS.filter((r) => r.switch !== undefined).map((r) => [r.switch as string, r]),
);

/** `seconds_between_restarts` -> row (label suffixes only). */
export const POLICY_ROW_BY_KEY: ReadonlyMap<string, PolicyRow> = new Map(POLICY_ROWS.map((r) => [r.key, r]));

export const ROW_BY_KEY: ReadonlyMap<string, SettingRow> = new Map(SETTINGS.map((r) => [r.key, r]));

/** The settings when nothing is configured. */
export function defaultSettings(): GlobalSettings {
  const defaults = {} as Record<string, unknown>;
  for (const row of POLICY_ROWS) defaults[row.field] = cloneDefault(row.default);
  const settings = { defaults } as unknown as Record<string, unknown>;
  for (const row of GLOBAL_ROWS) settings[row.field] = row.default;
  return settings as unknown as GlobalSettings;
}

function cloneDefault(value: unknown): unknown {
  return Array.isArray(value) ? [...value] : value;
}

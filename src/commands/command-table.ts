// The commands of `repairman` (docs/behaviour.md §7): names, usage and their own switches, for dispatching
// (src/cli.ts) and for --help. Each one is src/commands/<name>.ts exporting `run: CommandRun`.

/**
 * The settings a command reads, by key of the settings table (src/config/settings-table.ts): its
 * `help` lists these only. 'all': every setting; PER_CONTAINER stands for every per-container row
 * (check-labels decodes labels against their defaults). Every command accepts every setting.
 */
export const PER_CONTAINER = 'per-container';
export type CommandReads = 'all' | readonly string[];

const INSTANCE_ADDRESS = ['http_address', 'http_port', 'http_prefix'] as const;
const ENGINE = ['docker_host', 'docker_tls_verify', 'docker_cert_path'] as const;
/** status and explain: the running instance over HTTP, or the engine and --db-path as the instance would see them. */
const STATE_READER = [
  ...INSTANCE_ADDRESS, 'http_token_file', 'tz', 'db_path', 'namespace', 'autoheal_label', 'label_notify_origins', ...ENGINE, PER_CONTAINER,
] as const;

export interface CommandInfo {
  name: string;
  usage: string;
  summary: string;
  reads: CommandReads;
  /** The command's own switches (beyond the settings), for --help and loadSettings' commandSwitches. */
  options?: readonly { switch: string; kind: 'boolean' | 'value'; valueName?: string; description: string }[];
}

export const COMMANDS: readonly CommandInfo[] = [
  { name: 'run', usage: 'repairman [run] [SWITCHES]', summary: 'Watch the engine and repair containers (the default command).', reads: 'all' },
  {
    name: 'status',
    usage: 'repairman status [SWITCHES]',
    summary: 'Show the state of the running instance (over HTTP); with --db-path given, or when no instance answers and --db-path is a file, read the engine and that file instead.',
    reads: STATE_READER,
    options: [
      { switch: '--url', kind: 'value', valueName: 'URL', description: 'Root URL of the running instance (default: from --http-address, --http-port and --http-prefix).' },
      { switch: '--json', kind: 'boolean', description: 'Print JSON instead of a table.' },
    ],
  },
  {
    name: 'history',
    usage: 'repairman history [NAME] [SWITCHES]',
    summary: 'Show the journal kept in --db-path (newest first), of one container or of all.',
    reads: ['db_path', ...INSTANCE_ADDRESS, 'tz'],
    options: [
      { switch: '--limit', kind: 'value', valueName: 'N', description: 'How many entries to show (1..10000, default 20).' },
      { switch: '--before', kind: 'value', valueName: 'NUM', description: 'Only entries older than entry number NUM (to page back).' },
      { switch: '--json', kind: 'boolean', description: 'Print JSON instead of a table.' },
    ],
  },
  {
    name: 'check-labels',
    usage: 'repairman check-labels [NAME...] [SWITCHES]',
    summary: 'Decode the org.riotkit.repairman.* labels of the containers (all, or the NAMEs) and list every problem; exit 1 when there is any.',
    reads: ['namespace', 'autoheal_label', 'label_notify_origins', ...ENGINE, PER_CONTAINER],
    options: [{ switch: '--json', kind: 'boolean', description: 'Print JSON instead of text.' }],
  },
  {
    name: 'explain',
    usage: 'repairman explain NAME [SWITCHES]',
    reads: STATE_READER,
    summary: 'Say whether container NAME is watched and why (each deciding setting or label and where it came from), its budget, pauses, providers and dependents, and what happens next and when; asks the running instance, or reads the engine and --db-path alone (always with --db-path given); exit 1 for an unknown NAME.',
    options: [
      { switch: '--url', kind: 'value', valueName: 'URL', description: 'Root URL of the running instance (default: from --http-address, --http-port and --http-prefix).' },
      { switch: '--json', kind: 'boolean', description: 'Print JSON instead of text.' },
    ],
  },
  { name: 'reset', usage: 'repairman reset NAME [SWITCHES]', summary: 'Lift a give-up and clear the restart budget of container NAME.', reads: ['db_path'] },
  {
    name: 'pause',
    usage: 'repairman pause [NAME] [--for DURATION] [SWITCHES]',
    summary: 'Maintenance: no action on container NAME (without NAME: on any container) until the time is up or `repairman resume`; kept in --db-path, a running instance on that file follows within a second.',
    reads: ['db_path'],
    options: [{ switch: '--for', kind: 'value', valueName: 'DURATION', description: 'How long (90s, 30m, 1h30m or seconds); without it, until `repairman resume`.' }],
  },
  { name: 'resume', usage: 'repairman resume [NAME] [SWITCHES]', summary: 'End the maintenance pause of container NAME (without NAME: every pause).', reads: ['db_path'] },
  { name: 'notify-test', usage: 'repairman notify-test [SWITCHES]', summary: 'Send a test message to every configured notify URL and report each result.', reads: ['namespace', 'notify_url', 'notify_level', 'label_notify_origins', 'autoheal_label', ...ENGINE, 'tz'] },
  { name: 'healthcheck', usage: 'repairman healthcheck [SWITCHES]', summary: 'Exit 0 when the running instance\'s /healthz answers 200, 1 otherwise (for image HEALTHCHECKs).', reads: [...INSTANCE_ADDRESS] },
  {
    name: 'config',
    usage: 'repairman config [SWITCHES]',
    summary: 'Show the effective settings and where each came from (secrets masked).',
    reads: 'all',
    options: [{ switch: '--json', kind: 'boolean', description: 'Print JSON instead of text.' }],
  },
  { name: 'help', usage: 'repairman help [COMMAND]  (or repairman [COMMAND] --help)', summary: 'Show this help.', reads: [] },
  { name: 'version', usage: 'repairman --version', summary: 'Print the version.', reads: [] },
];

export const COMMAND_BY_NAME: ReadonlyMap<string, CommandInfo> = new Map(COMMANDS.map((c) => [c.name, c]));

/** `{ json: 'boolean' }` for loadSettings, from a command's declared options. */
export function commandSwitches(name: string): Record<string, 'boolean' | 'value'> {
  const out: Record<string, 'boolean' | 'value'> = {};
  for (const o of COMMAND_BY_NAME.get(name)?.options ?? []) out[o.switch.replace(/^--/, '')] = o.kind;
  return out;
}

// Shapes of the Docker Engine API replies Repairman reads (a subset; the engine sends more).
// Fields are those of API 1.41 .. 1.5x; optional where older or newer engines may omit them.

/**
 * A listed container as Repairman keeps it (src/docker/listing.ts): the listing's other fields and the
 * labels Repairman does not read are dropped as the listing arrives.
 */
export interface ContainerSummary {
  Id: string;
  Names: string[]; // with the leading slash, as the engine sends them; link aliases dropped
  /** Not kept from listings (Repairman does not read it); fakes in tests may set it. */
  Image?: string;
  Created: number; // unix seconds
  State: string; // created | running | paused | restarting | removing | exited | dead
  Status: string; // human text with the exit code and age, e.g. "Exited (1) 3 minutes ago"
  Labels: Record<string, string>; // only those listing.ts keeps (isKeptLabel)
  /** Only a `container:<id>` network mode is kept (docs/behaviour.md §10). */
  HostConfig?: { NetworkMode?: string };
  /** Status never carries the health (Podman's listing: "Up 5 seconds", where Docker says "(unhealthy)"). */
  HealthUnknown?: true;
}

export interface HealthLogEntry {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

export interface ContainerState {
  Status: string;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  Health?: { Status: string; FailingStreak: number; Log: HealthLogEntry[] | null };
}

export interface ContainerInspect {
  Id: string;
  Name: string; // with the leading slash
  Created: string;
  State: ContainerState;
  RestartCount: number;
  Config: {
    Image: string;
    Hostname: string;
    /** A TTY container's logs are one raw stream, not stdout/stderr frames. */
    Tty?: boolean;
    Labels: Record<string, string> | null;
    StopTimeout?: number;
    Healthcheck?: { Test?: string[] };
    /**
     * Podman's --health-on-failure (none, kill, restart, stop): the field of Podman's own inspect
     * (/libpod/containers/{id}/json), copied here by the client for unhealthy containers on Podman.
     */
    HealthcheckOnFailureAction?: string;
  };
  HostConfig: {
    RestartPolicy: { Name: string; MaximumRetryCount: number };
    AutoRemove: boolean;
  };
}

export interface EngineVersion {
  Version: string;
  ApiVersion: string;
  MinAPIVersion?: string;
  Os: string;
  Arch: string;
}

export interface DockerEvent {
  Type: string; // container, image, network, ...
  Action: string; // start, die, health_status: unhealthy, ...
  Actor: { ID: string; Attributes: Record<string, string> };
  scope?: string;
  time: number;
  timeNano: number;
}

/** Creating and renaming, for recreating a dependent (docs/behaviour.md §10); DockerClient has both. */
export interface ContainerRecreator {
  create(name: string, body: Record<string, unknown>, opts?: { signal?: AbortSignal }): Promise<string>;
  rename(id: string, newName: string, opts?: { signal?: AbortSignal }): Promise<void>;
}

export type Filters = Record<string, string[]>;

export interface LogsResult {
  stdout: string;
  stderr: string;
  /** Lines of both streams in the order the engine sent them, each tagged with its stream. */
  lines: { stream: 'stdout' | 'stderr'; text: string }[];
}

/**
 * What the rest of Repairman needs from an engine. The real implementation is DockerClient
 * (src/docker/client.ts); tests of pure logic may use a fake.
 */
export interface EngineApi {
  ping(opts?: { signal?: AbortSignal }): Promise<void>;
  version(opts?: { signal?: AbortSignal }): Promise<EngineVersion>;
  /** `timeoutMs`: this call's deadline instead of the client's (a whole host's listing, see FULL_LISTING_TIMEOUT_MS). */
  listContainers(opts?: { all?: boolean; filters?: Filters; signal?: AbortSignal; timeoutMs?: number }): Promise<ContainerSummary[]>;
  inspect(id: string, opts?: { signal?: AbortSignal }): Promise<ContainerInspect>;
  start(id: string, opts?: { signal?: AbortSignal }): Promise<void>;
  stop(id: string, opts?: { stopTimeoutSec?: number; signal?: AbortSignal }): Promise<void>;
  restart(id: string, opts?: { stopTimeoutSec?: number; signal?: AbortSignal }): Promise<void>;
  /** SIGKILL (the engine's default signal) at once, no stop timeout. */
  kill(id: string, opts?: { signal?: AbortSignal }): Promise<void>;
  remove(id: string, opts?: { force?: boolean; volumes?: boolean; signal?: AbortSignal }): Promise<void>;
  logs(id: string, opts?: { tail?: number; stdout?: boolean; stderr?: boolean; signal?: AbortSignal }): Promise<LogsResult>;
  /** The event stream; ends when signal aborts. Has no timeout. */
  /** `onOpen` is called once the engine has answered the request: events from then on are on their way. */
  events(opts?: { filters?: Filters; since?: number | string; until?: number | string; signal?: AbortSignal; onOpen?: () => void }): AsyncIterable<DockerEvent>;
  /** Number of HTTP calls made so far (for benchmarks: calls per re-check). */
  readonly callCount: number;
}

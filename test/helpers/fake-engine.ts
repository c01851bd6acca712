// The one engine in memory for unit and fuzz tests (the integration tests use a real private engine).
// It records every call as a short line ("restart web t=10"), applies the list filters the healer
// relies on, and lets a test inject failures, slow restarts and changes during a stop.
import type { ContainerInspect, ContainerSummary, DockerEvent, EngineApi, Filters, LogsResult } from '../../src/docker/types.js';
import { RepairmanError } from '../../src/errors.js';

/** When a fake container was created, unless the test says otherwise (seconds since 1970). */
export const FAKE_CREATED_SEC = Date.UTC(2024, 0, 1) / 1000;
/**
 * When an exited fake container stopped, unless the test says otherwise: a minute before ManualClock's
 * default start, so within the default heal_exited_lookback of a healer started then.
 */
export const FAKE_FINISHED_AT = new Date(Date.UTC(2024, 0, 1, 11, 59, 0)).toISOString();

export interface FakeContainer {
  id: string;
  name: string;
  /** running, exited, paused... */
  status: string;
  health?: string;
  exitCode?: number;
  oom?: boolean;
  restartPolicy?: string;
  labels: Record<string, string>;
  /** Seconds since 1970. */
  created: number;
  startedAt?: string;
  /** ISO time it stopped (default FAKE_FINISHED_AT once exited). */
  finishedAt?: string;
  /** How long ago it stopped, as the listing's Status says it ("3 weeks"; default "1 second"). */
  exitedAgo?: string;
  /** Podman's --health-on-failure (Config.HealthcheckOnFailureAction, as the client reads it). */
  healthOnFailure?: string;
}

/** The calls a test can make fail once with `failNext`. */
export type FailableCall = 'inspect' | 'start' | 'stop' | 'kill' | 'restart' | 'remove';

export class FakeEngine implements EngineApi {
  /** By name (Docker names are unique); rename a container by moving it to another key. */
  readonly containers = new Map<string, FakeContainer>();
  /** Every call, in order: `ping`, `list {filters}`, `inspect ID`, `start NAME`, `stop NAME t=N`,
   *  `restart NAME t=N`, `remove NAME force=B`, `logs NAME` (the id when the name is unknown). */
  readonly calls: string[] = [];
  /** The next call of that kind throws this (once). */
  failNext: Partial<Record<FailableCall, RepairmanError>> = {};
  /** Every restart and start throws this while it is set (after restartHook). */
  failRestart: RepairmanError | null = null;
  /** Runs inside a restart before it completes (a slow engine, a restart that never ends...). */
  restartHook: ((c: FakeContainer, signal?: AbortSignal) => Promise<void>) | null = null;
  /** Called when a restart or start has succeeded. */
  onRestart: ((c: FakeContainer) => void) | null = null;
  /** Called before a stop completes (a container restarting meanwhile, a slow engine...). */
  onStop: ((c: FakeContainer) => Promise<void> | void) | null = null;
  private seq = 0;

  get callCount(): number {
    return this.calls.length;
  }

  add(c: Partial<FakeContainer> & { name: string }): FakeContainer {
    this.seq++;
    const id = `${c.name.replace(/[^a-f0-9]/g, '').slice(0, 8).padEnd(8, '0')}${this.seq.toString(16).padStart(56, '0')}`;
    const full: FakeContainer = { id, status: 'running', labels: {}, created: FAKE_CREATED_SEC, ...c };
    this.containers.set(full.name, full);
    return full;
  }

  find(idOrName: string): FakeContainer | undefined {
    return this.containers.get(idOrName) ?? [...this.containers.values()].find((x) => x.id === idOrName);
  }

  /** List as Podman's client does: no health in Status, HealthUnknown set. */
  podmanListing = false;

  /** The listing as the engine would give it, without recording a call. */
  summaries(filters: Filters = {}): ContainerSummary[] {
    return [...this.containers.values()]
      .filter((c) => !filters.health || (c.health !== undefined && filters.health.includes(c.health)))
      .filter((c) => !filters.status || filters.status.includes(c.status))
      .filter((c) => !filters.name || filters.name.every((re) => new RegExp(re).test(`/${c.name}`)))
      .map((c) => ({
        Id: c.id,
        Names: [`/${c.name}`],
        Image: 'busybox',
        Created: c.created,
        State: c.status,
        Status: c.status === 'exited' ? `Exited (${c.exitCode ?? 0}) ${c.exitedAgo ?? '1 second'} ago` : `Up 1 second${c.health && !this.podmanListing ? ` (${c.health === 'starting' ? 'health: starting' : c.health})` : ''}`,
        Labels: { ...c.labels },
        ...(this.podmanListing ? { HealthUnknown: true as const } : {}),
      }));
  }

  /** Calls that change something (no ping, list, inspect or logs). */
  ops(): string[] {
    return this.calls.filter((c) => /^(start|stop|restart|remove) /.test(c));
  }

  count(prefix: string): number {
    return this.calls.filter((c) => c.startsWith(prefix)).length;
  }

  async ping(): Promise<void> {
    this.calls.push('ping');
  }
  async version(): Promise<never> {
    throw new Error('the fake engine has no version');
  }
  async listContainers(opts: { all?: boolean; filters?: Filters } = {}): Promise<ContainerSummary[]> {
    this.calls.push(`list ${JSON.stringify(opts.filters ?? {})}`);
    return this.summaries(opts.filters);
  }
  async inspect(id: string): Promise<ContainerInspect> {
    this.calls.push(`inspect ${id}`);
    this.take('inspect');
    const c = this.need(id);
    const unhealthy = c.health === 'unhealthy';
    return {
      Id: c.id,
      Name: `/${c.name}`,
      Created: new Date(c.created * 1000).toISOString(),
      State: {
        Status: c.status,
        Running: c.status === 'running',
        Paused: c.status === 'paused',
        Restarting: false,
        OOMKilled: c.oom ?? false,
        Dead: false,
        Pid: 1,
        ExitCode: c.exitCode ?? 0,
        Error: '',
        StartedAt: c.startedAt ?? new Date(0).toISOString(),
        FinishedAt: c.finishedAt ?? (c.status === 'exited' ? FAKE_FINISHED_AT : '0001-01-01T00:00:00Z'),
        ...(c.health
          ? { Health: { Status: c.health, FailingStreak: unhealthy ? 1 : 0, Log: unhealthy ? [{ Start: '', End: '', ExitCode: 1, Output: 'boom' }] : [] } }
          : {}),
      },
      RestartCount: 0,
      Config: { Image: 'busybox', Hostname: 'x', Labels: { ...c.labels }, ...(c.healthOnFailure ? { HealthcheckOnFailureAction: c.healthOnFailure } : {}) },
      HostConfig: { RestartPolicy: { Name: c.restartPolicy ?? 'no', MaximumRetryCount: 0 }, AutoRemove: false },
    };
  }
  async start(id: string): Promise<void> {
    this.calls.push(`start ${this.nameOf(id)}`);
    this.take('start');
    const c = this.need(id);
    if (this.failRestart) throw this.failRestart;
    c.status = 'running';
    this.onRestart?.(c);
  }
  async stop(id: string, opts: { stopTimeoutSec?: number } = {}): Promise<void> {
    this.calls.push(`stop ${this.nameOf(id)} t=${opts.stopTimeoutSec}`);
    this.take('stop');
    const c = this.need(id);
    c.status = 'exited';
    await this.onStop?.(c);
  }
  async kill(id: string): Promise<void> {
    this.calls.push(`kill ${this.nameOf(id)}`);
    this.take('kill');
    const c = this.need(id);
    c.status = 'exited';
  }
  async restart(id: string, opts: { stopTimeoutSec?: number; signal?: AbortSignal } = {}): Promise<void> {
    this.calls.push(`restart ${this.nameOf(id)} t=${opts.stopTimeoutSec}`);
    this.take('restart');
    const c = this.need(id);
    if (this.restartHook) await this.restartHook(c, opts.signal);
    if (this.failRestart) throw this.failRestart;
    c.status = 'running';
    if (c.health) c.health = 'starting';
    this.onRestart?.(c);
  }
  async remove(id: string, opts: { force?: boolean } = {}): Promise<void> {
    this.calls.push(`remove ${this.nameOf(id)} force=${opts.force === true}`);
    this.take('remove');
    const c = this.need(id);
    if (c.status === 'running' && !opts.force) throw new RepairmanError('RM_ENGINE_CONFLICT', 'You cannot remove a running container');
    for (const [key, x] of this.containers) if (x === c) this.containers.delete(key);
  }
  async logs(id: string): Promise<LogsResult> {
    this.calls.push(`logs ${this.nameOf(id)}`);
    this.need(id);
    return { stdout: 'a\nb\n', stderr: '', lines: [{ stream: 'stdout', text: 'a' }, { stream: 'stdout', text: 'b' }] };
  }
  // eslint-disable-next-line require-yield
  async *events(): AsyncIterable<DockerEvent> {
    return;
  }

  private nameOf(id: string): string {
    return this.find(id)?.name ?? id;
  }
  private need(id: string): FakeContainer {
    const c = this.find(id);
    if (!c) throw new RepairmanError('RM_ENGINE_NOT_FOUND', `No such container: ${id}`);
    return c;
  }
  private take(call: FailableCall): void {
    const err = this.failNext[call];
    if (err) {
      delete this.failNext[call];
      throw err;
    }
  }
}

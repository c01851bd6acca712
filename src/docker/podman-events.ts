// Podman's event stream in the Docker forms the rest of Repairman reads, so the healer never needs to
// know which engine it watches. What Podman 4.x (`podman system service`) does differently:
// - its filters match its own action names: `died` (sent as `die`), `remove` (Docker's `destroy`);
// - health is action `health_status` with the status beside it (top-level HealthStatus in 4.3, an
//   attribute health_status in the report), where Docker sends `health_status: unhealthy`;
// - up to 4.x the health event is written when a check starts, carrying the status from BEFORE the
//   check; the check's own exec_died follows. The fresh status is read then (an inspect only when the
//   check failed or the last status was not healthy), so the turn to unhealthy is seen at once;
// - container events carry no labels (Docker's carry them all) but containerExitCode and podId,
//   which are not labels and are dropped. Labels are not looked up: the healer reads them from its
//   inspect before any action, and an inspect per new container held the stream seconds behind the
//   re-checks on a loaded machine (a re-check then saw an exit before the event of the kill causing it).
import type { ContainerInspect, DockerEvent } from './types.js';

/** Attributes Podman adds to every container event; on Docker every other attribute is a label. */
const PODMAN_ATTRIBUTES = ['containerExitCode', 'podId'];
const DOCKER_ACTION: Record<string, string> = { died: 'die', remove: 'destroy' };
/** Containers remembered (last health); the oldest is forgotten beyond this. */
export const DEFAULT_MAX_TRACKED = 10_000;

interface HealthMemory {
  /** The last status passed on (fresh or reported). */
  last: string | undefined;
  /** A health event came and its check's exec_died has not yet. */
  checking: boolean;
}

export interface PodmanEventFeedOptions {
  inspect: (id: string) => Promise<ContainerInspect>;
  /** The actions asked for (the caller's event filter); exec_died is passed on only when asked. */
  asked?: string[];
  maxTracked?: number;
}

export class PodmanEventFeed {
  private readonly health = new Map<string, HealthMemory>();
  private readonly inspectFn: PodmanEventFeedOptions['inspect'];
  private readonly wantsExecDied: boolean;
  private readonly maxTracked: number;
  /** Inspects made (tests, benchmarks). */
  inspects = 0;

  constructor(opts: PodmanEventFeedOptions) {
    this.inspectFn = opts.inspect;
    this.wantsExecDied = !opts.asked || opts.asked.includes('exec_died');
    this.maxTracked = opts.maxTracked ?? DEFAULT_MAX_TRACKED;
  }

  /** The Docker-form events for one Podman event: none, itself, or a fresh health status. */
  async translate(ev: DockerEvent): Promise<DockerEvent[]> {
    if (ev.Type !== 'container') return [ev];
    const id = ev.Actor.ID;
    const raw = ev.Actor.Attributes;
    const attrs: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw)) if (!PODMAN_ATTRIBUTES.includes(k)) attrs[k] = v;
    const action = DOCKER_ACTION[ev.Action] ?? ev.Action;
    if (action === 'die' && attrs.exitCode === undefined && raw.containerExitCode !== undefined) attrs.exitCode = raw.containerExitCode;

    if (action === 'destroy') this.health.delete(id);
    if (action === 'exec_died') {
      const fresh = await this.afterCheck(id, Number(raw.containerExitCode));
      const out: DockerEvent[] = [];
      if (this.wantsExecDied) out.push({ ...ev, Actor: { ID: id, Attributes: attrs } });
      if (fresh) out.push({ ...ev, Action: `health_status: ${fresh}`, Actor: { ID: id, Attributes: attrs } });
      return out;
    }
    let health: string | undefined;
    if (action.startsWith('health_status')) {
      health = action.slice('health_status'.length).replace(/^:/, '').trim() || undefined;
      const memory = this.remember(this.health, id, { last: undefined, checking: false });
      memory.checking = true;
      // The status from before the check (Podman 4.x) adds nothing to what was already passed on.
      if (health !== undefined && memory.last === health) return [];
      if (health !== undefined) memory.last = health;
    }
    return [{ ...ev, Action: action, Actor: { ID: id, Attributes: attrs } }];
  }

  /** The status after a health check ended, when it differs from the last one passed on. */
  private async afterCheck(id: string, exitCode: number): Promise<string | undefined> {
    const memory = this.health.get(id);
    if (!memory?.checking) return undefined; // someone's `exec`, not a check
    memory.checking = false;
    // A passing check keeps a healthy container healthy: nothing to read.
    if (exitCode === 0 && memory.last === 'healthy') return undefined;
    const info = await this.inspectOrNull(id);
    const status = info?.State.Health?.Status;
    if (!status || status === memory.last) return undefined;
    memory.last = status;
    return status;
  }

  private async inspectOrNull(id: string): Promise<ContainerInspect | null> {
    this.inspects++;
    try {
      return await this.inspectFn(id);
    } catch {
      return null;
    }
  }

  private remember<T>(map: Map<string, T>, id: string, value: T): T {
    const known = map.get(id);
    if (known !== undefined) return known;
    if (map.size >= this.maxTracked) {
      const oldest = map.keys().next().value;
      if (oldest !== undefined) map.delete(oldest);
    }
    map.set(id, value);
    return value;
  }
}

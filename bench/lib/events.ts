// A live record of the private engine's container events for one benchmark run (`docker events`
// filtered on the run's label), with waits on conditions ("all 100 restarted"). The stream starts
// `--since` the engine's own clock at creation, so nothing between asking and connecting is lost.
import { spawn, type ChildProcess } from 'node:child_process';
import { engineEnv, TEST_ENGINE } from '../../test/helpers/engine.js';
import { onLines } from '../../test/helpers/lines.js';
import { engineNowSec } from '../../test/helpers/repairman.js';
import { parseEventLine, type BenchEvent } from './pairing.js';

/** Container events the benchmarks read (exec_* events of health checks are left out: one per check). */
const ACTIONS = ['create', 'start', 'restart', 'kill', 'die', 'stop', 'destroy', 'rename', 'pause', 'unpause', 'health_status'];
/**
 * Podman filters on its own names (died, remove) and ends a health check with exec_died (its health
 * event is written when the check starts, with the status from before it: bench/lib/pairing.ts).
 */
const PODMAN_ACTIONS = [...ACTIONS, 'died', 'remove', 'exec_died'];

export class EventCollector {
  readonly events: BenchEvent[] = [];
  private readonly child: ChildProcess;
  private readonly waiters = new Set<() => void>();
  private stderr = '';
  private closed = false;

  private constructor(child: ChildProcess, private readonly namePrefix: string | null) {
    this.child = child;
    onLines(child.stdout!, (line) => {
      const e = parseEventLine(line);
      if (e && (this.namePrefix === null || (e.attributes.name ?? '').startsWith(this.namePrefix))) this.events.push(e);
    });
    // After each chunk's lines (listeners run in the order they were added).
    child.stdout!.on('data', () => {
      for (const w of [...this.waiters]) w();
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (c: string) => {
      this.stderr += c;
    });
    child.once('exit', () => {
      this.closed = true;
      for (const w of [...this.waiters]) w();
    });
  }

  /** Follow the events of containers carrying label `key=value` (null: every container), from the engine's "now". */
  static async start(label: { key: string; value: string } | null): Promise<EventCollector> {
    const since = await engineNowSec();
    const args = ['events', '--since', since.toFixed(3), '--format', '{{json .}}', '--filter', 'type=container'];
    // Podman's events carry no labels: the run's containers are told by their name (the label's value
    // is their name prefix).
    const podman = TEST_ENGINE === 'podman';
    if (label && !podman) args.push('--filter', `label=${label.key}=${label.value}`);
    for (const a of podman ? PODMAN_ACTIONS : ACTIONS) args.push('--filter', `event=${a}`);
    const child = spawn('docker', args, { env: engineEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    return new EventCollector(child, podman && label ? label.value : null);
  }

  /** Resolves with fn's first truthy result, re-evaluated on every new event; rejects after timeoutMs. */
  async until<T>(what: string, fn: (events: readonly BenchEvent[]) => T | null | undefined | false, timeoutMs: number): Promise<T> {
    const first = fn(this.events);
    if (first) return first;
    return new Promise<T>((resolve, reject) => {
      const check = (): void => {
        const v = fn(this.events);
        if (v) {
          done();
          resolve(v);
        } else if (this.closed) {
          done();
          reject(new Error(`event stream ended while waiting for ${what}: ${this.stderr.trim()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${this.events.length} events seen)`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
    });
  }

  /** Events from a position on (an index into `events`), for one phase of a benchmark. */
  since(index: number): BenchEvent[] {
    return this.events.slice(index);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
  }
}

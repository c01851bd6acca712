// Run the BUILT Repairman (`node dist/src/cli.js run ...`) against the private test engine, read its
// JSON log lines as they come, wait for log events, and stop it (SIGTERM, or SIGKILL to simulate a
// crash). Every integration test that needs a live Repairman uses this; typical use:
//
//   const ns = uniqueNamespace('heal');
//   const rm = await startRepairman({ namespace: ns, args: ['--seconds-between-restarts', '1'] });
//   ... docker things ...
//   await rm.waitForLog((l) => l.msg === 'restarted' && l.container === `${ns}web`, 10_000);
//   const { code, ms } = await rm.stop();   // SIGTERM: expect code 0 within a second
//
// - `--namespace` is always given (tests running side by side never touch each other's containers),
//   `--interval` defaults to 30 s (events do the fast work; pass intervalSec where a test needs the
//   safety net), notifications default to none.
// - `http: true` picks a free port and serves on 127.0.0.1 (docs/behaviour.md §1: --http-port 0 DISABLES the
//   server, so the helper chooses the port); `rm.httpPort` / `rm.url(path)` then reach it.
// - startRepairman resolves once Repairman logged "watching" (its first full listing is done), or
//   rejects with its output when it exits or does not get there in time.
// - Processes still running when the test process exits are SIGKILLed (no orphans).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { docker, engineEnv, TEST_ENGINE } from './engine.js';
import { onLines } from './lines.js';

/** dist/src/cli.js, from dist/test/helpers/repairman.js. */
export const CLI_PATH = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

/** One JSON log line of Repairman (time, level, msg, and the fields of that event). */
export interface LogLine {
  time: string;
  level: string;
  msg: string;
  container?: string;
  [key: string]: unknown;
}

/** The node flags the image runs Repairman with: those between `node` and the script in the Dockerfile's ENTRYPOINT. */
export function imageNodeFlags(): string[] {
  const dockerfile = readFileSync(fileURLToPath(new URL('../../../Dockerfile', import.meta.url)), 'utf8');
  const m = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile);
  const argv = m ? (JSON.parse(m[1] as string) as string[]) : [];
  const script = argv.findIndex((a) => a.endsWith('/cli.js'));
  if (argv[0] !== 'node' || script < 1) throw new Error(`the Dockerfile's ENTRYPOINT is not "node [flags] .../cli.js": ${m?.[1]}`);
  return argv.slice(1, script);
}

export interface RepairmanOptions {
  /** --namespace (required: tests must never see each other's containers). */
  namespace: string;
  /** More switches, e.g. ['--seconds-between-restarts', '1', '--dry-run']. */
  args?: string[];
  /** --interval (default 30: the safety net; events do the fast work). */
  intervalSec?: number;
  /** Serve HTTP on 127.0.0.1 on a free port (default: no HTTP server). */
  http?: boolean;
  /** --db-path (default :memory:). */
  dbPath?: string;
  /** Extra environment (on top of the private engine's DOCKER_HOST). */
  env?: Record<string, string>;
  /** --debug (debug log lines). */
  debug?: boolean;
  /** How long to wait for "watching" (default 15 s). */
  readyTimeoutMs?: number;
  /** Resolve as soon as the process runs, without waiting for "watching" (engine-down tests). */
  noWait?: boolean;
  /** Flags for Repairman's node, before the script (V8's too, e.g. the image's --max-semi-space-size=1). */
  nodeFlags?: string[];
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Milliseconds from the stop request to the exit (stop()/kill() only). */
  ms: number;
}

export interface RepairmanProcess {
  child: ChildProcess;
  /** Parsed JSON log lines so far (non-JSON stdout lines are in `rawStdout`). */
  lines: LogLine[];
  rawStdout: string[];
  stderr: () => string;
  httpPort: number | null;
  /** http://127.0.0.1:<port><path> (throws without `http: true`). */
  url(path?: string): string;
  /** The first line (already seen or to come) matching; rejects after timeoutMs or if the process exits. */
  waitForLog(match: LineMatch, timeoutMs?: number): Promise<LogLine>;
  /** Lines matching so far. */
  find(match: LineMatch): LogLine[];
  /** Lines of Repairman's own actions on a container: restarted, started, dry run. */
  actionsOn(container: string): LogLine[];
  /** SIGTERM, then SIGKILL after killAfterMs (default 5000) if still running. */
  stop(killAfterMs?: number): Promise<Exit>;
  /** SIGKILL (a crash: nothing is flushed or closed). */
  kill(): Promise<Exit>;
  /** Resolves when the process exits, however. */
  exited: Promise<Exit>;
  /** Everything seen, for failure messages. */
  dump(): string;
}

export type LineMatch = string | ((line: LogLine) => boolean);

/** Messages Repairman logs when it acted on a container (healer.ts). */
export const ACTION_MESSAGES = new Set(['restarted', 'started', 'stopped', 'killed', 'dry run: not restarted', 'dry run: not started', 'dry run: not stopped', 'dry run: not killed']);

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of running) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** A TCP port free right now on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function matcher(m: LineMatch): (l: LogLine) => boolean {
  return typeof m === 'string' ? (l) => l.msg === m : m;
}

export async function startRepairman(opts: RepairmanOptions): Promise<RepairmanProcess> {
  const port = opts.http ? await freePort() : 0;
  const argv = [CLI_PATH, 'run', '--namespace', opts.namespace, '--interval', String(opts.intervalSec ?? 30), '--http-port', String(port)];
  if (opts.http) argv.push('--http-address', '127.0.0.1');
  if (opts.dbPath) argv.push('--db-path', opts.dbPath);
  if (opts.debug) argv.push('--debug');
  argv.push(...(opts.args ?? []));
  const env = engineEnv({ TZ: 'UTC', ...opts.env });
  // Settings must come from the test, not from whoever runs it.
  for (const k of Object.keys(env)) if (k.startsWith('DEFAULT_') || ['NAMESPACE', 'CHECK_INTERVAL', 'DB_PATH', 'DRY_RUN', 'HTTP_PORT', 'HTTP_ADDRESS', 'HTTP_PREFIX'].includes(k)) delete env[k];
  const child = spawn(process.execPath, [...(opts.nodeFlags ?? []), ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);

  const lines: LogLine[] = [];
  const rawStdout: string[] = [];
  let stderr = '';
  const waiters = new Set<{ test: (l: LogLine) => boolean; resolve: (l: LogLine) => void }>();
  onLines(child.stdout!, (text) => {
    let line: LogLine | null = null;
    try {
      const v = JSON.parse(text) as unknown;
      if (v && typeof v === 'object' && typeof (v as LogLine).msg === 'string') line = v as LogLine;
    } catch {
      // not JSON
    }
    if (!line) {
      rawStdout.push(text);
      return;
    }
    lines.push(line);
    for (const w of [...waiters]) if (w.test(line)) {
      waiters.delete(w);
      w.resolve(line);
    }
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr += chunk;
  });

  let stopAskedAt = 0;
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal, ms: stopAskedAt ? Date.now() - stopAskedAt : 0 });
    });
  });
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });

  const dump = (): string =>
    `--- repairman stdout (${lines.length} lines) ---\n${lines.map((l) => JSON.stringify(l)).join('\n')}\n${rawStdout.join('\n')}\n--- stderr ---\n${stderr}`;

  const waitForLog = (m: LineMatch, timeoutMs = 15_000): Promise<LogLine> => {
    const test = matcher(m);
    const seen = lines.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise<LogLine>((resolve, reject) => {
      const w = {
        test,
        resolve: (l: LogLine) => {
          clearTimeout(timer);
          resolve(l);
        },
      };
      const timer = setTimeout(() => {
        waiters.delete(w);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for a log line (${typeof m === 'string' ? m : m.toString()})\n${dump()}`));
      }, timeoutMs);
      waiters.add(w);
      void exited.then((e) => {
        if (!waiters.has(w)) return;
        waiters.delete(w);
        clearTimeout(timer);
        reject(new Error(`repairman exited (code ${e.code}, signal ${e.signal}) while waiting for a log line\n${dump()}`));
      });
    });
  };

  const signalAndWait = async (sig: NodeJS.Signals, killAfterMs: number): Promise<Exit> => {
    if (hasExited) return exited;
    stopAskedAt = Date.now();
    child.kill(sig);
    const t = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    const e = await exited;
    clearTimeout(t);
    return e;
  };

  const proc: RepairmanProcess = {
    child,
    lines,
    rawStdout,
    stderr: () => stderr,
    httpPort: opts.http ? port : null,
    url(path = '/') {
      if (!opts.http) throw new Error('startRepairman({ http: true }) to use HTTP');
      return `http://127.0.0.1:${port}${path}`;
    },
    waitForLog,
    find: (m) => lines.filter(matcher(m)),
    actionsOn: (container) => lines.filter((l) => l.container === container && ACTION_MESSAGES.has(l.msg)),
    stop: (killAfterMs = 5000) => signalAndWait('SIGTERM', killAfterMs),
    kill: () => signalAndWait('SIGKILL', 0),
    exited,
    dump,
  };
  if (opts.noWait) return proc;
  try {
    await waitForLog('watching', opts.readyTimeoutMs ?? 15_000);
    if (opts.http) await waitForLog('http listening', 5_000);
  } catch (err) {
    await proc.kill();
    throw err;
  }
  return proc;
}

/** One engine event as `docker events --format '{{json .}}'` prints it. */
export interface EngineEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  time: number;
  timeNano: number;
}

/**
 * The engine's own record of what happened (with its own clock) between two moments: e.g. the
 * health_status and kill events of a container, to measure reaction times without our clock's skew.
 * `since`/`until` are unix seconds (fractions allowed) of the ENGINE clock; `until` defaults to now.
 */
export async function engineEvents(opts: { since: number; until?: number; filters?: Record<string, string[]> }): Promise<EngineEvent[]> {
  const until = opts.until ?? Date.now() / 1000 + 1;
  const args = ['events', '--since', opts.since.toFixed(3), '--until', until.toFixed(3), '--format', '{{json .}}'];
  for (const [k, vs] of Object.entries(opts.filters ?? {})) for (const v of vs) args.push('--filter', `${k}=${v}`);
  const out = await docker(args, { timeoutMs: 30_000 });
  return out
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as EngineEvent);
}

/**
 * The engine's events from `since` on, followed live until stop(). Docker replays only its last 256
 * events, so on a busy shared engine a replay asked for afterwards (engineEvents) may have lost them.
 */
export function watchEngineEvents(opts: { since: number; filters?: Record<string, string[]> }): { stop(): Promise<EngineEvent[]> } {
  const args = ['events', '--since', opts.since.toFixed(3), '--format', '{{json .}}'];
  for (const [k, vs] of Object.entries(opts.filters ?? {})) for (const v of vs) args.push('--filter', `${k}=${v}`);
  const child = spawn('docker', args, { env: engineEnv(), stdio: ['ignore', 'pipe', 'ignore'] });
  const seen: EngineEvent[] = [];
  onLines(child.stdout!, (line) => {
    if (!line.trim()) return;
    try {
      seen.push(JSON.parse(line) as EngineEvent);
    } catch {
      // a partial line at kill time
    }
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return {
    async stop() {
      // What happened up to now has been written by the engine; give the CLI a moment to print it.
      await new Promise((r) => setTimeout(r, 300));
      child.kill('SIGTERM');
      await exited;
      return seen;
    },
  };
}

/**
 * The event of the moment the engine marked a container unhealthy. Docker: its `health_status:
 * unhealthy`. Podman 4.x writes its health event when a check starts, with the status from before
 * it: the moment is the end (exec_died) of the first failing check (the tests use --health-retries 1).
 */
export function unhealthyMark(events: EngineEvent[]): EngineEvent | undefined {
  if (TEST_ENGINE === 'podman') return events.find((e) => e.Action === 'exec_died' && e.Actor.Attributes.containerExitCode !== '0');
  return events.find((e) => e.Action === 'health_status: unhealthy');
}

/** The first event of a restart: Docker's kill (of the stop), Podman's restart (sent before its stop). */
export function restartBegan(events: EngineEvent[], afterNano: number): EngineEvent | undefined {
  const action = TEST_ENGINE === 'podman' ? 'restart' : 'kill';
  return events.find((e) => e.Action === action && e.timeNano >= afterNano);
}

/** The engine's current time in unix seconds (its clock may differ from ours). */
export async function engineNowSec(): Promise<number> {
  const out = await docker(['info', '--format', '{{json .SystemTime}}']);
  const ms = Date.parse(JSON.parse(out) as string);
  return Number.isFinite(ms) ? ms / 1000 : Date.now() / 1000;
}

/**
 * A container command that stops at once on SIGTERM (a plain `sleep` as PID 1 ignores it and every
 * restart would wait the whole stop timeout) and creates /tmp/ok (for `--health-cmd 'test -f /tmp/ok'`).
 */
export const QUICK_STOP_CMD = 'touch /tmp/ok; trap "exit 0" TERM; sleep 100000 & wait';
/** Same, but ignores SIGTERM: a restart takes the whole stop timeout. */
export const SLOW_STOP_CMD = 'touch /tmp/ok; trap "" TERM; while true; do sleep 1; done';

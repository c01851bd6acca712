// Minimal checks of the engine's replies. The engine is trusted to send more than we read, but a
// broken engine, a proxy's HTML page or a truncated body must become RM_ENGINE_BAD_REPLY here, not a
// "cannot read properties of undefined" deep in the healer later. Fields the rest of Repairman relies
// on are checked; optional ones are normalised (null labels become {}). Container listings are read
// as a stream by listing.ts, with the same checks.
import { dockerHealthAction } from './podman.js';
import type { ContainerInspect, DockerEvent, EngineVersion } from './types.js';

export class ShapeError extends Error {}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(v: unknown, where: string): Obj {
  if (!isObj(v)) throw new ShapeError(`${where} is not an object`);
  return v;
}

function str(o: Obj, key: string, where: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new ShapeError(`${where}.${key} is not a string`);
  return v;
}

function optStr(o: Obj, key: string, where: string, fallback = ''): string {
  const v = o[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'string') throw new ShapeError(`${where}.${key} is not a string`);
  return v;
}

function optNum(o: Obj, key: string, where: string, fallback = 0): number {
  const v = o[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ShapeError(`${where}.${key} is not a number`);
  return v;
}

function optBool(o: Obj, key: string, where: string): boolean {
  const v = o[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new ShapeError(`${where}.${key} is not a boolean`);
  return v;
}

/** A string map (labels, event attributes); null/absent is {}; non-string values are dropped. */
function stringMap(v: unknown, where: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isObj(v)) throw new ShapeError(`${where} is not an object`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  return out;
}

export function parseInspect(v: unknown): ContainerInspect {
  const o = obj(v, 'container');
  const state = obj(o.State, 'container.State');
  const config = obj(o.Config, 'container.Config');
  const host = obj(o.HostConfig ?? {}, 'container.HostConfig');
  const policy = obj(host.RestartPolicy ?? {}, 'container.HostConfig.RestartPolicy');
  if (typeof state.Running !== 'boolean') throw new ShapeError('container.State.Running is not a boolean');
  let health: ContainerInspect['State']['Health'];
  if (isObj(state.Health)) {
    const log = state.Health.Log;
    if (log !== null && log !== undefined && !Array.isArray(log)) throw new ShapeError('container.State.Health.Log is not an array');
    health = {
      Status: str(state.Health, 'Status', 'container.State.Health'),
      FailingStreak: optNum(state.Health, 'FailingStreak', 'container.State.Health'),
      Log: Array.isArray(log)
        ? log.filter(isObj).map((e) => ({ Start: optStr(e, 'Start', 'log'), End: optStr(e, 'End', 'log'), ExitCode: optNum(e, 'ExitCode', 'log'), Output: optStr(e, 'Output', 'log') }))
        : null,
    };
  }
  const parsedState: ContainerInspect['State'] = {
    ...state,
    Status: str(state, 'Status', 'container.State'),
    Running: state.Running,
    Paused: optBool(state, 'Paused', 'container.State'),
    Restarting: optBool(state, 'Restarting', 'container.State'),
    OOMKilled: optBool(state, 'OOMKilled', 'container.State'),
    Dead: optBool(state, 'Dead', 'container.State'),
    Pid: optNum(state, 'Pid', 'container.State'),
    ExitCode: optNum(state, 'ExitCode', 'container.State'),
    Error: optStr(state, 'Error', 'container.State'),
    StartedAt: optStr(state, 'StartedAt', 'container.State'),
    FinishedAt: optStr(state, 'FinishedAt', 'container.State'),
  };
  if (health) parsedState.Health = health;
  else delete parsedState.Health;
  return {
    ...o,
    Id: str(o, 'Id', 'container'),
    Name: str(o, 'Name', 'container'),
    Created: optStr(o, 'Created', 'container'),
    State: parsedState,
    RestartCount: optNum(o, 'RestartCount', 'container'),
    Config: {
      ...config,
      Image: optStr(config, 'Image', 'container.Config'),
      Hostname: optStr(config, 'Hostname', 'container.Config'),
      Tty: optBool(config, 'Tty', 'container.Config'),
      Labels: stringMap(config.Labels, 'container.Config.Labels'),
    },
    HostConfig: {
      ...host,
      RestartPolicy: { Name: optStr(policy, 'Name', 'RestartPolicy', 'no') || 'no', MaximumRetryCount: optNum(policy, 'MaximumRetryCount', 'RestartPolicy') },
      AutoRemove: optBool(host, 'AutoRemove', 'container.HostConfig'),
    },
  };
}

export function parseVersion(v: unknown): EngineVersion {
  const o = obj(v, 'version');
  return {
    ...o,
    Version: str(o, 'Version', 'version'),
    ApiVersion: str(o, 'ApiVersion', 'version'),
    Os: optStr(o, 'Os', 'version'),
    Arch: optStr(o, 'Arch', 'version'),
  };
}

/** Latest event time taken seriously (unix seconds; year 5138): beyond it a "time" is garbage. */
export const MAX_EVENT_TIME_SEC = 1e11;

/** An event, or undefined when the value is not one (the stream skips it). */
export function parseEvent(v: unknown): DockerEvent | undefined {
  if (!isObj(v)) return undefined;
  const actor = isObj(v.Actor) ? v.Actor : {};
  // Engines before API 1.22 sent only status/id/from; 1.41+ always send Type/Action/Actor.
  const type = typeof v.Type === 'string' ? v.Type : undefined;
  const action = typeof v.Action === 'string' ? v.Action : typeof v.status === 'string' ? v.status : undefined;
  const id = typeof actor.ID === 'string' ? actor.ID : typeof v.id === 'string' ? v.id : undefined;
  if (!type || !action || id === undefined) return undefined;
  // Times become the `since` of the next reconnection: an absurd one (1e300, -5, a float the engine
  // cannot parse back) would make every reconnection fail, so only plausible unix times are taken.
  const nano = typeof v.timeNano === 'number' && v.timeNano >= 0 && v.timeNano <= MAX_EVENT_TIME_SEC * 1e9 ? v.timeNano : undefined;
  const time = typeof v.time === 'number' && Number.isInteger(v.time) && v.time >= 0 && v.time <= MAX_EVENT_TIME_SEC ? v.time : nano !== undefined ? Math.floor(nano / 1e9) : undefined;
  const timeNano = nano ?? (time !== undefined ? time * 1e9 : undefined);
  if (time === undefined || timeNano === undefined) return undefined;
  let attributes: Record<string, string>;
  try {
    attributes = stringMap(actor.Attributes, 'Actor.Attributes');
  } catch {
    return undefined;
  }
  const event: DockerEvent = { Type: type, Action: dockerHealthAction(action, v, attributes), Actor: { ID: id, Attributes: attributes }, time, timeNano };
  if (typeof v.scope === 'string') event.scope = v.scope;
  return event;
}

// Reliability: whatever comes down the engine's event stream, nothing throws and nothing is restarted
// on its say-so. Three layers, each fuzzed with fast-check:
// 1. the JSON-lines splitter (src/docker/json-lines.ts) on arbitrary bytes cut at arbitrary places:
//    the same lines as a reference split, over-long lines dropped, never an exception;
// 2. parseEvent (src/docker/shape.ts) on arbitrary JSON and arbitrary lines: an event or undefined;
// 3. the healer (src/heal/healer.ts) fed arbitrary well-formed events, forged ones included
//    (health_status: unhealthy, die with exit code 3, rename, destroy) about containers the engine
//    says are healthy and running: no restart, no start, no escaped error.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeLabels } from '../../src/config/labels.js';
import { defaultSettings } from '../../src/config/settings-table.js';
import { JsonLineSplitter, tryParseJson } from '../../src/docker/json-lines.js';
import { parseEvent } from '../../src/docker/shape.js';
import type { DockerEvent } from '../../src/docker/types.js';
import { Healer } from '../../src/heal/healer.js';
import { createHealMetrics } from '../../src/heal/metrics.js';
import type { Logger, LogFields } from '../../src/log.js';
import { MetricsRegistry } from '../../src/metrics/registry.js';
import { KeyedSerializer, Limiter } from '../../src/util/keyed-queue.js';
import { FakeEngine } from '../helpers/fake-engine.js';
import { check, checkAsync, FUZZ_RUNS as RUNS } from './helpers/fuzz.js';

// ---- 1. the splitter ----------------------------------------------------------------------------

/** What the splitter must produce for a whole stream: lines, \r trimmed, blank and over-long dropped. */
function referenceLines(stream: Buffer, maxLineBytes: number): string[] {
  const out: string[] = [];
  let start = 0;
  for (;;) {
    const nl = stream.indexOf(0x0a, start);
    const seg = stream.subarray(start, nl === -1 ? stream.length : nl);
    if (seg.length <= maxLineBytes) {
      const text = seg.toString('utf8').replace(/\r$/, '');
      if (text.trim() !== '') out.push(text);
    }
    if (nl === -1) break;
    start = nl + 1;
  }
  return out;
}

function cutAt(stream: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    parts.push(stream.subarray(from, p));
    from = p;
  }
  parts.push(stream.subarray(from));
  return parts;
}

describe('reliability: fuzzed event stream bytes (JsonLineSplitter)', () => {
  // Lines of arbitrary bytes (invalid UTF-8, \r, NUL, multi-byte characters cut in half by chunking).
  const lineBytes = fc.oneof(
    fc.uint8Array({ maxLength: 80 }).map((a) => Buffer.from(a.filter((b) => b !== 0x0a))),
    fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => Buffer.from(s.replace(/\n/g, ''), 'utf8')),
    fc.jsonValue({ maxDepth: 3 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
    fc.constantFrom('{"Type":"container","Action":"die"', '\r', ' ', '\u00e9\u4e2d\ud83d\ude00').map((s) => Buffer.from(s)),
  );

  it('splits any bytes, cut anywhere, exactly like a whole-stream split; never throws', () => {
    check(
      fc.property(fc.array(lineBytes, { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 30 }), fc.integer({ min: 1, max: 120 }), fc.boolean(), (lines, cuts, max, trailingNewline) => {
        const stream = Buffer.concat([Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])).subarray(0, trailingNewline ? undefined : -1)]);
        const splitter = new JsonLineSplitter(max);
        const got: string[] = [];
        for (const part of cutAt(stream, cuts)) got.push(...splitter.push(part));
        got.push(...splitter.end());
        assert.deepEqual(got, referenceLines(stream, max));
      }),
      { numRuns: RUNS },
    );
  });

  it('keeps memory bounded on a line that never ends', () => {
    const splitter = new JsonLineSplitter(1024);
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    for (let i = 0; i < 200; i++) assert.deepEqual(splitter.push(chunk), []); // 12.5 MB without a newline
    assert.equal(splitter.droppedLines, 1);
    assert.deepEqual(splitter.push(Buffer.from('\n{"a":1}\n')), ['{"a":1}']);
  });
});

// ---- 2. parseEvent ------------------------------------------------------------------------------

describe('reliability: fuzzed event lines (parseEvent)', () => {
  const eventish = fc.record(
    {
      Type: fc.oneof(fc.constantFrom('container', 'image', 'network'), fc.anything()),
      Action: fc.oneof(fc.constantFrom('die', 'health_status: unhealthy', 'health_status', 'rename', ''), fc.anything()),
      Actor: fc.oneof(fc.record({ ID: fc.oneof(fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), maxLength: 64 }), fc.anything()), Attributes: fc.oneof(fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.anything())), fc.anything()) }), fc.anything()),
      status: fc.anything(),
      id: fc.anything(),
      time: fc.oneof(fc.integer(), fc.double(), fc.anything()),
      timeNano: fc.oneof(fc.integer(), fc.double(), fc.anything()),
      scope: fc.anything(),
    },
    { requiredKeys: [] },
  );

  it('turns anything into a well-formed event or undefined', () => {
    check(
      fc.property(fc.oneof(eventish, fc.anything(), fc.string().map(tryParseJson)), (v) => {
        const e = parseEvent(v);
        if (e === undefined) return;
        assert.equal(typeof e.Type, 'string');
        assert.equal(typeof e.Action, 'string');
        assert.equal(typeof e.Actor.ID, 'string');
        assert.ok(Number.isFinite(e.time) && Number.isFinite(e.timeNano), 'finite times');
        for (const val of Object.values(e.Actor.Attributes)) assert.equal(typeof val, 'string');
      }),
      { numRuns: RUNS },
    );
  });
});

// ---- 3. the healer ------------------------------------------------------------------------------

const NS = 'ns-';
const NAMES = ['ns-web', 'ns-db', 'ns-worker', 'other'];
const idOf = (name: string): string => Buffer.from(name).toString('hex').padEnd(64, '0').slice(0, 64);

/** An engine where every container is running and healthy, and which records every call. */
function healthyEngine(): FakeEngine {
  const engine = new FakeEngine();
  for (const name of NAMES) engine.add({ name, id: idOf(name), health: 'healthy' });
  return engine;
}

function recordingLogger(into: { level: string; msg: string; fields?: LogFields }[]): Logger {
  const log: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (msg, fields) => void into.push({ level: 'warn', msg, fields }),
    error: (msg, fields) => void into.push({ level: 'error', msg, fields }),
    child: () => log,
  };
  return log;
}

async function settle(): Promise<void> {
  for (let i = 0; i < 30; i++) await new Promise((r) => setImmediate(r));
}

describe('reliability: fuzzed events fed to the healer', () => {
  const name = fc.oneof(fc.constantFrom(...NAMES), fc.constantFrom('/ns-web', 'ns-', 'ns-web ', 'NS-WEB', ''), fc.string().map((s) => NS + s), fc.string());
  const action = fc.oneof(
    fc.constantFrom('health_status: unhealthy', 'health_status: healthy', 'health_status:', 'health_status', 'die', 'kill', 'stop', 'start', 'destroy', 'rename', 'pause', 'unpause', 'exec_start: sh', 'oom'),
    fc.string(),
  );
  const forged = fc.record({
    Type: fc.oneof({ weight: 5, arbitrary: fc.constant('container') }, { weight: 1, arbitrary: fc.string() }),
    Action: action,
    id: fc.oneof(name.map(idOf), fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), maxLength: 64 }), fc.constant('')),
    name,
    attrs: fc.dictionary(fc.oneof(fc.constantFrom('exitCode', 'signal', 'oldName', 'health_status', 'org.riotkit.repairman.enable_autoheal', 'org.riotkit.repairman.heal_exited'), fc.string()), fc.oneof(fc.constantFrom('3', '137', '9', 'true', 'unhealthy', 'ns-db', '-1', 'NaN'), fc.string()), { maxKeys: 4 }),
    time: fc.oneof(fc.integer(), fc.constant(4102444800), fc.constant(-1)),
  });
  // The same events as the client would deliver them: through JSON text and parseEvent.
  const events = fc.array(forged, { minLength: 1, maxLength: 25 }).map((list) =>
    list
      .map((f) => parseEvent(tryParseJson(JSON.stringify({ Type: f.Type, Action: f.Action, Actor: { ID: f.id, Attributes: { ...f.attrs, name: f.name } }, time: f.time, timeNano: f.time * 1e9 }))))
      .filter((e): e is DockerEvent => e !== undefined),
  );

  it('never restarts a healthy running container and never lets an error escape', async () => {
    await checkAsync(
      fc.asyncProperty(events, async (evs) => {
        const engine = healthyEngine();
        const logged: { level: string; msg: string; fields?: LogFields }[] = [];
        const base = defaultSettings();
        const healer = new Healer({
          engine,
          settings: { ...base, namespace: NS, defaults: { ...base.defaults, secondsBetweenRestarts: 0, maxRestartsInFrame: 0, maxChecksToGiveUp: 0 } },
          log: recordingLogger(logged),
          notifier: { send: () => undefined, close: async () => undefined },
          journal: { append: () => undefined, saveBudget: () => undefined, deleteBudget: () => undefined },
          metrics: createHealMetrics(new MetricsRegistry()),
          serializer: new KeyedSerializer(),
          limiter: new Limiter(8),
          decodeLabels,
          self: { ids: [], shortId: null },
        });
        try {
          assert.ok(await healer.recheck('full'));
          for (const e of evs) healer.handleEvent(e); // must not throw
          await settle();
          const acted = engine.calls.filter((c) => /^(restart|start|stop|remove) /.test(c));
          assert.deepEqual(acted, [], `acted on forged events: ${JSON.stringify(evs.map((e) => [e.Action, e.Actor.Attributes.name]))}`);
          const errors = logged.filter((l) => l.level === 'error');
          assert.deepEqual(errors, [], 'an error escaped');
        } finally {
          await healer.stop(1000);
        }
      }),
      { numRuns: Math.max(100, Math.floor(RUNS / 5)) },
    );
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { COMPOSE_ONEOFF_LABEL, SWARM_TASK_LABEL } from '../heal/classify.js';
import { COMPOSE_DEPENDS_ON_LABEL, COMPOSE_PROJECT_LABEL as GRAPH_PROJECT_LABEL, COMPOSE_SERVICE_LABEL as GRAPH_SERVICE_LABEL } from '../heal/dependents/graph.js';
import { COMPOSE_PROJECT_LABEL, COMPOSE_REPLACE_LABEL, COMPOSE_SERVICE_LABEL } from '../dedupe/matcher.js';
import { JsonSyntaxError } from './json-stream.js';
import { isKeptLabel, keptLabels, ListingParser, ListingTooLargeError } from './listing.js';
import { ShapeError } from './shape.js';
import type { ContainerSummary } from './types.js';

const LIMITS = { maxRecordBytes: 1024 * 1024, maxRecords: 50_000 };

function parse(text: string | Buffer[], limits = LIMITS): ContainerSummary[] {
  const out: ContainerSummary[] = [];
  const p = new ListingParser(limits, (c) => out.push(c));
  for (const chunk of typeof text === 'string' ? [Buffer.from(text)] : text) p.write(chunk);
  p.end();
  return out;
}

const summary = { Id: 'abc', Names: ['/web'], Image: 'img', Created: 1, State: 'running', Status: 'Up', Labels: { a: 'b', 'com.docker.compose.service': 'web' }, Extra: { x: [1, 2] } };

test('a container is reduced to what Repairman keeps; null labels and names are empty', () => {
  const [c] = parse(JSON.stringify([summary]));
  assert.deepEqual(c, { Id: 'abc', Names: ['/web'], Created: 1, State: 'running', Status: 'Up', Labels: { 'com.docker.compose.service': 'web' } });
  assert.deepEqual(parse('[]'), []);
  assert.deepEqual(parse(JSON.stringify([{ Id: 'x', State: 'exited', Names: null, Labels: null }])), [{ Id: 'x', Names: [], Created: 0, State: 'exited', Status: '', Labels: {} }]);
  assert.deepEqual(parse(JSON.stringify([{ ...summary, Labels: { 'org.riotkit.repairman.x': 5, 'org.riotkit.repairman.y': 'ok' } }]))[0]!.Labels, { 'org.riotkit.repairman.y': 'ok' }, 'non-string values dropped');
  assert.deepEqual(parse(JSON.stringify([{ ...summary, Names: ['/a/b', '/b', '/c/b'] }]))[0]!.Names, ['/a/b', '/b'], 'link aliases after the first name dropped');
  assert.deepEqual(parse(JSON.stringify([{ ...summary, Names: ['/a/b'] }]))[0]!.Names, ['/a/b'], 'the first name when all look like aliases');
});

test('garbage is a ShapeError or JsonSyntaxError naming the spot', () => {
  assert.throws(() => parse('{}'), /not an array/);
  assert.throws(() => parse('5'), /not an array/);
  assert.throws(() => parse('[null]'), /containers\[0\] is not an object/);
  assert.throws(() => parse('[[]]'), /containers\[0\] is not an object/);
  assert.throws(() => parse(JSON.stringify([summary, { ...summary, Id: 5 }])), /containers\[1\]\.Id/);
  assert.throws(() => parse(JSON.stringify([{ ...summary, State: undefined }])), /State/);
  assert.throws(() => parse(JSON.stringify([{ ...summary, Names: '/web' }])), /Names/);
  assert.throws(() => parse(JSON.stringify([{ ...summary, Names: [{}] }])), /Names/);
  assert.throws(() => parse(JSON.stringify([{ ...summary, Names: [['/a']] }])), /Names/);
  assert.throws(() => parse(JSON.stringify([{ ...summary, Labels: 'x' }])), ShapeError);
  assert.throws(() => parse(JSON.stringify([{ ...summary, Labels: [] }])), ShapeError);
  assert.throws(() => parse(JSON.stringify([{ ...summary, Created: '1' }])), /Created/);
  assert.throws(() => parse(JSON.stringify([{ ...summary, Status: 1 }])), /Status/);
  assert.throws(() => parse('[{"Id":"x","State":"running"}'), JsonSyntaxError);
  assert.throws(() => parse('<html>'), JsonSyntaxError);
});

test('caps: one entry (with the blanks before it), and the number of entries', () => {
  const small = { maxRecordBytes: 200, maxRecords: 3 };
  const one = JSON.stringify({ Id: 'x', State: 'running' });
  assert.equal(parse(`[${Array(3).fill(one).join(',')}]`, small).length, 3);
  assert.throws(() => parse(`[${Array(4).fill(one).join(',')}]`, small), (e) => e instanceof ListingTooLargeError && /more than 3 containers/.test(e.message));
  assert.throws(() => parse(JSON.stringify([{ Id: 'x', State: 'running', Junk: 'y'.repeat(300) }]), small), /containers\[0\] takes more than 200 bytes/);
  assert.throws(() => parse(`[${one},${' '.repeat(300)}${one}]`, small), /containers\[1\] takes more than 200 bytes/);
  // Checked at each chunk, not only when the entry ends: a string that never ends is refused early.
  const p = new ListingParser(small, () => {});
  p.write(Buffer.from('[{"Id":"'));
  assert.throws(() => p.write(Buffer.alloc(300, 0x61)), ListingTooLargeError);
});

test('labels kept: Repairman\'s, compose\'s, Swarm\'s, the other autoheal tools\', and configured names', () => {
  for (const k of ['org.riotkit.repairman.enable_autoheal', 'com.docker.compose.project', 'com.docker.swarm.task.id', 'autoheal', 'autoheal.stop.timeout', 'deunhealth.restart.on.unhealthy']) {
    assert.ok(isKeptLabel(k), k);
  }
  for (const k of ['maintainer', 'org.opencontainers.image.source', 'autoheal.other', '__proto__', 'com.docker.composer']) assert.ok(!isKeptLabel(k), k);
  assert.ok(isKeptLabel('my.autoheal', ['my.autoheal']));
  assert.deepEqual(keptLabels({ a: '1', autoheal: 'true' }), { autoheal: 'true' });
});

const labelKey = fc.oneof(fc.constantFrom('autoheal', 'com.docker.compose.service', 'org.riotkit.repairman.heal_exited', 'x', '__proto__'), fc.string());
const container = fc.record({
  Id: fc.string(),
  Names: fc.array(fc.oneof(fc.string(), fc.constantFrom('/a', '/b/c')), { maxLength: 3 }),
  Created: fc.integer(),
  State: fc.constantFrom('running', 'exited', 'created'),
  Status: fc.string({ unit: 'binary' }),
  Labels: fc.option(fc.dictionary(labelKey, fc.oneof(fc.string({ unit: 'binary' }), fc.integer()), { maxKeys: 8 })),
  Other: fc.jsonValue(),
}, { requiredKeys: ['Id', 'State'] });

test('property: any chunking gives the same records as reducing JSON.parse\'s result', () => {
  fc.assert(
    fc.property(fc.array(container, { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 10 }), (list, cuts) => {
      const bytes = Buffer.from(JSON.stringify(list));
      const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
      const chunks: Buffer[] = [];
      let from = 0;
      for (const p of [...points, bytes.length]) {
        chunks.push(bytes.subarray(from, p));
        from = p;
      }
      const parsed = JSON.parse(bytes.toString()) as typeof list;
      const expected = parsed.map((c) => {
        const labels: Record<string, string> = {};
        for (const [k, v] of Object.entries(c.Labels ?? {})) if (typeof v === 'string' && isKeptLabel(k)) labels[k] = v;
        return { Id: c.Id, Names: keepNames(c.Names ?? []), Created: c.Created ?? 0, State: c.State, Status: c.Status ?? '', Labels: labels };
      });
      assert.deepEqual(parse(chunks), expected);
    }),
    { numRuns: 500 },
  );
});

/** The names the parser keeps: own names (one slash), and the first one whatever it is. */
function keepNames(names: string[]): string[] {
  const out: string[] = [];
  for (const n of names) if (n.lastIndexOf('/') <= 0 || out.length === 0) out.push(n);
  return out;
}

test('HostConfig: only a container: network mode is kept (the dependency graph), whatever the chunking', () => {
  const text = JSON.stringify([
    { Id: 'a', Names: ['/a'], State: 'running', HostConfig: { NetworkMode: 'container:0123abcd', Other: { NetworkMode: 'x' } } },
    { Id: 'b', Names: ['/b'], State: 'running', HostConfig: { NetworkMode: 'none' } },
    { Id: 'c', Names: ['/c'], State: 'running', HostConfig: null },
    { Id: 'd', Names: ['/d'], State: 'running', HostConfig: { Annotations: { NetworkMode: 'container:nested' } } },
  ]);
  for (const size of [1, 3, 7, text.length]) {
    const chunks: Buffer[] = [];
    for (let i = 0; i < text.length; i += size) chunks.push(Buffer.from(text.slice(i, i + size)));
    const out = parse(chunks);
    assert.deepEqual(out.map((c) => c.HostConfig ?? null), [{ NetworkMode: 'container:0123abcd' }, null, null, null], `chunks of ${size}`);
  }
});

test('labels kept: exactly those a decision reads of compose\'s and Swarm\'s (BENCHMARKS.md "Scale")', () => {
  const read = [
    COMPOSE_PROJECT_LABEL, COMPOSE_SERVICE_LABEL, COMPOSE_REPLACE_LABEL, COMPOSE_ONEOFF_LABEL, SWARM_TASK_LABEL,
    COMPOSE_DEPENDS_ON_LABEL, GRAPH_PROJECT_LABEL, GRAPH_SERVICE_LABEL,
  ];
  for (const k of read) assert.ok(isKeptLabel(k), k);
  for (const k of ['com.docker.compose.config-hash', 'com.docker.compose.project.working_dir', 'com.docker.compose.version', 'com.docker.swarm.service.name']) {
    assert.ok(!isKeptLabel(k), k);
  }
});

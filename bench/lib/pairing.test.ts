// The event pairing behind the reaction-time figures (`bash bench/run.sh selftest`).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spliceBetweenMarks, BEGIN_MARK, END_MARK } from '../report.js';
import { pairCrashes, pairUnhealthy, parseEventLine, type BenchEvent } from './pairing.js';

const MS = 1_000_000n;
function ev(id: string, action: string, ms: number, attributes: Record<string, string> = {}): BenchEvent {
  return { id, action, timeNano: 1_700_000_000_000n * MS + BigInt(Math.round(ms * 1e6)), attributes: { name: `c-${id}`, ...attributes } };
}

test('unhealthy -> kill is one trial per trigger, matched per container even when interleaved', () => {
  const p = pairUnhealthy([
    ev('a', 'health_status: unhealthy', 0),
    ev('b', 'health_status: unhealthy', 1),
    ev('b', 'kill', 4.5, { signal: '15' }),
    ev('a', 'kill', 12),
    ev('a', 'die', 13),
    ev('a', 'start', 50),
    ev('a', 'restart', 50.1),
    ev('a', 'health_status: healthy', 900),
    ev('a', 'health_status: unhealthy', 5000),
    ev('a', 'kill', 5007.25),
  ]);
  assert.deepEqual(
    p.trials.map((t) => [t.id, t.latencyMs, t.reaction]),
    [['a', 12, 'kill'], ['a', 7.25, 'kill'], ['b', 3.5, 'kill']],
  );
  assert.deepEqual(p.firstActions, { kill: 3 });
  assert.equal(p.unanswered, 0);
});

test('an unhealthy container that recovers or dies by itself is not a trial', () => {
  const p = pairUnhealthy([
    ev('a', 'health_status: unhealthy', 0),
    ev('a', 'health_status: healthy', 800),
    ev('b', 'health_status: unhealthy', 0),
    ev('b', 'die', 20, { exitCode: '1' }),
    ev('c', 'health_status: unhealthy', 0),
  ]);
  assert.equal(p.trials.length, 0);
  assert.equal(p.unanswered, 2); // a recovered, c still pending
  assert.deepEqual(p.firstActions, { die: 1 });
});

test('events out of order are sorted by engine time', () => {
  const p = pairUnhealthy([ev('a', 'kill', 10), ev('a', 'health_status: unhealthy', 2)]);
  assert.equal(p.trials[0]?.latencyMs, 8);
});

test('crash: die with a non-zero code to the next start; zero codes and killed containers do not count', () => {
  const p = pairCrashes([
    ev('a', 'start', 0),
    ev('a', 'die', 2000, { exitCode: '3' }),
    ev('a', 'start', 2009),
    ev('a', 'die', 4000, { exitCode: '0' }),
    ev('a', 'start', 4100),
    ev('b', 'kill', 0, { signal: '9' }),
    ev('b', 'die', 1, { exitCode: '137' }),
    ev('b', 'start', 30),
    ev('c', 'die', 10, { exitCode: '139' }),
  ]);
  assert.deepEqual(p.trials.map((t) => [t.id, t.latencyMs]), [['a', 9]]);
  assert.equal(p.unanswered, 1); // c never started again
});

test('parseEventLine keeps every digit of timeNano and rejects other lines', () => {
  const line = '{"status":"kill","id":"abc","Type":"container","Action":"kill","Actor":{"ID":"abc","Attributes":{"name":"x","signal":"15"}},"scope":"local","time":1795767566,"timeNano":1795767566178612465}';
  const e = parseEventLine(line);
  assert.ok(e);
  assert.equal(e.timeNano, 1795767566178612465n);
  assert.equal(e.action, 'kill');
  assert.equal(e.attributes.signal, '15');
  assert.equal(parseEventLine('not json'), null);
  assert.equal(parseEventLine('{"Type":"network","Action":"connect","Actor":{"ID":"n"},"timeNano":1}'), null);
  assert.equal(parseEventLine('{"Action":"kill"}'), null);
});

test('BENCHMARKS.md: the generated block replaces only what is between its markers', () => {
  const doc = `# Benchmarks\n\nintro by someone else\n\n${BEGIN_MARK}\n\nold\n\n${END_MARK}\n\n## Another section\n`;
  const out = spliceBetweenMarks(doc, 'new table\n');
  assert.equal(out, `# Benchmarks\n\nintro by someone else\n\n${BEGIN_MARK}\n\nnew table\n\n${END_MARK}\n\n## Another section\n`);
  assert.equal(spliceBetweenMarks(out, 'newer'), out.replace('new table', 'newer'));
  const appended = spliceBetweenMarks('# Benchmarks\n\n## Client RSS\n', 'T');
  assert.equal(appended, `# Benchmarks\n\n## Client RSS\n\n${BEGIN_MARK}\n\nT\n\n${END_MARK}\n`);
});

test("Podman: the turn is the failing check's exec_died after a health event; its stale health event and a check during the restart are not trials", () => {
  const p = pairUnhealthy([
    ev('a', 'health_status', 0), // check 1 starts (reports the status before it)
    ev('a', 'exec_died', 40, { containerExitCode: '0' }),
    ev('a', 'health_status', 1000), // check 2 starts
    ev('a', 'exec_died', 1040, { containerExitCode: '1' }), // ... and fails: unhealthy now
    ev('a', 'restart', 1250), // Repairman's restart, 210 ms later
    ev('a', 'exec_died', 1260, { containerExitCode: '137' }), // a check cut by the stop: no health event before it
    ev('a', 'stop', 1300),
    ev('a', 'die', 1310, { exitCode: '137' }),
    ev('a', 'start', 1700),
  ], 'podman');
  assert.deepEqual(p.trials.map((t) => [t.id, t.latencyMs, t.reaction]), [['a', 210, 'restart']]);
  assert.equal(p.unanswered, 0);
  // The same events read as Docker's: no `health_status: unhealthy`, no trial.
  assert.equal(pairUnhealthy(p.trials.length ? [ev('a', 'exec_died', 0, { containerExitCode: '1' })] : []).trials.length, 0);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, createProcessLogger, type LoggerOptions } from './log.js';

function sink(isTTY = false): { out: LoggerOptions['out']; lines: () => string[] } {
  const chunks: string[] = [];
  const out = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  }) as LoggerOptions['out'];
  out.isTTY = isTTY;
  return { out, lines: () => chunks.join('').split('\n').filter(Boolean) };
}

const fixed = (): Date => new Date('2024-05-01T12:00:00.000Z');

test('JSON when not a terminal: one object per line, with time, level, msg and fields', () => {
  const s = sink(false);
  const log = createLogger({ out: s.out, now: fixed });
  log.info('container restarted', { container: 'web', reason: 'unhealthy' });
  log.child({ component: 'healer' }).warn('gave up', { n: 3 });
  const [a, b] = s.lines().map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(a, { time: '2024-05-01T12:00:00.000Z', level: 'info', msg: 'container restarted', container: 'web', reason: 'unhealthy' });
  assert.deepEqual(b, { time: '2024-05-01T12:00:00.000Z', level: 'warn', msg: 'gave up', component: 'healer', n: 3 });
});

test('text on a terminal: one readable line per event, even with line breaks', () => {
  const s = sink(true);
  const log = createLogger({ out: s.out, now: fixed });
  log.error('engine said:\nno such container', { container: 'web 1', code: 404, ok: 'x' });
  const lines = s.lines();
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d ERROR engine said: ⏎ no such container container="web 1" code=404 ok=x$/);
});

test('levels: info by default, debug with --debug', () => {
  const s = sink();
  const log = createLogger({ out: s.out });
  log.debug('hidden');
  log.info('shown');
  assert.equal(s.lines().length, 1);
  const d = sink();
  createProcessLogger({ debug: true }, d.out).debug('shown');
  createProcessLogger({ debug: false }, d.out).debug('hidden');
  assert.equal(d.lines().length, 1);
});

test('secrets never reach a line: URLs in text, secret-named fields, errors, nested values', () => {
  for (const isTTY of [false, true]) {
    const s = sink(isTTY);
    const log = createLogger({ out: s.out });
    const url = 'https://hooks.slack.com/services/T0/B0/SECRET1';
    log.warn(`delivery to ${url} failed`, {
      error: new Error(`POST ${url} -> 500`),
      notifyUrls: [url, 'https://b.example/SECRET2'],
      notify_url: url,
      token: 'SECRET3',
      headers: { Authorization: 'Bearer SECRET4' },
      nested: { deep: [{ target: `see ${url}` }] },
      password: 'SECRET5',
    });
    const text = s.lines().join('\n');
    assert.ok(!text.includes('SECRET'), text);
    assert.ok(text.includes('https://hooks.slack.com/***'), text);
  }
});

test('logging never throws: circular objects, BigInt, throwing getters, closed streams', () => {
  const s = sink();
  const log = createLogger({ out: s.out, now: fixed });
  const circular: Record<string, unknown> = { a: 1 };
  circular.self = circular;
  const shared = { x: 1 };
  log.info('odd fields', { circular, big: 10n, pair: [shared, shared], date: new Date(0), fn: () => 1 });
  const line = JSON.parse(s.lines()[0]!) as Record<string, unknown>;
  assert.deepEqual(line.circular, { a: 1, self: '[circular]' });
  assert.equal(line.big, '10');
  assert.deepEqual(line.pair, [{ x: 1 }, { x: 1 }]);
  assert.equal(line.date, '1970-01-01T00:00:00.000Z');
  const getter = {};
  Object.defineProperty(getter, 'boom', { enumerable: true, get: () => { throw new Error('nope'); } });
  log.info('getter', { getter });
  assert.match(s.lines()[1]!, /"logError"/);
  const closed = new Writable({ write: () => { throw new Error('EPIPE'); } });
  assert.doesNotThrow(() => createLogger({ out: closed }).info('x'));
});

test('text format (a terminal): control characters from containers are shown, never sent raw', () => {
  let out = '';
  const log = createLogger({ out: { write: (s: string) => ((out += s), true) } as never, format: 'text' });
  log.warn('label problem \u001b]0;title\u0007', { label: 'org.riotkit.repairman.\u001b[2Jx', value: '\u009b31m' });
  // eslint-disable-next-line no-control-regex
  assert.doesNotMatch(out, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  assert.match(out, /\\u001b\[2Jx/);
});

test('text log: a date held in a …Ms field reads as a time, a duration stays a number (issue 22)', () => {
  const s = sink(true);
  const log = createLogger({ out: s.out, now: fixed });
  log.warn('Maximum restarts reached', { untilMs: 1796271750245, delayMs: 15000 });
  const line = s.lines()[0]!;
  assert.doesNotMatch(line, /untilMs=1796271750245/);
  assert.match(line, / until=2026-\d\d-\d\d \d\d:\d\d:\d\d\.245[+-]\d\d:\d\d delayMs=15000$/);
});

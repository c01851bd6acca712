import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_COUNT,
  MAX_SECONDS,
  countParser,
  parseAnyText,
  parseBoolean,
  parseHttpAddress,
  parseHttpPrefix,
  parseNonEmpty,
  parseNotifyLevel,
  parseNotifyUrls,
  parsePort,
  secondsParser,
  type Parsed,
} from './parsers.js';

const value = <T>(p: Parsed<T>): T => {
  assert.ok(p.ok, `expected ok, got ${JSON.stringify(p)}`);
  return p.value;
};
const bad = <T>(p: Parsed<T>): void => assert.equal(p.ok, false, `expected a failure, got ${JSON.stringify(p)}`);

test('booleans: every spelling, any case, spaces ignored', () => {
  for (const t of ['true', 'TRUE', 'True', 'yes', 'YES', 'y', 'Y', '1', 'on', 'ON', ' true ', '\tyes\n']) assert.equal(value(parseBoolean(t)), true, t);
  for (const f of ['false', 'FALSE', 'no', 'No', 'n', 'N', '0', 'off', 'OFF', '  off  ']) assert.equal(value(parseBoolean(f)), false, f);
  for (const x of ['', ' ', 'maybe', 'tru', 'yes!', '2', '-1', '01', 'truee', 'enabled', 't', 'f', 'nope', 'o n']) bad(parseBoolean(x));
});

test('seconds: integers and durations', () => {
  const p = secondsParser();
  assert.equal(value(p('0')), 0);
  assert.equal(value(p('15')), 15);
  assert.equal(value(p(' 300 ')), 300);
  assert.equal(value(p('007')), 7);
  assert.equal(value(p('90s')), 90);
  assert.equal(value(p('5m')), 300);
  assert.equal(value(p('1h')), 3600);
  assert.equal(value(p('1h30m')), 5400);
  assert.equal(value(p('1h30m15s')), 5415);
  assert.equal(value(p('2m30s')), 150);
  assert.equal(value(p('1H30M')), 5400);
  assert.equal(value(p('0s')), 0);
  assert.equal(value(p(String(MAX_SECONDS))), MAX_SECONDS);
});

test('seconds: negatives, fractions, junk, empty and overflow are refused', () => {
  const p = secondsParser();
  for (const x of ['', '  ', '-1', '-5m', '1.5', '0.5s', '1e3', '+5', '5 m', 'm', 's', 'h', '1d', '30m1h', '1s1m', '5ms', 'abc', '0x10', '١٢', 'Infinity', 'NaN']) bad(p(x));
  bad(p(String(MAX_SECONDS + 1)));
  bad(p('99999999999999999999999'));
  bad(p('999999h'));
  bad(p('9999999999999999999999h'));
});

test('seconds: a minimum is enforced (interval >= 1)', () => {
  const p = secondsParser({ min: 1 });
  bad(p('0'));
  bad(p('0s'));
  assert.equal(value(p('1')), 1);
});

test('counts: integers only, in range', () => {
  const p = countParser();
  assert.equal(value(p('0')), 0);
  assert.equal(value(p(' 2 ')), 2);
  assert.equal(value(p(String(MAX_COUNT))), MAX_COUNT);
  for (const x of ['', '-1', '1.0', '5m', '90s', 'two', String(MAX_COUNT + 1), '1e2']) bad(p(x));
  const parallel = countParser({ min: 1, max: 256 });
  bad(parallel('0'));
  bad(parallel('257'));
  assert.equal(value(parallel('256')), 256);
});

test('notify level: any case, ERROR as WARNING', () => {
  assert.equal(value(parseNotifyLevel('debug')), 'DEBUG');
  assert.equal(value(parseNotifyLevel('Info')), 'INFO');
  assert.equal(value(parseNotifyLevel(' WARNING ')), 'WARNING');
  assert.equal(value(parseNotifyLevel('warn')), 'WARNING');
  assert.equal(value(parseNotifyLevel('error')), 'WARNING');
  assert.equal(value(parseNotifyLevel('ERROR')), 'WARNING');
  for (const x of ['', 'critical', 'trace', 'INFOO', '1']) bad(parseNotifyLevel(x));
});

test('notify URLs: commas or spaces, http(s) only, errors masked', () => {
  assert.deepEqual(value(parseNotifyUrls('')), []);
  assert.deepEqual(value(parseNotifyUrls('  ')), []);
  assert.deepEqual(value(parseNotifyUrls('https://hooks.slack.com/services/T/B/x')), ['https://hooks.slack.com/services/T/B/x']);
  assert.deepEqual(value(parseNotifyUrls('https://a.example/1, http://b.example:8065/hooks/2')), ['https://a.example/1', 'http://b.example:8065/hooks/2']);
  assert.deepEqual(value(parseNotifyUrls('https://a.example/1 https://b.example/2,,https://c.example/3\n')), ['https://a.example/1', 'https://b.example/2', 'https://c.example/3']);
  for (const x of ['ftp://x.example/secret', 'hooks.slack.com/services/T/B/secret', 'https://ok.example/1,mailto:secret@x', 'https://', 'slack://token/secret']) {
    const r = parseNotifyUrls(x);
    assert.equal(r.ok, false, x);
    if (!r.ok) assert.ok(!r.reason?.includes('secret'), `reason leaks the secret: ${r.reason}`);
  }
  const r = parseNotifyUrls('ftp://files.example/tok3n');
  assert.ok(!r.ok && r.reason?.includes('ftp://files.example/***'), JSON.stringify(r));
});

test('port: 0..65535', () => {
  assert.equal(value(parsePort('0')), 0);
  assert.equal(value(parsePort('8080')), 8080);
  assert.equal(value(parsePort('65535')), 65535);
  for (const x of ['65536', '-1', '80.5', 'http', '', '1m']) bad(parsePort(x));
});

test('http prefix: literal, leading slash added, trailing slashes removed', () => {
  assert.equal(value(parseHttpPrefix('')), '');
  assert.equal(value(parseHttpPrefix('/')), '');
  assert.equal(value(parseHttpPrefix('//')), '');
  assert.equal(value(parseHttpPrefix('/SgbaCaVyewq')), '/SgbaCaVyewq');
  assert.equal(value(parseHttpPrefix('SgbaCaVyewq')), '/SgbaCaVyewq');
  assert.equal(value(parseHttpPrefix('/a/b/')), '/a/b');
  assert.equal(value(parseHttpPrefix('a/b//')), '/a/b');
  assert.equal(value(parseHttpPrefix('/%7Euser')), '/%7Euser');
  for (const x of ['/a b', '/a?b', '/a#b', '/a\u0000', '/a\tb']) bad(parseHttpPrefix(x));
});

test('http address: IPs and host names', () => {
  for (const ok of ['0.0.0.0', '127.0.0.1', '::', '::1', '[::1]', 'localhost', 'repairman.internal', 'host-1']) assert.ok(parseHttpAddress(ok).ok, ok);
  for (const x of ['', ' ', 'http://x', 'a b', '-bad', 'x..y', '1.2.3.4:80']) bad(parseHttpAddress(x));
});

test('namespace and db path', () => {
  assert.equal(value(parseAnyText('')), '');
  assert.equal(value(parseAnyText('my project ')), 'my project ');
  assert.equal(value(parseNonEmpty(':memory:')), ':memory:');
  assert.equal(value(parseNonEmpty('/data/repairman.db')), '/data/repairman.db');
  bad(parseNonEmpty(''));
  bad(parseNonEmpty('   '));
});

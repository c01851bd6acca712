import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { intParam, parseTarget, QueryError, single } from './request-url.js';

function parsed(url: string) {
  const r = parseTarget(url);
  assert.ok(r.ok, `${url}: ${r.ok ? '' : r.message}`);
  return r.target;
}

function refused(url: string | undefined): string {
  const r = parseTarget(url);
  assert.ok(!r.ok, `${String(url)} should be refused`);
  return r.message;
}

describe('parseTarget', () => {
  it('splits and decodes path and query', () => {
    const t = parsed('/p/a%20b?limit=5&x=a+b&x=%C3%A9&flag#frag');
    assert.equal(t.rawPath, '/p/a%20b');
    assert.equal(t.path, '/p/a b');
    assert.deepEqual(t.query.get('limit'), ['5']);
    assert.deepEqual(t.query.get('x'), ['a b', 'é']);
    assert.deepEqual(t.query.get('flag'), ['']);
    assert.equal(parsed('/p/a+b').path, '/p/a+b', '+ is a space only in the query');
    assert.equal(parsed('/?').query.size, 0);
    assert.equal(parsed('/?&&').query.size, 0);
  });

  it('refuses malformed percent-encoding and bytes that are not UTF-8', () => {
    for (const url of ['/%FF', '/%E2%82', '/%zz', '/%', '/a%2', '/%C0%AF', '/%ED%A0%80', '/?limit=%FF', '/?%FF=1', '/?a=%']) {
      assert.match(refused(url), /percent-encoded UTF-8/, url);
    }
    assert.match(refused('/%00'), /NUL/);
  });

  it('refuses raw non-ASCII, control characters, spaces and non-origin targets', () => {
    for (const url of ['/\u00ff', '/é', '/a b', '/\t', '/\u0000', '/\u007f']) assert.match(refused(url), /not percent-encoded/, JSON.stringify(url));
    assert.match(refused('http://x/'), /start with \//);
    assert.match(refused('*'), /start with \//);
    refused('');
    refused(undefined);
  });
});

describe('query parameters', () => {
  const q = (s: string) => parsed(`/?${s}`).query;
  const limit = { min: 1, max: 1000, def: 20 };

  it('reads a whole number in range, the default when absent', () => {
    assert.equal(intParam(q(''), 'limit', limit), 20);
    assert.equal(intParam(q('limit=1'), 'limit', limit), 1);
    assert.equal(intParam(q('limit=1000'), 'limit', limit), 1000);
    assert.equal(intParam(q('limit=007'), 'limit', limit), 7);
    assert.equal(intParam(q('other=1'), 'limit', { min: 1, max: 5 }), undefined);
  });

  it('refuses out of range, signs, fractions, exponents, spaces, empty and repeated values', () => {
    for (const s of ['limit=0', 'limit=1001', 'limit=-1', 'limit=%2B1', 'limit=abc', 'limit=1.5', 'limit=1e3', 'limit=', 'limit', 'limit=+1', 'limit=%201', 'limit=1%20', 'limit=0x10', 'limit=12345678901234567', 'limit=1&limit=2', 'limit=%EF%BC%91']) {
      assert.throws(() => intParam(q(s), 'limit', limit), (e: unknown) => e instanceof QueryError && e.param === 'limit' && /limit/.test(e.message), s);
    }
  });

  it('shows a long bad value shortened in the message', () => {
    assert.throws(() => intParam(q(`limit=${'x'.repeat(500)}`), 'limit', limit), (e: unknown) => e instanceof Error && e.message.length < 200);
  });

  it('single() refuses a repeated parameter', () => {
    assert.equal(single(q('c=a'), 'c'), 'a');
    assert.equal(single(q(''), 'c'), undefined);
    assert.throws(() => single(q('c=a&c=b'), 'c'), /given 2 times/);
  });
});

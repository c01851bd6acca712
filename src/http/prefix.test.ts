import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizePrefix, relativeBase, routeInPrefix } from './prefix.js';

describe('normalizePrefix', () => {
  it('keeps one leading slash and no trailing one', () => {
    assert.equal(normalizePrefix(''), '');
    assert.equal(normalizePrefix('/'), '');
    assert.equal(normalizePrefix('///'), '');
    assert.equal(normalizePrefix('/p'), '/p');
    assert.equal(normalizePrefix('/p/'), '/p');
    assert.equal(normalizePrefix('p'), '/p');
    assert.equal(normalizePrefix(' /p/ '), '/p');
    assert.equal(normalizePrefix('/a/b/'), '/a/b');
  });
});

describe('routeInPrefix', () => {
  it('maps the root with and without a trailing slash', () => {
    assert.equal(routeInPrefix('/p', '/p'), '/');
    assert.equal(routeInPrefix('/p/', '/p'), '/');
    assert.equal(routeInPrefix('/p/', '/p/'), '/');
    assert.equal(routeInPrefix('/', ''), '/');
  });

  it('maps sub-routes, tolerating one trailing slash', () => {
    assert.equal(routeInPrefix('/p/healthz', '/p'), '/healthz');
    assert.equal(routeInPrefix('/p/healthz/', '/p'), '/healthz');
    assert.equal(routeInPrefix('/p/api/events', '/p'), '/api/events');
    assert.equal(routeInPrefix('/healthz', ''), '/healthz');
    assert.equal(routeInPrefix('/p//healthz', '/p'), '//healthz');
  });

  it('treats regex characters as text', () => {
    const p = '/a.b(c)+';
    assert.equal(routeInPrefix('/a.b(c)+', p), '/');
    assert.equal(routeInPrefix('/a.b(c)+/metrics', p), '/metrics');
    for (const path of ['/aXb(c)+', '/a.b(c)', '/a.bc', '/a.b(c)++', '/a.b(c)+x', '/a.b(c)+x/metrics', '/A.B(C)+']) {
      assert.equal(routeInPrefix(path, p), null, path);
    }
    assert.equal(routeInPrefix('/a*b', '/a*b'), '/');
    assert.equal(routeInPrefix('/aab', '/a*b'), null);
    assert.equal(routeInPrefix('/a?b', '/a?b'), '/');
    assert.equal(routeInPrefix('/ab', '/a?b'), null);
    assert.equal(routeInPrefix('/x$^[]{}|\\', '/x$^[]{}|\\'), '/');
  });

  it('refuses paths outside the prefix or only starting like it', () => {
    assert.equal(routeInPrefix('/', '/p'), null);
    assert.equal(routeInPrefix('/pp', '/p'), null);
    assert.equal(routeInPrefix('/pp/healthz', '/p'), null);
    assert.equal(routeInPrefix('/x/p/healthz', '/p'), null);
    assert.equal(routeInPrefix('', '/p'), null);
  });
});

describe('relativeBase', () => {
  it('points at the prefix root from either form of the root', () => {
    assert.equal(relativeBase('/'), './');
    assert.equal(relativeBase('/p/'), './');
    assert.equal(relativeBase('/p'), './p/');
    assert.equal(relativeBase('/a/b'), './b/');
    assert.equal(relativeBase('/a.b(c)+'), './a.b(c)+/');
    assert.equal(relativeBase('/a:b'), './a:b/', 'a colon never reads as a scheme');
    assert.equal(new URL(`${relativeBase('/x/a%20b')}api/containers`, 'http://h/x/a%20b').pathname, '/x/a%20b/api/containers');
    assert.equal(new URL(`${relativeBase('/x/a%20b/')}api/containers`, 'http://h/x/a%20b/').pathname, '/x/a%20b/api/containers');
  });
});

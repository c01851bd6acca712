import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectHost, instanceRootUrl } from './address.js';

describe('connectHost', () => {
  it('reaches wildcard binds over loopback and brackets IPv6', () => {
    assert.equal(connectHost('0.0.0.0'), '127.0.0.1');
    assert.equal(connectHost(''), '127.0.0.1');
    assert.equal(connectHost('::'), '[::1]');
    assert.equal(connectHost('::1'), '[::1]');
    assert.equal(connectHost('fe80::1'), '[fe80::1]');
    assert.equal(connectHost('10.0.0.5'), '10.0.0.5');
    assert.equal(connectHost('repairman.local'), 'repairman.local');
  });
});

describe('instanceRootUrl', () => {
  it('builds the root URL with the literal prefix, encoded where a path needs it', () => {
    assert.equal(instanceRootUrl({ httpAddress: '0.0.0.0', httpPort: 8080, httpPrefix: '' }), 'http://127.0.0.1:8080/');
    assert.equal(instanceRootUrl({ httpAddress: '0.0.0.0', httpPort: 8080, httpPrefix: '/SgbaCaVyewq/' }), 'http://127.0.0.1:8080/SgbaCaVyewq/');
    assert.equal(instanceRootUrl({ httpAddress: '::', httpPort: 1, httpPrefix: 'a.b(c)+' }), 'http://[::1]:1/a.b(c)+/');
    assert.equal(instanceRootUrl({ httpAddress: '127.0.0.1', httpPort: 1, httpPrefix: '/a b/?#%' }), 'http://127.0.0.1:1/a%20b/%3F%23%25/');
    assert.equal(new URL(instanceRootUrl({ httpAddress: '127.0.0.1', httpPort: 1, httpPrefix: '/x:y@z' })).pathname, '/x:y@z/');
  });
});

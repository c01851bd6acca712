import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prefersHtml } from './server.js';

describe('prefersHtml', () => {
  it('gives the page to browsers and JSON to scripts', () => {
    assert.equal(prefersHtml('text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8'), true);
    assert.equal(prefersHtml('text/html'), true);
    assert.equal(prefersHtml('TEXT/HTML; charset=utf-8'), true);
    assert.equal(prefersHtml(undefined), false);
    assert.equal(prefersHtml(''), false);
    assert.equal(prefersHtml('*/*'), false);
    assert.equal(prefersHtml('application/json'), false);
    assert.equal(prefersHtml('application/json, text/html;q=0.5'), false);
    assert.equal(prefersHtml('application/json, text/html'), false, 'a tie goes to the original JSON');
    assert.equal(prefersHtml('text/html;q=0'), false);
    assert.equal(prefersHtml('text/html;q=abc'), false);
    assert.equal(prefersHtml('application/json;q=0.1, text/html'), true);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MetricsRegistry } from '../metrics/registry.js';
import { HttpMetrics } from './http-metrics.js';

describe('HttpMetrics', () => {
  it('counts requests by route and status, and samples process figures on demand', () => {
    const reg = new MetricsRegistry();
    const m = new HttpMetrics(reg, '1.2.3');
    m.observe('/healthz', 200);
    m.observe('/healthz', 200);
    m.observe('unmatched', 404);
    m.sample(10_000, 4_400);
    assert.equal(reg.get('repairman_http_requests_total', { route: '/healthz', status: '200' }), 2);
    assert.equal(reg.get('repairman_http_requests_total', { route: 'unmatched', status: '404' }), 1);
    assert.equal(reg.get('repairman_uptime_seconds'), 6);
    assert.ok((reg.get('repairman_process_resident_memory_bytes') ?? 0) > 1_000_000);
    assert.ok((reg.get('repairman_process_heap_used_bytes') ?? 0) > 0);
    assert.equal(reg.get('repairman_build_info', { version: '1.2.3' }), 1);
    const text = reg.render();
    assert.match(text, /^# TYPE repairman_http_requests_total counter$/m);
    assert.match(text, /^repairman_http_requests_total\{route="\/healthz",status="200"\} 2$/m);
  });

  it('shares the registry with a second server without duplicating families', () => {
    const reg = new MetricsRegistry();
    new HttpMetrics(reg, 'a').observe('/', 200);
    new HttpMetrics(reg, 'a').observe('/', 200);
    assert.equal(reg.get('repairman_http_requests_total', { route: '/', status: '200' }), 2);
    assert.equal((reg.render().match(/# TYPE repairman_http_requests_total/g) ?? []).length, 1);
  });
});

// Metrics the HTTP layer adds to the app's registry: its own request counts and process figures
// sampled when /metrics is scraped. Route labels are the fixed route names (never the raw path, so a
// scanner cannot blow up the series count) and no container id ever becomes a label.
import type { MetricsRegistry } from '../metrics/registry.js';

export const ROUTE_LABELS = ['/', '/healthz', '/metrics', '/api/containers', '/api/events', '/api/explain', 'unmatched', 'invalid'] as const;
export type RouteLabel = (typeof ROUTE_LABELS)[number];

export class HttpMetrics {
  private readonly requests;
  private readonly rss;
  private readonly heap;
  private readonly uptime;
  private readonly buildInfo;

  constructor(registry: MetricsRegistry, private readonly version: string) {
    this.requests = registry.counter('repairman_http_requests_total', 'HTTP requests answered, by route and status code.');
    this.rss = registry.gauge('repairman_process_resident_memory_bytes', 'Resident memory of the Repairman process, in bytes.');
    this.heap = registry.gauge('repairman_process_heap_used_bytes', 'V8 heap in use, in bytes.');
    this.uptime = registry.gauge('repairman_uptime_seconds', 'Seconds since Repairman started.');
    this.buildInfo = registry.gauge('repairman_build_info', 'Always 1; the version is in the label.');
  }

  observe(route: RouteLabel, status: number): void {
    this.requests.inc({ route, status: String(status) });
  }

  /** Refresh the sampled gauges just before a scrape. */
  sample(nowMs: number, startedAtMs: number): void {
    const mem = process.memoryUsage();
    this.rss.set(mem.rss);
    this.heap.set(mem.heapUsed);
    this.uptime.set(Math.max(0, Math.round((nowMs - startedAtMs) / 1000)));
    this.buildInfo.set(1, { version: this.version });
  }
}

// A tiny Prometheus text-format registry. Counters and gauges with fixed label names; enough for
// Repairman's dozen metrics without a dependency (prom-client's import costs RSS for features we do
// not use: default process metrics, histograms with buckets, aggregation).

type Labels = Record<string, string>;

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  values: Map<string, { labels: Labels; value: number }>;
}

function key(labels: Labels): string {
  return Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(',');
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

export class MetricsRegistry {
  private readonly families = new Map<string, Family>();
  private readonly collectors: (() => void)[] = [];

  /** fn runs just before every render: for values sampled at scrape time (a client's call counter). */
  onCollect(fn: () => void): void {
    this.collectors.push(fn);
  }

  private family(name: string, help: string, type: Family['type']): Family {
    let f = this.families.get(name);
    if (!f) {
      if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new Error(`bad metric name ${name}`);
      f = { name, help, type, values: new Map() };
      this.families.set(name, f);
    }
    return f;
  }

  counter(name: string, help: string): { inc(labels?: Labels, by?: number): void } {
    const f = this.family(name, help, 'counter');
    return {
      inc: (labels: Labels = {}, by = 1) => {
        const k = key(labels);
        const cur = f.values.get(k);
        if (cur) cur.value += by;
        else f.values.set(k, { labels: { ...labels }, value: by });
      },
    };
  }

  /** clear() drops every series: for gauges rebuilt at each scrape, so a series that no longer applies disappears. */
  gauge(name: string, help: string): { set(value: number, labels?: Labels): void; clear(): void } {
    const f = this.family(name, help, 'gauge');
    return {
      set: (value: number, labels: Labels = {}) => {
        f.values.set(key(labels), { labels: { ...labels }, value });
      },
      clear: () => f.values.clear(),
    };
  }

  /** Current value of one series (for tests and the status page). */
  get(name: string, labels: Labels = {}): number | undefined {
    return this.families.get(name)?.values.get(key(labels))?.value;
  }

  render(): string {
    for (const fn of this.collectors) fn();
    const out: string[] = [];
    for (const f of this.families.values()) {
      out.push(`# HELP ${f.name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
      out.push(`# TYPE ${f.name} ${f.type}`);
      for (const { labels, value } of f.values.values()) {
        const names = Object.keys(labels).sort();
        const l = names.length ? `{${names.map((n) => `${n}="${escapeLabel(labels[n] ?? '')}"`).join(',')}}` : '';
        out.push(`${f.name}${l} ${formatValue(value)}`);
      }
    }
    return out.join('\n') + '\n';
  }
}

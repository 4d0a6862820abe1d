/**
 * A small Prometheus registry (text exposition format 0.0.4): counters, gauges and histograms
 * with labels. Enough for /metrics without another dependency.
 */
type Labels = Record<string, string>;

const key = (l: Labels) => JSON.stringify(Object.entries(l).sort());
const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const fmt = (l: Labels) => {
  const e = Object.entries(l);
  return e.length ? `{${e.map(([k, v]) => `${k}="${esc(v)}"`).join(',')}}` : '';
};

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  values: Map<string, { labels: Labels; value: number; buckets?: number[]; sum?: number; count?: number }>;
  bounds?: number[];
  collect?: () => Array<{ labels: Labels; value: number }>;
}

export class Metrics {
  private fams = new Map<string, Family>();

  private fam(name: string, help: string, type: Family['type'], bounds?: number[]): Family {
    let f = this.fams.get(name);
    if (!f) {
      f = { name, help, type, values: new Map(), bounds };
      this.fams.set(name, f);
    }
    return f;
  }

  inc(name: string, help: string, labels: Labels = {}, by = 1): void {
    const f = this.fam(name, help, 'counter');
    const k = key(labels);
    const v = f.values.get(k) ?? { labels, value: 0 };
    v.value += by;
    f.values.set(k, v);
  }

  set(name: string, help: string, labels: Labels, value: number): void {
    const f = this.fam(name, help, 'gauge');
    f.values.set(key(labels), { labels, value });
  }

  /** A gauge computed at scrape time. */
  gauge(name: string, help: string, collect: () => Array<{ labels: Labels; value: number }>): void {
    const f = this.fam(name, help, 'gauge');
    f.collect = collect;
  }

  observe(name: string, help: string, labels: Labels, value: number, bounds = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]): void {
    const f = this.fam(name, help, 'histogram', bounds);
    const k = key(labels);
    const v = f.values.get(k) ?? { labels, value: 0, buckets: new Array(bounds.length).fill(0), sum: 0, count: 0 };
    for (let i = 0; i < f.bounds!.length; i++) if (value <= f.bounds![i]) v.buckets![i]++;
    v.sum! += value;
    v.count!++;
    f.values.set(k, v);
  }

  /** Current value of a counter or gauge (tests, status). */
  get(name: string, labels: Labels = {}): number | undefined {
    return this.fams.get(name)?.values.get(key(labels))?.value;
  }

  text(): string {
    const out: string[] = [];
    for (const f of this.fams.values()) {
      out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
      if (f.collect) for (const s of f.collect()) out.push(`${f.name}${fmt(s.labels)} ${s.value}`);
      for (const v of f.values.values()) {
        if (f.type !== 'histogram') {
          out.push(`${f.name}${fmt(v.labels)} ${v.value}`);
          continue;
        }
        f.bounds!.forEach((b, i) => out.push(`${f.name}_bucket${fmt({ ...v.labels, le: String(b) })} ${v.buckets![i]}`));
        out.push(`${f.name}_bucket${fmt({ ...v.labels, le: '+Inf' })} ${v.count}`);
        out.push(`${f.name}_sum${fmt(v.labels)} ${v.sum}`, `${f.name}_count${fmt(v.labels)} ${v.count}`);
      }
    }
    return out.join('\n') + '\n';
  }
}

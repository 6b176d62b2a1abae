import { TidemarkSdkError } from '../errors';

/** Label values as the collector takes them (stored as strings). */
export type Labels = Record<string, string | number | boolean>;
export type MetricType = 'counter' | 'gauge' | 'histogram';

/** One metric sample in the collector's wire format. */
export interface Sample {
  name: string;
  type: MetricType;
  value: number;
  labels: Record<string, string>;
  timestamp: number;
}

/** The collector's rules (packages/collector/src/signals/metrics.ts); checked here so a bad name fails at the call site's onError, not as a rejected row later. */
export const METRIC_NAME = /^[A-Za-z_:][A-Za-z0-9_:.]{0,199}$/;
export const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/;
const MAX_LABELS = 32;

export interface Counter {
  /** Adds 1, `value`, or 1/`value` to the series of `labels`. Counters only go up. */
  inc(value?: number): void;
  inc(labels: Labels, value?: number): void;
}

export interface Gauge {
  set(value: number): void;
  set(labels: Labels, value: number): void;
  inc(value?: number): void;
  inc(labels: Labels, value?: number): void;
  dec(value?: number): void;
  dec(labels: Labels, value?: number): void;
}

export interface Histogram {
  /** Records one observation (a duration in ms, a size); each is sent as a sample and rolled up into quantiles. */
  observe(value: number): void;
  observe(labels: Labels, value: number): void;
  /** Starts a timer; calling the result observes the elapsed milliseconds and returns them. */
  startTimer(labels?: Labels): (extra?: Labels) => number;
}

interface Series {
  labels: Record<string, string>;
  /** The labels as JSON, made once per series. */
  json: string;
  value: number;
}

/** A validated label set of one metric, remembered by the call's own labels object shape. */
interface LabelSet {
  labels: Record<string, string>;
  json: string;
  /** Canonical identity (labelsKey). */
  key: string;
  /** Counters and gauges: the series, once it exists (undefined when the series limit stopped it). */
  series?: Series;
}

interface Family {
  type: MetricType;
  nameJson: string;
  series: Map<string, Series>;
  /** Label sets by the raw form of the call's labels: the hot path (a request middleware) skips validation and sorting. */
  byRaw: Map<string, LabelSet>;
  capReported: boolean;
}

/** Remembered label sets per metric at most; beyond, the cache starts over (memory stays bounded). */
const LABEL_CACHE_MAX = 10_000;

/** The call's labels in insertion order, length-prefixed so no two label sets share a form. */
function rawKey(extra: Labels | undefined): string {
  if (!extra) return '';
  let raw = '';
  for (const k in extra) {
    const v = String(extra[k]);
    raw += `${k.length}:${k}${v.length}:${v}`;
  }
  return raw;
}

/** Canonical series identity, the same as the collector's labels_key (sorted names, JSON-quoted values). */
export function labelsKey(labels: Record<string, string>): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return '';
  if (keys.length > 1) keys.sort();
  let out = '';
  for (let i = 0; i < keys.length; i++) out += `${i === 0 ? '' : ','}${keys[i]}=${JSON.stringify(labels[keys[i]!])}`;
  return out;
}

/**
 * Counters and gauges are kept in memory per series (name + labels) and
 * sent as a snapshot of every series each metrics interval, like a
 * Prometheus scrape: counters as running totals (the alert rules take
 * last - first over a window), gauges as their last value. Histograms
 * send each observation as a sample; ClickHouse rolls them up into
 * count/sum/min/max and quantiles.
 */
export class MetricRegistry {
  private readonly families = new Map<string, Family>();
  private seriesCount = 0;

  constructor(
    /** Receives each sample as wire JSON, with its metric name and series identity (labelsKey). */
    private readonly emit: (json: string, name: string, seriesKey: string) => void,
    private readonly onError: (err: TidemarkSdkError) => void,
    private readonly opts: { defaultLabels: Labels; maxSeries: number },
  ) {}

  /** Label names already checked: a handful in practice, checked once instead of on every call. */
  private readonly goodLabelNames = new Set<string>();

  /** Labels of a call merged over the defaults, validated; undefined (and reported) when invalid. */
  private labels(name: string, extra: Labels | undefined): Record<string, string> | undefined {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.opts.defaultLabels)) out[k] = String(v);
    if (extra) {
      for (const k in extra) {
        const v = extra[k];
        if (!this.goodLabelNames.has(k)) {
          if (!LABEL_NAME.test(k)) return this.invalid(`metric ${name}: label name ${JSON.stringify(k)} is not letters, digits, _ . : -`);
          if (this.goodLabelNames.size < 1_000) this.goodLabelNames.add(k);
        }
        if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')
          return this.invalid(`metric ${name}: label ${k} must be a string, number or boolean`);
        out[k] = String(v);
      }
    }
    if (Object.keys(out).length > MAX_LABELS) return this.invalid(`metric ${name}: more than ${MAX_LABELS} labels`);
    return out;
  }

  private invalid(message: string): undefined {
    this.onError(new TidemarkSdkError('INVALID_INPUT', message, { signal: 'metrics', items: 1 }));
    return undefined;
  }

  private family(name: string, type: MetricType): Family | undefined {
    if (!METRIC_NAME.test(name)) return this.invalid(`metric name ${JSON.stringify(name)} is not Prometheus style (letters, digits, _ : .)`);
    const existing = this.families.get(name);
    if (existing) {
      if (existing.type !== type) return this.invalid(`metric ${name} is already a ${existing.type}; it cannot also be a ${type}`);
      return existing;
    }
    const f: Family = { type, nameJson: JSON.stringify(name), series: new Map(), byRaw: new Map(), capReported: false };
    this.families.set(name, f);
    return f;
  }

  /** The validated label set of a call (merged over the defaults), from the cache when this shape was seen before. */
  private labelSet(name: string, f: Family, extra: Labels | undefined): LabelSet | undefined {
    const raw = rawKey(extra);
    const hit = f.byRaw.get(raw);
    if (hit) return hit;
    const labels = this.labels(name, extra);
    if (!labels) return undefined;
    const set: LabelSet = { labels, json: JSON.stringify(labels), key: labelsKey(labels) };
    if (f.byRaw.size >= LABEL_CACHE_MAX) f.byRaw.clear();
    f.byRaw.set(raw, set);
    return set;
  }

  private series(name: string, f: Family, extra: Labels | undefined): Series | undefined {
    const set = this.labelSet(name, f, extra);
    if (!set) return undefined;
    if (set.series) return set.series;
    let s = f.series.get(set.key);
    if (!s) {
      if (this.seriesCount >= this.opts.maxSeries) {
        // A label with unbounded values (a user id, a raw URL) would grow memory without end.
        if (!f.capReported) {
          f.capReported = true;
          this.invalid(`metric ${name}: series limit of ${this.opts.maxSeries} reached (a label with unbounded values?); new series are dropped`);
        }
        return undefined;
      }
      s = { labels: set.labels, json: set.json, value: 0 };
      f.series.set(set.key, s);
      this.seriesCount++;
    }
    set.series = s;
    return s;
  }

  /** A sample's wire JSON, built from parts serialised once (this runs per request in the middleware). */
  private static json(nameJson: string, type: MetricType, value: number, labelsJson: string, timestamp: number): string {
    return `{"name":${nameJson},"type":"${type}","value":${value},"labels":${labelsJson},"timestamp":${timestamp}}`;
  }

  counter(name: string): Counter {
    const f = this.family(name, 'counter');
    return {
      inc: (a?: number | Labels, b?: number) => {
        if (!f) return;
        const [labels, value] = typeof a === 'object' ? [a, b ?? 1] : [undefined, a ?? 1];
        if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
          this.invalid(`counter ${name}: inc(${String(value)}): counters only go up by finite amounts`);
          return;
        }
        const s = this.series(name, f, labels);
        if (s) s.value += value;
      },
    };
  }

  gauge(name: string): Gauge {
    const f = this.family(name, 'gauge');
    const apply = (labels: Labels | undefined, fn: (v: number) => number, value: number): void => {
      if (!f) return;
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        this.invalid(`gauge ${name}: ${String(value)} is not a finite number`);
        return;
      }
      const s = this.series(name, f, labels);
      if (s) s.value = fn(s.value);
    };
    return {
      set: (a: number | Labels, b?: number) => (typeof a === 'object' ? apply(a, () => b as number, b as number) : apply(undefined, () => a, a)),
      inc: (a?: number | Labels, b?: number) => {
        const [labels, value] = typeof a === 'object' ? [a, b ?? 1] : [undefined, a ?? 1];
        apply(labels, (v) => v + value, value);
      },
      dec: (a?: number | Labels, b?: number) => {
        const [labels, value] = typeof a === 'object' ? [a, b ?? 1] : [undefined, a ?? 1];
        apply(labels, (v) => v - value, value);
      },
    };
  }

  histogram(name: string): Histogram {
    const f = this.family(name, 'histogram');
    const observe = (labels: Labels | undefined, value: number): void => {
      if (!f) return;
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        this.invalid(`histogram ${name}: ${String(value)} is not a finite number`);
        return;
      }
      const set = this.labelSet(name, f, labels);
      if (set) this.emit(MetricRegistry.json(f.nameJson, 'histogram', value, set.json, Date.now()), name, set.key);
    };
    return {
      observe: (a: number | Labels, b?: number) => (typeof a === 'object' ? observe(a, b as number) : observe(undefined, a)),
      startTimer: (labels?: Labels) => {
        const start = process.hrtime.bigint();
        return (extra?: Labels) => {
          const ms = Number(process.hrtime.bigint() - start) / 1e6;
          observe(extra ? { ...labels, ...extra } : labels, ms);
          return ms;
        };
      },
    };
  }

  /** Sends one sample as it is (no series state): for probes that read a value and report it. */
  sample(name: string, value: number, opts: { type?: MetricType; labels?: Labels; timestamp?: number } = {}): void {
    if (!METRIC_NAME.test(name)) {
      this.invalid(`metric name ${JSON.stringify(name)} is not Prometheus style (letters, digits, _ : .)`);
      return;
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      this.invalid(`metric ${name}: ${String(value)} is not a finite number`);
      return;
    }
    const l = this.labels(name, opts.labels);
    if (l)
      this.emit(MetricRegistry.json(JSON.stringify(name), opts.type ?? 'gauge', value, JSON.stringify(l), opts.timestamp ?? Date.now()), name, labelsKey(l));
  }

  /** Emits every counter and gauge series with its current value. */
  snapshot(now: number = Date.now()): number {
    let n = 0;
    for (const [name, f] of this.families) {
      if (f.type === 'histogram') continue;
      for (const [key, s] of f.series) {
        this.emit(MetricRegistry.json(f.nameJson, f.type, s.value, s.json, now), name, key);
        n++;
      }
    }
    return n;
  }
}

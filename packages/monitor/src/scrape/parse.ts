/**
 * Parser of the Prometheus text exposition format (version 0.0.4, which
 * prom-client, node_exporter and most exporters serve; the OpenMetrics
 * additions "# EOF" and "# UNIT" are tolerated).
 */

export type PromType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface PromSample {
  /** The sample's own name (with _bucket/_sum/_count/_total suffixes). */
  name: string;
  /** The family it belongs to (# TYPE name), which decides its type. */
  family: string;
  type: PromType;
  labels: Record<string, string>;
  /** May be NaN or ±Infinity: the caller decides what to do with those. */
  value: number;
  /** Epoch ms, when the exposition gave one. */
  timestamp?: number;
}

export interface ParseResult {
  samples: PromSample[];
  /** Lines that could not be read, with their number (1-based) and why. */
  errors: { line: number; reason: string }[];
}

const NAME_START = /[A-Za-z_:]/;
const NAME_CHAR = /[A-Za-z0-9_:]/;
const SUFFIXES: Record<'histogram' | 'summary', readonly string[]> = {
  histogram: ['_bucket', '_sum', '_count', '_created'],
  summary: ['_sum', '_count', '_created'],
};

function parseValue(text: string): number {
  switch (text) {
    case 'NaN':
      return Number.NaN;
    case '+Inf':
    case 'Inf':
      return Number.POSITIVE_INFINITY;
    case '-Inf':
      return Number.NEGATIVE_INFINITY;
    default: {
      if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`value ${JSON.stringify(text)} is not a number`);
      return Number(text);
    }
  }
}

/** Reads `{a="x",b="y\"z"}` starting at `i` (the '{'); returns the labels and the index after '}'. */
function parseLabels(line: string, i: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  i++; // '{'
  for (;;) {
    while (line[i] === ' ' || line[i] === '\t') i++;
    if (line[i] === '}') return { labels, end: i + 1 };
    let name = '';
    while (i < line.length && /[A-Za-z0-9_]/.test(line[i]!)) name += line[i++];
    if (!name) throw new Error(`label name expected at column ${i + 1}`);
    while (line[i] === ' ') i++;
    if (line[i] !== '=') throw new Error(`'=' expected after label ${name}`);
    i++;
    while (line[i] === ' ') i++;
    if (line[i] !== '"') throw new Error(`'"' expected to open the value of label ${name}`);
    i++;
    let value = '';
    for (;;) {
      const c = line[i];
      if (c === undefined) throw new Error(`value of label ${name} is not closed`);
      if (c === '\\') {
        const n = line[i + 1];
        value += n === 'n' ? '\n' : n === '"' ? '"' : n === '\\' ? '\\' : `\\${n ?? ''}`;
        i += 2;
        continue;
      }
      if (c === '"') {
        i++;
        break;
      }
      value += c;
      i++;
    }
    labels[name] = value;
    while (line[i] === ' ') i++;
    if (line[i] === ',') {
      i++;
      continue;
    }
    if (line[i] === '}') return { labels, end: i + 1 };
    throw new Error(`',' or '}' expected after the value of label ${name}`);
  }
}

/** The family a sample name belongs to, given the # TYPE lines seen so far. */
function familyOf(name: string, types: Map<string, PromType>): { family: string; type: PromType } {
  const direct = types.get(name);
  if (direct) return { family: name, type: direct };
  for (const kind of ['histogram', 'summary'] as const) {
    for (const suffix of SUFFIXES[kind]) {
      if (name.endsWith(suffix)) {
        const base = name.slice(0, -suffix.length);
        if (types.get(base) === kind) return { family: base, type: kind };
      }
    }
  }
  return { family: name, type: 'untyped' };
}

export function parsePrometheusText(text: string): ParseResult {
  const samples: PromSample[] = [];
  const errors: ParseResult['errors'] = [];
  const types = new Map<string, PromType>();
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.replace(/\r$/, '');
    const trimmed = line.trim();
    if (trimmed === '') continue;
    if (trimmed.startsWith('#')) {
      const m = /^#\s+TYPE\s+(\S+)\s+(\S+)/.exec(trimmed);
      if (m) {
        const t = m[2]!.toLowerCase();
        types.set(m[1]!, (['counter', 'gauge', 'histogram', 'summary'].includes(t) ? t : 'untyped') as PromType);
      }
      continue; // HELP, UNIT, EOF and comments
    }
    try {
      let i = 0;
      while (line[i] === ' ' || line[i] === '\t') i++;
      if (!NAME_START.test(line[i] ?? '')) throw new Error('metric name expected');
      let name = '';
      while (i < line.length && NAME_CHAR.test(line[i]!)) name += line[i++];
      while (line[i] === ' ' || line[i] === '\t') i++;
      let labels: Record<string, string> = {};
      if (line[i] === '{') {
        const parsed = parseLabels(line, i);
        labels = parsed.labels;
        i = parsed.end;
      }
      const rest = line.slice(i).trim().split(/\s+/);
      if (rest.length === 0 || rest[0] === '') throw new Error('value expected');
      const value = parseValue(rest[0]!);
      const timestamp = rest[1] !== undefined ? Number(rest[1]) : undefined;
      if (timestamp !== undefined && !Number.isFinite(timestamp)) throw new Error(`timestamp ${JSON.stringify(rest[1])} is not a number`);
      const { family, type } = familyOf(name, types);
      samples.push({ name, family, type, labels, value, ...(timestamp !== undefined ? { timestamp } : {}) });
    } catch (err) {
      errors.push({ line: n + 1, reason: (err as Error).message });
    }
  }
  return { samples, errors };
}

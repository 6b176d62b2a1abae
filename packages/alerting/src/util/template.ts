/**
 * A small logic-light template language for annotations and channel
 * messages, compiled once and rendered many times:
 *
 *   {{ labels.host }}                 a value (missing values render as "")
 *   {{ value | round:1 }}             filters: round:N upper lower default:"x"
 *                                     join:", " json truncate:N eq:"x" ne:"x"
 *                                     gt:N lt:N time
 *   {{#if isFiring}}..{{else}}..{{/if}}  {{#unless x}}..{{/unless}}
 *   {{#each alerts}} {{ @index }} {{ labels.host }} {{/each}}
 *   {{~ x ~}}                         trims whitespace next to the tag
 *
 * Invariant: rendering never throws for any data; only compiling does, with
 * the position of the problem. Interpolated values pass through the
 * channel's `escape`, literal template text never does.
 */

export class TemplateError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

type Filter = { name: string; arg: string | number | undefined };
type Expr = { path: string[] | { literal: string | number }; filters: Filter[] };
type Node =
  | { t: 'text'; value: string }
  | { t: 'out'; expr: Expr }
  | { t: 'if'; expr: Expr; negate: boolean; then: Node[]; else: Node[] }
  | { t: 'each'; expr: Expr; body: Node[]; else: Node[] };

const FILTERS = new Set(['round', 'upper', 'lower', 'default', 'join', 'json', 'truncate', 'eq', 'ne', 'gt', 'lt', 'time']);

function parseLiteral(raw: string): string | number | undefined {
  const s = raw.trim();
  if (s === '') return undefined;
  if (/^"(?:[^"\\]|\\.)*"$/.test(s)) return JSON.parse(s) as string;
  if (/^'[^']*'$/.test(s)) return s.slice(1, -1);
  if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s);
  return undefined;
}

/** Splits on `|` outside quotes. */
function splitPipes(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | null = null;
  for (const c of s) {
    if (quote) {
      cur += c;
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") {
      quote = c;
      cur += c;
    } else if (c === '|') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function parseExpr(src: string, pos: number): Expr {
  const [head = '', ...rest] = splitPipes(src);
  const h = head.trim();
  if (h === '') throw new TemplateError(`empty expression at ${pos}`, pos);
  const lit = parseLiteral(h);
  let path: Expr['path'];
  if (lit !== undefined) path = { literal: lit };
  else if (/^(@index|@first|@last|this|[A-Za-z_$][\w$]*)(\.[\w$-]+)*$/.test(h)) path = h.split('.');
  else throw new TemplateError(`"${h}" is not a value path (write e.g. labels.host) at ${pos}`, pos);
  const filters = rest.map((f) => {
    const m = /^\s*([a-z]+)\s*(?::(.*))?$/.exec(f);
    if (!m || !FILTERS.has(m[1] as string)) {
      throw new TemplateError(`unknown filter "${f.trim()}" at ${pos}; filters: ${[...FILTERS].join(', ')}`, pos);
    }
    const arg = m[2] === undefined ? undefined : parseLiteral(m[2]);
    if (m[2] !== undefined && arg === undefined) throw new TemplateError(`filter ${m[1]}: argument ${m[2].trim()} must be a number or a quoted string at ${pos}`, pos);
    return { name: m[1] as string, arg };
  });
  return { path, filters };
}

interface Tag {
  start: number;
  end: number;
  body: string;
  trimLeft: boolean;
  trimRight: boolean;
}

function tokenize(src: string): (string | Tag)[] {
  const out: (string | Tag)[] = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open === -1) {
      out.push(src.slice(i));
      break;
    }
    if (open > i) out.push(src.slice(i, open));
    const close = src.indexOf('}}', open + 2);
    if (close === -1) throw new TemplateError(`unclosed "{{" at ${open}`, open);
    let body = src.slice(open + 2, close);
    const trimLeft = body.startsWith('~');
    const trimRight = body.endsWith('~');
    if (trimLeft) body = body.slice(1);
    if (trimRight) body = body.slice(0, -1);
    out.push({ start: open, end: close + 2, body: body.trim(), trimLeft, trimRight });
    i = close + 2;
  }
  // Whitespace control: trim text next to ~ tags.
  for (let k = 0; k < out.length; k++) {
    const tok = out[k];
    if (typeof tok === 'string') continue;
    if (tok?.trimLeft && typeof out[k - 1] === 'string') out[k - 1] = (out[k - 1] as string).replace(/\s+$/, '');
    if (tok?.trimRight && typeof out[k + 1] === 'string') out[k + 1] = (out[k + 1] as string).replace(/^\s+/, '');
  }
  return out;
}

function parse(src: string): Node[] {
  const tokens = tokenize(src);
  let k = 0;
  function block(closer: string | null): { nodes: Node[]; elseNodes: Node[] } {
    const nodes: Node[] = [];
    const elseNodes: Node[] = [];
    let target = nodes;
    while (k < tokens.length) {
      const tok = tokens[k++] as string | Tag;
      if (typeof tok === 'string') {
        if (tok !== '') target.push({ t: 'text', value: tok });
        continue;
      }
      const b = tok.body;
      if (b.startsWith('/')) {
        const name = b.slice(1).trim();
        if (name !== closer) throw new TemplateError(closer ? `expected {{/${closer}}} but found {{${b}}} at ${tok.start}` : `unexpected {{${b}}} at ${tok.start}`, tok.start);
        return { nodes, elseNodes };
      }
      if (b === 'else') {
        if (!closer || target === elseNodes) throw new TemplateError(`unexpected {{else}} at ${tok.start}`, tok.start);
        target = elseNodes;
        continue;
      }
      const m = /^#(if|unless|each)\s+([\s\S]+)$/.exec(b);
      if (m) {
        const kind = m[1] as 'if' | 'unless' | 'each';
        const expr = parseExpr(m[2] as string, tok.start);
        const inner = block(kind);
        if (kind === 'each') target.push({ t: 'each', expr, body: inner.nodes, else: inner.elseNodes });
        else target.push({ t: 'if', expr, negate: kind === 'unless', then: inner.nodes, else: inner.elseNodes });
        continue;
      }
      if (b.startsWith('#')) throw new TemplateError(`unknown block {{${b}}} at ${tok.start}; blocks: #if, #unless, #each`, tok.start);
      target.push({ t: 'out', expr: parseExpr(b, tok.start) });
    }
    if (closer) throw new TemplateError(`{{#${closer}}} is never closed with {{/${closer}}}`, src.length);
    return { nodes, elseNodes };
  }
  return block(null).nodes;
}

type Scope = { data: unknown; index?: number; first?: boolean; last?: boolean };

function lookup(scopes: Scope[], path: string[]): unknown {
  const [head, ...rest] = path;
  const top = scopes[scopes.length - 1] as Scope;
  let cur: unknown;
  if (head === '@index') return top.index;
  if (head === '@first') return top.first;
  if (head === '@last') return top.last;
  if (head === 'this') cur = top.data;
  else {
    // Innermost scope first, so {{ labels.x }} inside #each means the item's labels.
    for (let i = scopes.length - 1; i >= 0; i--) {
      const d = scopes[i]?.data;
      if (d !== null && typeof d === 'object' && head !== undefined && head in (d as object)) {
        cur = (d as Record<string, unknown>)[head];
        break;
      }
    }
  }
  for (const p of rest) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

function applyFilter(v: unknown, f: Filter): unknown {
  switch (f.name) {
    case 'round': {
      const n = typeof v === 'number' ? v : Number(v);
      if (v === null || v === undefined || v === '' || !Number.isFinite(n)) return v;
      const digits = typeof f.arg === 'number' ? f.arg : 0;
      return Number(n.toFixed(digits));
    }
    case 'upper':
      return v === undefined || v === null ? v : String(v).toUpperCase();
    case 'lower':
      return v === undefined || v === null ? v : String(v).toLowerCase();
    case 'default':
      return v === undefined || v === null || v === '' ? f.arg : v;
    case 'join':
      return Array.isArray(v) ? v.map((x) => toText(x)).join(typeof f.arg === 'string' ? f.arg : ', ') : v;
    case 'json':
      return JSON.stringify(v ?? null);
    case 'truncate': {
      const s = toText(v);
      const n = typeof f.arg === 'number' ? f.arg : 80;
      return s.length > n ? `${s.slice(0, Math.max(0, n - 1))}…` : s;
    }
    case 'eq':
      return toText(v) === toText(f.arg);
    case 'ne':
      return toText(v) !== toText(f.arg);
    case 'gt':
      return Number(v) > Number(f.arg);
    case 'lt':
      return Number(v) < Number(f.arg);
    case 'time': {
      const d = typeof v === 'string' || typeof v === 'number' ? new Date(v) : undefined;
      return d && !Number.isNaN(d.getTime()) ? `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC` : v;
    }
    default:
      return v;
  }
}

function toText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return JSON.stringify(v);
}

function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v && typeof v === 'object') return Object.keys(v).length > 0;
  return Boolean(v) && v !== '0';
}

function evalExpr(scopes: Scope[], e: Expr): unknown {
  let v = Array.isArray(e.path) ? lookup(scopes, e.path) : e.path.literal;
  for (const f of e.filters) v = applyFilter(v, f);
  return v;
}

function renderNodes(nodes: Node[], scopes: Scope[], escape: (s: string) => string, out: string[]): void {
  for (const n of nodes) {
    if (n.t === 'text') out.push(n.value);
    else if (n.t === 'out') out.push(escape(toText(evalExpr(scopes, n.expr))));
    else if (n.t === 'if') {
      const cond = truthy(evalExpr(scopes, n.expr)) !== n.negate;
      renderNodes(cond ? n.then : n.else, scopes, escape, out);
    } else {
      const list = evalExpr(scopes, n.expr);
      const items = Array.isArray(list) ? list : list && typeof list === 'object' ? Object.entries(list).map(([key, value]) => ({ key, value })) : [];
      if (items.length === 0) renderNodes(n.else, scopes, escape, out);
      items.forEach((item, index) => renderNodes(n.body, [...scopes, { data: item, index, first: index === 0, last: index === items.length - 1 }], escape, out));
    }
  }
}

export interface CompiledTemplate {
  source: string;
  render(data: unknown, escape?: (s: string) => string): string;
}

const identity = (s: string): string => s;

/** @throws TemplateError with the position of the first problem. */
export function compileTemplate(source: string): CompiledTemplate {
  const nodes = parse(source);
  return {
    source,
    render(data, escape = identity) {
      const out: string[] = [];
      renderNodes(nodes, [{ data }], escape, out);
      return out.join('');
    },
  };
}

import { ValidationError } from '@tidemark/core';

/**
 * The log search language, after the requirements' examples:
 *
 *   level:ERROR AND path:/api/v1/payments/* AND status_code:500
 *   process_time:>2 OR (service:api AND NOT level:DEBUG)
 *   "payment failed" service:payments
 *
 * - `field:value` matches a column (level, service, message, trace_id,
 *   request_id) or an attribute; `*` in a value is a wildcard; quotes allow spaces.
 * - `field:>2`, `>=`, `<`, `<=` compare numerically.
 * - A bare word or "quoted phrase" searches the message (case-insensitive).
 * - AND (also implied between adjacent terms) binds tighter than OR; NOT negates;
 *   parentheses group.
 * The result is SQL with every value bound as a parameter.
 */
export type LogQuery =
  | { kind: 'and' | 'or'; items: LogQuery[] }
  | { kind: 'not'; item: LogQuery }
  | { kind: 'match'; field: string | undefined; op: ':' | '>' | '>=' | '<' | '<='; value: string };

type Token = { t: 'word' | 'quoted' | '(' | ')'; v: string };

function tokenize(q: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')') {
      out.push({ t: c, v: c });
      i++;
    } else if (c === '"') {
      const end = q.indexOf('"', i + 1);
      if (end === -1) throw new ValidationError(`log query: unterminated quote at position ${i}`);
      out.push({ t: 'quoted', v: q.slice(i + 1, end) });
      i = end + 1;
    } else {
      let j = i;
      // A word runs to whitespace or a bracket; a quoted value may follow "field:".
      while (j < q.length && !/\s/.test(q[j]!) && q[j] !== '(' && q[j] !== ')') {
        if (q[j] === '"') {
          const end = q.indexOf('"', j + 1);
          if (end === -1) throw new ValidationError(`log query: unterminated quote at position ${j}`);
          j = end + 1;
        } else j++;
      }
      out.push({ t: 'word', v: q.slice(i, j) });
      i = j;
    }
  }
  return out;
}

/** Deepest nesting of NOT and parentheses a log query may have. */
export const MAX_LOG_QUERY_DEPTH = 32;

export function parseLogQuery(q: string): LogQuery | undefined {
  if (q.length > 2000) throw new ValidationError('log query: longer than 2000 characters');
  const tokens = tokenize(q);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const isOp = (tok: Token | undefined, op: string): boolean => tok?.t === 'word' && tok.v.toUpperCase() === op;

  function parseOr(): LogQuery {
    const items = [parseAnd()];
    while (isOp(peek(), 'OR')) {
      pos++;
      items.push(parseAnd());
    }
    return items.length === 1 ? items[0]! : { kind: 'or', items };
  }
  function parseAnd(): LogQuery {
    const items = [parseUnary()];
    for (;;) {
      const tok = peek();
      if (!tok || tok.t === ')' || isOp(tok, 'OR')) break;
      if (isOp(tok, 'AND')) pos++;
      items.push(parseUnary());
    }
    return items.length === 1 ? items[0]! : { kind: 'and', items };
  }
  // Nesting (NOT, parentheses) becomes nested SQL; ClickHouse refuses deep ASTs, and deep
  // recursion here costs stack. Past MAX_LOG_QUERY_DEPTH it is the caller's query that is wrong: 400.
  let depth = 0;
  const deeper = (): void => {
    if (++depth > MAX_LOG_QUERY_DEPTH) throw new ValidationError(`log query: nested deeper than ${MAX_LOG_QUERY_DEPTH} levels (NOT and parentheses)`);
  };
  function parseUnary(): LogQuery {
    const tok = peek();
    if (!tok) throw new ValidationError('log query: expected a term at the end');
    if (isOp(tok, 'NOT')) {
      pos++;
      deeper();
      const item = parseUnary();
      depth--;
      return { kind: 'not', item };
    }
    if (tok.t === '(') {
      pos++;
      deeper();
      const inner = parseOr();
      depth--;
      if (peek()?.t !== ')') throw new ValidationError('log query: missing )');
      pos++;
      return inner;
    }
    if (tok.t === ')') throw new ValidationError('log query: unexpected )');
    pos++;
    if (tok.t === 'quoted') return { kind: 'match', field: undefined, op: ':', value: tok.v };
    const m = /^([A-Za-z_][A-Za-z0-9_.-]{0,127}):(>=|<=|>|<)?(.*)$/.exec(tok.v);
    if (!m) return { kind: 'match', field: undefined, op: ':', value: tok.v };
    let value = m[3] ?? '';
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    if (value === '') throw new ValidationError(`log query: ${m[1]}: needs a value`);
    return { kind: 'match', field: m[1], op: (m[2] as '>' | undefined) ?? ':', value };
  }

  if (tokens.length === 0) return undefined;
  const ast = parseOr();
  if (pos < tokens.length) throw new ValidationError(`log query: unexpected "${tokens[pos]!.v}"`);
  return ast;
}

const COLUMNS = new Set(['level', 'service', 'message', 'trace_id', 'request_id']);

/** SQL condition of a parsed query; `add(type, value)` binds a parameter and returns its placeholder. */
export function logQuerySql(q: LogQuery, add: (type: string, value: unknown) => string): string {
  switch (q.kind) {
    case 'and':
    case 'or':
      return `(${q.items.map((i) => logQuerySql(i, add)).join(q.kind === 'and' ? ' AND ' : ' OR ')})`;
    case 'not':
      return `NOT (${logQuerySql(q.item, add)})`;
    case 'match': {
      if (q.field === undefined) return `positionCaseInsensitiveUTF8(message, ${add('String', q.value)}) > 0`;
      const col = COLUMNS.has(q.field) ? q.field : `attributes[${add('String', q.field)}]`;
      if (q.op !== ':') {
        const n = Number(q.value);
        if (!Number.isFinite(n)) throw new ValidationError(`log query: ${q.field}:${q.op} needs a number, got "${q.value}"`);
        return `toFloat64OrNull(${col}) ${q.op} ${add('Float64', n)}`;
      }
      const value = q.field === 'level' ? q.value.toUpperCase() : q.value;
      if (value.includes('*')) {
        const like = value.replace(/[\\%_]/g, (c) => `\\${c}`).replace(/\*/g, '%');
        return `${col} ILIKE ${add('String', like)}`;
      }
      return `${col} = ${add('String', value)}`;
    }
  }
}

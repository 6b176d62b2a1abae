/**
 * A small SQL lexer shared by the embedded ClickHouse server and the
 * migration runner: it knows where strings, quoted identifiers and comments
 * are, so semicolons inside them never split a statement.
 *
 * Invariant: joining the returned statements with ";" yields the input minus
 * empty statements; no character inside a literal or comment is ever treated
 * as a separator.
 */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let start = 0;
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i];
    const next = sql[i + 1];
    if (c === "'" || c === '"' || c === '`') {
      i = skipQuoted(sql, i, c);
    } else if ((c === '-' && next === '-') || c === '#') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? n : end + 1;
    } else if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? n : end + 2;
    } else if (c === ';') {
      pushIfNotBlank(out, sql.slice(start, i));
      i += 1;
      start = i;
    } else {
      i += 1;
    }
  }
  pushIfNotBlank(out, sql.slice(start));
  return out;
}

function skipQuoted(sql: string, from: number, quote: string): number {
  let i = from + 1;
  while (i < sql.length) {
    const c = sql[i];
    if (c === '\\') {
      i += 2;
    } else if (c === quote) {
      if (sql[i + 1] === quote)
        i += 2; // doubled quote inside a literal
      else return i + 1;
    } else {
      i += 1;
    }
  }
  return sql.length; // unterminated: the engine reports it
}

/** Removes comments and whitespace so "is it empty?" has a real answer. */
function stripCommentsAndSpace(sql: string): string {
  return sql
    .replace(/--[^\n]*|#[^\n]*/g, '')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .trim();
}

function pushIfNotBlank(out: string[], stmt: string): void {
  if (stripCommentsAndSpace(stmt) !== '') out.push(stmt.trim());
}

/** The first keyword of a statement, upper-cased ("SELECT", "INSERT", ...), after comments and brackets. */
export function statementKeyword(sql: string): string {
  const m = /^[\s(]*([A-Za-z]+)/.exec(stripLeadingComments(sql));
  return m?.[1]?.toUpperCase() ?? '';
}

function stripLeadingComments(sql: string): string {
  let s = sql;
  for (;;) {
    const t = s.trimStart();
    if (t.startsWith('--') || t.startsWith('#')) {
      const end = t.indexOf('\n');
      s = end === -1 ? '' : t.slice(end + 1);
    } else if (t.startsWith('/*')) {
      const end = t.indexOf('*/');
      s = end === -1 ? '' : t.slice(end + 2);
    } else {
      return t;
    }
  }
}

/**
 * The host boundary of the embedded ClickHouse front: no statement of any
 * user may reach the host's files or the network.
 *
 * chDB is clickhouse-local: its only user has every grant (FILE, URL, S3,
 * REMOTE, ... without grant option, so they cannot be revoked), a users
 * config passed as connection arguments is not applied, `readonly=1` does not
 * stop `INTO OUTFILE`, the `file()` function or paths used as table names
 * (its `default` database is an Overlay with a Filesystem database inside:
 * `SELECT * FROM '/etc/passwd'` reads the file). So the front enforces the
 * boundary itself, on a real tokenizer of ClickHouse SQL (strings, quoted
 * identifiers, heredocs, comments), before a statement reaches the engine:
 *
 * - table functions: only generators (allowlist); every other name of the
 *   engine's own catalogue (system.table_functions) is refused wherever it
 *   is called, as are the scalar functions that read files (file,
 *   catboostEvaluate) and disk(...) (a disk at any path or endpoint);
 * - table engines: an allowlist (MergeTree family, Memory, Null, views, Log
 *   family, Buffer, Set, Join, Distributed) checked after every ENGINE;
 * - statement shapes: INTO OUTFILE, FROM INFILE, INSERT INTO [TABLE] FUNCTION,
 *   BACKUP, RESTORE, CREATE DICTIONARY;
 * - paths as tables: a string literal, or a quoted name that looks like a
 *   path, where a table goes (after FROM, JOIN, a comma of a FROM clause, or
 *   AS in CREATE/ATTACH), e.g. `ATTACH TABLE t FROM '/path'`;
 * - quoted identifiers called as functions (`\`file\`(...)`);
 * - settings that name files or endpoints (format_schema, format_template_*,
 *   output_format_schema, default_table_engine, ...), in SQL and in the URL;
 * - Identifier-typed query parameters whose value is not a plain name.
 *
 * Where the tokenizer and the engine could disagree, the tokenizer sees more,
 * never less: block comments end at the first `*\/`, and every non-ASCII
 * character outside strings is a separator.
 */
import { CODES, ServerException } from './codes';

export type TokenKind = 'ident' | 'qident' | 'string' | 'number' | 'punct';

export interface Token {
  kind: TokenKind;
  /** Identifier or keyword as written; quoted identifier and string: the unescaped content; punctuation: the character(s). */
  value: string;
  /** Offset in the statement, for messages. */
  pos: number;
}

/** A statement the front refuses, with ClickHouse's ACCESS_DENIED code (497, HTTP 403). */
export class HostAccessDenied extends ServerException {
  constructor(what: string) {
    super(CODES.ACCESS_DENIED, `${what} is not allowed on the embedded ClickHouse server: nothing reaches the host's files or the network`);
  }
}

function syntaxError(message: string): ServerException {
  return new ServerException(CODES.SYNTAX_ERROR, message);
}

const isIdentStart = (c: string): boolean => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
const isIdentPart = (c: string): boolean => isIdentStart(c) || (c >= '0' && c <= '9');
const isDigit = (c: string): boolean => c >= '0' && c <= '9';

/** Reads a quoted token starting at `start` (the quote); returns the unescaped content and the offset after it. */
function readQuoted(sql: string, start: number, quote: string): { value: string; end: number } {
  let i = start + 1;
  let out = '';
  while (i < sql.length) {
    const c = sql[i] as string;
    if (c === '\\') {
      if (i + 1 >= sql.length) break;
      out += sql[i + 1];
      i += 2;
      continue;
    }
    if (c === quote) {
      if (sql[i + 1] === quote) {
        out += quote;
        i += 2;
        continue;
      }
      return { value: out, end: i + 1 };
    }
    out += c;
    i++;
  }
  throw syntaxError(`Unterminated quoted ${quote === "'" ? 'string' : 'identifier'} at position ${start}`);
}

/** ClickHouse SQL as tokens; whitespace and comments dropped. */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] as string;
    const code = c.charCodeAt(0);
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v' || code >= 0x80 || code < 0x20) {
      // Non-ASCII outside quotes: a separator (see the module comment).
      i++;
      continue;
    }
    if (c === '-' && sql[i + 1] === '-') {
      const nl = sql.indexOf('\n', i);
      i = nl === -1 ? sql.length : nl + 1;
      continue;
    }
    if (c === '#') {
      // ClickHouse: `# ` and `#!` start a line comment; any other `#` is an error there too.
      if (sql[i + 1] === ' ' || sql[i + 1] === '!') {
        const nl = sql.indexOf('\n', i);
        i = nl === -1 ? sql.length : nl + 1;
        continue;
      }
      throw syntaxError(`Unexpected character '#' at position ${i}`);
    }
    if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      if (end === -1) throw syntaxError(`Unterminated comment at position ${i}`);
      i = end + 2;
      continue;
    }
    if (c === "'") {
      const q = readQuoted(sql, i, "'");
      tokens.push({ kind: 'string', value: q.value, pos: i });
      i = q.end;
      continue;
    }
    if (c === '`' || c === '"') {
      const q = readQuoted(sql, i, c);
      tokens.push({ kind: 'qident', value: q.value, pos: i });
      i = q.end;
      continue;
    }
    if (c === '$') {
      // Heredoc string: $tag$ ... $tag$ (tag may be empty).
      const m = /^\$([A-Za-z0-9_]*)\$/.exec(sql.slice(i, i + 256));
      if (m) {
        const tag = m[0];
        const end = sql.indexOf(tag, i + tag.length);
        if (end === -1) throw syntaxError(`Unterminated heredoc at position ${i}`);
        tokens.push({ kind: 'string', value: sql.slice(i + tag.length, end), pos: i });
        i = end + tag.length;
        continue;
      }
      tokens.push({ kind: 'punct', value: c, pos: i });
      i++;
      continue;
    }
    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < sql.length && isIdentPart(sql[j] as string)) j++;
      tokens.push({ kind: 'ident', value: sql.slice(i, j), pos: i });
      i = j;
      continue;
    }
    if (isDigit(c)) {
      let j = i + 1;
      while (j < sql.length && (isIdentPart(sql[j] as string) || sql[j] === '.')) j++;
      tokens.push({ kind: 'number', value: sql.slice(i, j), pos: i });
      i = j;
      continue;
    }
    tokens.push({ kind: 'punct', value: c, pos: i });
    i++;
  }
  return tokens;
}

/** Table functions that only generate rows from their arguments. */
export const ALLOWED_TABLE_FUNCTIONS = [
  'numbers',
  'numbers_mt',
  'zeros',
  'zeros_mt',
  'generate_series',
  'generateSeries',
  'values',
  'null',
  'generateRandom',
  'format',
  'primes',
];

/** Scalar functions that reach the host, refused besides the table functions. */
const HOST_SCALAR_FUNCTIONS = ['file', 'catboostevaluate', 'disk'];

/** Table engines that keep data in the engine's own storage (or none); what the migrations use is among them. */
function engineAllowed(name: string): boolean {
  return (
    /MergeTree$/.test(name) ||
    ['Memory', 'Null', 'MaterializedView', 'View', 'Log', 'TinyLog', 'StripeLog', 'Buffer', 'Set', 'Join', 'Distributed'].includes(name)
  );
}

/** Database engines without an outside source. */
const ALLOWED_DATABASE_ENGINES = ['Atomic', 'Ordinary', 'Memory', 'Lazy', 'Replicated'];

/** Settings whose value names a file, a directory, an endpoint or an engine. */
export function settingDenied(name: string): boolean {
  const n = name.toLowerCase();
  return (
    /^format_schema/.test(n) ||
    /^format_template_(resultset|row)$/.test(n) ||
    n === 'output_format_schema' ||
    /_file_path$/.test(n) ||
    /_registry_url$/.test(n) ||
    n === 'url_base' ||
    /^default_(temporary_)?table_engine$/.test(n) ||
    n === 'into_outfile_create_parent_directories' ||
    /zookeeper_path$/.test(n)
  );
}

/** A name a table can have here: no path separators, extensions, globs or archive syntax. */
const PLAIN_NAME = /^[A-Za-z0-9_\- ]+$/;
const PLAIN_IDENTIFIER_PARAM = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;

/** Keywords after which a comma-separated list is not a FROM list any more. */
const CLAUSE_KEYWORDS = new Set([
  'SELECT',
  'FROM',
  'WHERE',
  'PREWHERE',
  'GROUP',
  'ORDER',
  'LIMIT',
  'HAVING',
  'SETTINGS',
  'FORMAT',
  'UNION',
  'EXCEPT',
  'INTERSECT',
  'WINDOW',
  'QUALIFY',
  'ON',
  'USING',
  'WITH',
  'INTO',
  'VALUES',
  'SET',
]);

export interface GuardCatalogue {
  /** Lower-cased names of refused functions (table functions outside the allowlist, host scalar functions). */
  deniedFunctions: Set<string>;
}

/** Builds the refused-function set from the engine's own catalogue (system.table_functions). */
export function buildCatalogue(tableFunctions: string[]): GuardCatalogue {
  const allowed = new Set(ALLOWED_TABLE_FUNCTIONS.map((n) => n.toLowerCase()));
  const denied = new Set(HOST_SCALAR_FUNCTIONS);
  for (const name of tableFunctions) if (!allowed.has(name.toLowerCase())) denied.add(name.toLowerCase());
  return { deniedFunctions: denied };
}

const upper = (t: Token | undefined): string => (t && t.kind === 'ident' ? t.value.toUpperCase() : '');

/**
 * Throws HostAccessDenied when the statement could reach the host; returns
 * otherwise. `statement` is one statement (the front refuses multi-statements
 * before this), `params` the request's query parameters.
 */
export function checkStatement(statement: string, catalogue: GuardCatalogue, params: Record<string, string> = {}): void {
  const t = tokenize(statement);
  const first = upper(t[0]);
  if (first === 'BACKUP' || first === 'RESTORE') throw new HostAccessDenied(`${first}`);
  const ddl = first === 'CREATE' || first === 'ATTACH' || first === 'REPLACE';
  // Per parenthesis depth: the last clause keyword, to tell a FROM list's commas from others.
  const clause: string[] = [''];
  for (let i = 0; i < t.length; i++) {
    const tok = t[i] as Token;
    const next = t[i + 1];
    const kw = upper(tok);
    if (tok.kind === 'punct' && (tok.value === '(' || tok.value === '[')) {
      clause.push('');
      continue;
    }
    if (tok.kind === 'punct' && (tok.value === ')' || tok.value === ']')) {
      if (clause.length > 1) clause.pop();
      continue;
    }
    // Calls: identifiers followed by '('.
    if ((tok.kind === 'ident' || tok.kind === 'qident') && next?.kind === 'punct' && next.value === '(') {
      if (catalogue.deniedFunctions.has(tok.value.toLowerCase())) throw new HostAccessDenied(`Function or table function '${tok.value.slice(0, 64)}'`);
      if (tok.kind === 'qident' && !columnListAfterQuotedName(t, i))
        throw new HostAccessDenied(`A quoted identifier used as a function name (\`${tok.value.slice(0, 64)}\`)`);
    }
    if (tok.kind === 'ident') {
      const after = upper(next);
      if (kw === 'INTO' && after === 'OUTFILE') throw new HostAccessDenied('INTO OUTFILE');
      if (kw === 'FROM' && after === 'INFILE') throw new HostAccessDenied('FROM INFILE');
      if ((kw === 'INTO' || kw === 'TABLE') && after === 'FUNCTION') throw new HostAccessDenied('INSERT INTO FUNCTION');
      if (ddl && kw === 'DICTIONARY') throw new HostAccessDenied('CREATE DICTIONARY');
      if (kw === 'ENGINE' && ddl && engineClause(next)) checkEngine(t, i, first);
      if (settingDenied(tok.value) && next?.kind === 'punct' && next.value === '=') throw new HostAccessDenied(`Setting '${tok.value}'`);
      const prior = clause[clause.length - 1];
      if (CLAUSE_KEYWORDS.has(kw)) clause[clause.length - 1] = kw;
      // FROM names a table at statement level or in a subquery, not inside a call (EXTRACT(DAY FROM '...'), trim(... FROM '...')).
      const fromTable = kw === 'FROM' && (clause.length === 1 || prior !== '');
      const joinTable = kw === 'JOIN' && upper(t[i - 1]) !== 'ARRAY';
      if (fromTable || joinTable || (ddl && kw === 'AS')) checkTableName(t, i + 1);
    }
    if (tok.kind === 'punct' && tok.value === ',' && clause[clause.length - 1] === 'FROM') checkTableName(t, i + 1);
    // {name:Identifier}: the value becomes a name in the SQL.
    if (tok.kind === 'punct' && tok.value === '{' && t[i + 2]?.value === ':' && /^Identifier$/i.test(t[i + 3]?.value ?? '')) {
      const name = t[i + 1]?.value ?? '';
      const value = params[name];
      if (value !== undefined && !PLAIN_IDENTIFIER_PARAM.test(value))
        throw new HostAccessDenied(`Identifier parameter '${name.slice(0, 64)}' with a value that is not a plain name`);
    }
  }
}

/** `name (` is a column list, not a call, right after a table name in CREATE/INSERT/ATTACH: `INSERT INTO \`t\` (a, b)`. */
function columnListAfterQuotedName(t: Token[], i: number): boolean {
  let j = i - 1;
  if (t[j]?.value === '.') j -= 2; // db.`t`
  return ['TABLE', 'INTO', 'VIEW', 'EXISTS'].includes(upper(t[j]));
}

/** A table reference at t[i]: `name`, `db.name`, a subquery or a call (checked as a call). */
function checkTableName(t: Token[], i: number): void {
  const tok = t[i];
  if (!tok) return;
  if (tok.kind === 'string') throw new HostAccessDenied(`A string used as a table ('${tok.value.slice(0, 64)}': a path read as a file)`);
  if (tok.kind !== 'qident' && tok.kind !== 'ident') return;
  // After AS in CREATE/ATTACH the name may be a source table (CREATE TABLE t AS src): checked the same way.
  const parts = [tok];
  if (t[i + 1]?.value === '.' && t[i + 2]) parts.push(t[i + 2] as Token);
  for (const p of parts) {
    if (p.kind === 'string') throw new HostAccessDenied(`A string used as a table ('${p.value.slice(0, 64)}': a path read as a file)`);
    if (p.kind === 'qident' && !PLAIN_NAME.test(p.value)) throw new HostAccessDenied(`A path used as a table name (\`${p.value.slice(0, 64)}\`)`);
  }
}

/** ENGINE starts an engine clause (not a column named engine in a SELECT of a CREATE ... AS SELECT). */
function engineClause(next: Token | undefined): boolean {
  if (!next) return true;
  if (next.kind === 'punct') return next.value === '=';
  return !['FROM', 'AS', 'WHERE'].includes(upper(next));
}

/** ENGINE [=] Name: Name must be an allowed table engine (or database engine in CREATE DATABASE). */
function checkEngine(t: Token[], i: number, first: string): void {
  let j = i + 1;
  if (t[j]?.value === '=') j++;
  const name = t[j];
  if (!name || (name.kind !== 'ident' && name.kind !== 'qident')) throw new HostAccessDenied('An ENGINE clause without an engine name');
  const database = first === 'CREATE' && t.slice(0, i).some((x) => upper(x) === 'DATABASE');
  const ok = database ? ALLOWED_DATABASE_ENGINES.includes(name.value) : engineAllowed(name.value);
  if (!ok) throw new HostAccessDenied(`${database ? 'Database' : 'Table'} engine '${name.value.slice(0, 64)}'`);
}

/** URL settings of a request (and insert settings): the same setting rule as SQL. */
export function checkSettings(settings: Record<string, string>): void {
  for (const name of Object.keys(settings)) if (settingDenied(name)) throw new HostAccessDenied(`Setting '${name}'`);
}

/**
 * The one tenant-scoped read path for user-supplied SQL: the SQL console,
 * alert rule validation, preview, backtest and evaluation, and whatever
 * comes later. Nothing else may send SQL a user wrote to ClickHouse.
 *
 * Two independent guards, each meant to hold on its own:
 *
 * 1. The engine scopes every read. The statement runs as the read-only
 *    ClickHouse user (readonly=1: no writes, no DDL, no SETTINGS clause) with
 *    `additional_table_filters` that bind EVERY tenant table of the Tidemark
 *    database to the caller's project. Tenant tables come from the catalogue
 *    (system.tables/system.columns): every MergeTree-family table of the
 *    database with a `project_id` column, so a new table (OTLP, biz_* synced
 *    by the ETL, ...) joins automatically. ClickHouse applies the filter to
 *    every read of the table: subqueries, IN, JOIN, CTEs, UNION, scalar
 *    subqueries (tested in tenant-query.int.test.ts).
 *
 * 2. Only a known statement shape reaches the engine. ClickHouse's own
 *    parser reads the statement (never our regexes):
 *    a. `formatQuerySingleLine({q:String})`: the user text is a bound string
 *       parameter, so parsing it can execute nothing. The canonical text it
 *       returns has no comments, heredocs or raw control characters.
 *    b. `EXPLAIN AST SELECT * FROM (<canonical>)`, read as a tree
 *       (ast.ts): the statement must parse as a subquery, where INTO
 *       OUTFILE and FORMAT do not exist; the tree's wrapper is checked node by
 *       node, so text that escaped the parentheses is refused. Inside, only
 *       SELECT / WITH / UNION / INTERSECT / EXCEPT node kinds, functions from
 *       the reviewed allowlist (function-allowlist.ts), table functions that
 *       only generate rows, no SETTINGS, no identifier naming another
 *       database (catches `x IN system.one`) or a non-tenant table or view of
 *       ours.
 *    c. `EXPLAIN QUERY TREE`, only after (b) (resolving a tree runs schema
 *       inference of table functions and scalar subqueries, so it must never
 *       see an unchecked statement, and it runs with the same filters and
 *       limits): every table the analyzer resolved must be a tenant table.
 *       This catches what the AST cannot name, e.g. a CTE name that is really
 *       a table.
 *
 * The statement executed is exactly the canonical text that was checked.
 * Answers are streamed and cut at a byte cap counted on the bytes produced
 * (ClickHouse's max_result_bytes does not count constant columns), and the
 * engine gets memory, row, byte and time limits.
 *
 * Why one file over 400 lines: it is the security boundary of every SQL
 * surface, reviewed as a unit; both guards, the cache that skips re-checking
 * and the error mapping stay side by side so that a change to one is read
 * against the others. The AST reader and the allowlist live apart (ast.ts,
 * function-allowlist.ts) because they have no tenant logic.
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import type { ClickHouse, ClickHouseSettings } from '../clickhouse/client';
import { classifyError, ClickHouseQueryError, ForbiddenError, PayloadTooLargeError, TidemarkError, ValidationError } from '../errors';
import { AstParseError, parseExplainAst, walkAst, type AstNode } from './ast';
import { ALLOWED_TABLE_FUNCTIONS, isAllowedFunction } from './function-allowlist';
import { splitStatements, statementKeyword } from './statements';

/** Limits of one statement. */
export interface TenantQueryLimits {
  /** max_execution_time (rounded up to whole seconds). */
  timeoutMs: number;
  /** max_result_rows; more is an error, never a silent cut. */
  maxRows: number;
  /** Bytes of the formatted answer; more is a 413. Also sent as max_result_bytes. */
  maxResultBytes: number;
  /** max_memory_usage of the statement in the engine. */
  maxMemoryBytes: number;
}

export const DEFAULT_TENANT_QUERY_LIMITS: TenantQueryLimits = {
  timeoutMs: 30_000,
  maxRows: 10_000,
  maxResultBytes: 64 * 1024 * 1024,
  maxMemoryBytes: 1024 * 1024 * 1024,
};

/** A statement that passed every check: the canonical text to execute and the tenant tables it reads. */
export interface CheckedQuery {
  sql: string;
  tables: string[];
}

export interface RunOptions {
  /** `{name:Type}` values; bound by the engine, never spliced into the text. */
  params?: Record<string, string | number>;
  /** ClickHouse output format (JSON, CSVWithNames, JSONCompactEachRowWithNamesAndTypes, ...). */
  format: string;
  limits: TenantQueryLimits;
  signal?: AbortSignal;
}

interface Catalogue {
  at: number;
  /** Tenant tables of the database (MergeTree family with a project_id column). */
  tenant: Set<string>;
  /** Every other table, view or dictionary of the database. */
  other: Set<string>;
  /** Names of every visible database, lower-cased, plus the system ones. */
  databases: Set<string>;
}

const catalogueRow = z.object({ name: z.string(), engine: z.string(), has_project: z.coerce.number() });
const databaseRow = z.object({ name: z.string() });
const formattedRow = z.object({ f: z.string() });
const describeRow = z.object({ name: z.string(), type: z.string() });

/**
 * Node kinds a checked statement may contain. Anything else (Set = SETTINGS,
 * Explain, ColumnsApplyTransformer whose function name the dump hides,
 * kinds added by a future parser) is refused.
 */
const ALLOWED_KINDS = new Set([
  'SelectWithUnionQuery',
  'SelectIntersectExceptQuery',
  'SelectQuery',
  'ExpressionList',
  'WithElement',
  'Subquery',
  'Identifier',
  'Literal',
  'Function',
  'Asterisk',
  'QualifiedAsterisk',
  'ColumnsRegexpMatcher',
  'ColumnsListMatcher',
  'QualifiedColumnsRegexpMatcher',
  'QualifiedColumnsListMatcher',
  'ColumnsTransformerList',
  'ColumnsExceptTransformer',
  'ColumnsReplaceTransformer',
  'ColumnsReplaceTransformer::Replacement',
  'TablesInSelectQuery',
  'TablesInSelectQueryElement',
  'TableExpression',
  'TableIdentifier',
  'TableJoin',
  'ArrayJoin',
  'SampleRatio',
  'OrderByElement',
  'WindowDefinition',
  'WindowListElement',
  'InterpolateElement',
  'QueryParameter',
]);

/** Databases refused whatever the catalogue says (a cluster user may not see them listed). */
const ALWAYS_FOREIGN = ['system', 'information_schema', 'default'];

const CATALOGUE_TTL_MS = 10_000;
const CHECK_CACHE_TTL_MS = 60_000;
const CHECK_CACHE_SIZE = 1000;

/** A ClickHouse string literal: quotes and backslashes escaped. */
export function sqlString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * Paren depth of canonical text (formatQuery output: no comments, strings in
 * '' with backslash escapes, identifiers in `` or ""). Returns false when the
 * depth goes negative, ends above zero, or a ';' appears outside a literal.
 */
export function balancedCanonical(sql: string): boolean {
  let depth = 0;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i];
    if (c === "'" || c === '`' || c === '"') {
      i++;
      while (i < sql.length && sql[i] !== c) i += sql[i] === '\\' ? 2 : 1;
      if (i >= sql.length) return false;
    } else if (c === '(') depth++;
    else if (c === ')') {
      depth--;
      if (depth < 0) return false;
    } else if (c === ';') return false;
  }
  return depth === 0;
}

const instances = new WeakMap<ClickHouse, TenantQuery>();

export class TenantQuery {
  private cat: Catalogue | undefined;
  private catLoading: Promise<Catalogue> | undefined;
  private readonly checks = new Map<string, { at: number; checked: CheckedQuery }>();
  private readonly log: Logger | undefined;

  /**
   * @param ro client of the READ-ONLY ClickHouse user on the Tidemark
   *        database. Its user must be readonly=1 (the embedded front and the
   *        cluster's users.xml/profile make it so); this class never sends
   *        `readonly`, which such a user may not change.
   */
  constructor(
    private readonly ro: ClickHouse,
    logger?: Logger,
  ) {
    this.log = logger?.child({ component: 'tenant-sql' });
  }

  /** The shared instance of a read-only client (catalogue and check caches are per client). */
  static for(ro: ClickHouse, logger?: Logger): TenantQuery {
    let t = instances.get(ro);
    if (!t) {
      t = new TenantQuery(ro, logger);
      instances.set(ro, t);
    }
    return t;
  }

  get database(): string {
    return this.ro.database;
  }

  /** Tenant tables and the other objects of the database; cached for CATALOGUE_TTL_MS. */
  async catalogue(force = false): Promise<Catalogue> {
    if (!force && this.cat && Date.now() - this.cat.at < CATALOGUE_TTL_MS) return this.cat;
    this.catLoading ??= this.loadCatalogue().finally(() => {
      this.catLoading = undefined;
    });
    return this.catLoading;
  }

  private async loadCatalogue(): Promise<Catalogue> {
    // Our own queries on system tables: the guard's reads, never the user's.
    const rs = await this.ro.client.query({
      query: `SELECT name, engine,
                name IN (SELECT table FROM system.columns WHERE database = {db:String} AND name = 'project_id') AS has_project
              FROM system.tables WHERE database = {db:String}`,
      query_params: { db: this.database },
      format: 'JSONEachRow',
    });
    const rows = z.array(catalogueRow).parse(await rs.json());
    const dbs = z.array(databaseRow).parse(await (await this.ro.client.query({ query: 'SELECT name FROM system.databases', format: 'JSONEachRow' })).json());
    const tenant = new Set<string>();
    const other = new Set<string>();
    for (const r of rows) {
      // Views and materialized views are not tenant tables even with a project_id column:
      // a filter on the view's name is not a filter on what its query reads.
      if (r.has_project > 0 && /MergeTree$/.test(r.engine)) tenant.add(r.name);
      else other.add(r.name);
    }
    const databases = new Set([...dbs.map((d) => d.name.toLowerCase()), ...ALWAYS_FOREIGN]);
    databases.delete(this.database.toLowerCase());
    this.cat = { at: Date.now(), tenant, other, databases };
    return this.cat;
  }

  /** Settings of every statement that touches user SQL (checks that resolve it, and the run). */
  settingsFor(projectId: string, cat: Catalogue, limits: TenantQueryLimits): ClickHouseSettings {
    const filter = `project_id = ${sqlString(projectId)}`;
    const entries = [...cat.tenant].sort().map((t) => `${sqlString(`${this.database}.${t}`)}: ${sqlString(filter)}`);
    return {
      // An empty map would filter nothing; with no tenant table there is nothing to filter.
      ...(entries.length ? { additional_table_filters: `{${entries.join(', ')}}` as never } : {}),
      max_execution_time: Math.max(1, Math.ceil(limits.timeoutMs / 1000)),
      timeout_overflow_mode: 'throw',
      max_result_rows: String(limits.maxRows),
      max_result_bytes: String(limits.maxResultBytes),
      result_overflow_mode: 'throw',
      max_memory_usage: String(limits.maxMemoryBytes),
      // JSON answers would report rows_read/bytes_read of the granules read, which span projects.
      output_format_write_statistics: 0,
    };
  }

  /**
   * Checks a statement (see the module comment). Throws ValidationError (400)
   * for what does not parse and ForbiddenError (403) for what is not allowed,
   * each with a message naming the reason.
   */
  async check(projectId: string, sql: string, params: Record<string, string | number> = {}): Promise<CheckedQuery> {
    const cached = this.checks.get(sql);
    if (cached && Date.now() - cached.at < CHECK_CACHE_TTL_MS) return cached.checked;
    const checked = await this.checkUncached(projectId, sql, params);
    if (this.checks.size >= CHECK_CACHE_SIZE) this.checks.delete(this.checks.keys().next().value as string);
    this.checks.set(sql, { at: Date.now(), checked });
    return checked;
  }

  private refuse(reason: string, sql: string): never {
    this.log?.info({ reason, sql: sql.slice(0, 500) }, 'user SQL refused');
    throw new ForbiddenError(`sql: ${reason}`);
  }

  private async checkUncached(projectId: string, sql: string, params: Record<string, string | number>): Promise<CheckedQuery> {
    const statements = splitStatements(sql);
    if (statements.length !== 1)
      throw new ValidationError(statements.length === 0 ? 'sql: empty statement' : `sql: exactly one statement is allowed (found ${statements.length})`);
    const kw = statementKeyword(statements[0] as string);
    if (kw !== 'SELECT' && kw !== 'WITH') this.refuse(`only SELECT statements are allowed (got ${kw || 'nothing'})`, sql);

    // (a) canonical text; the user's text is a bound parameter here.
    let canonical: string;
    try {
      const rs = await this.ro.client.query({
        query: 'SELECT formatQuerySingleLine({q:String}) AS f',
        query_params: { q: statements[0] },
        format: 'JSONEachRow',
      });
      canonical = z.array(formattedRow).parse(await rs.json())[0]?.f ?? '';
    } catch (err) {
      throw userSqlError(err, 'sql: does not parse');
    }
    if (/[\u0000-\u001f\u007f]/.test(canonical)) this.refuse('control characters in identifiers are not allowed', sql);
    if (!balancedCanonical(canonical)) this.refuse('the statement is not one self-contained SELECT', sql);

    // (b) the AST of the statement as a subquery.
    let cat = await this.catalogue();
    let lines: string[];
    try {
      const rs = await this.ro.client.query({
        query: `EXPLAIN AST SELECT * FROM (\n${canonical}\n)`,
        query_params: params,
        format: 'TabSeparatedRaw',
        clickhouse_settings: { max_execution_time: 10 },
      });
      lines = (await rs.text()).split('\n');
    } catch (err) {
      const e = userSqlError(err, 'sql');
      // INTO OUTFILE and FORMAT do not parse inside a subquery: this syntax error is where they end.
      if ((e.context as { clickhouseCode?: number }).clickhouseCode === 62) {
        throw new ValidationError(`sql: not a plain SELECT (no INTO OUTFILE or FORMAT clause): ${classifyError(err, 'clickhouse').message}`, {
          cause: err,
          context: e.context,
        });
      }
      throw e;
    }
    let user: AstNode;
    try {
      user = unwrap(parseExplainAst(lines));
    } catch (err) {
      this.refuse(err instanceof AstParseError ? `the parser's answer could not be read: ${err.message}` : String(err), sql);
    }
    const unknown = this.checkTree(user, cat, sql);
    if (unknown.length > 0) {
      // A name we do not know: a CTE, or a table created since the catalogue was read.
      cat = await this.catalogue(true);
      this.checkTree(user, cat, sql);
    }

    // (c) what the analyzer resolved, with the filters and limits already in force.
    let tree: string;
    try {
      const rs = await this.ro.client.query({
        query: `EXPLAIN QUERY TREE ${canonical}`,
        query_params: params,
        format: 'TabSeparatedRaw',
        clickhouse_settings: this.settingsFor(projectId, cat, { ...DEFAULT_TENANT_QUERY_LIMITS, timeoutMs: 10_000 }),
      });
      tree = await rs.text();
    } catch (err) {
      throw userSqlError(err, 'sql');
    }
    const tables = new Set<string>();
    for (const m of tree.matchAll(/\btable_name: ([^,\s]+)/g)) {
      const full = m[1] as string;
      // A SELECT without FROM reads the engine's one-row dummy table. Any system.* the user
      // named was refused in (b), so here system.one is only that implicit row.
      if (full === 'system.one') continue;
      const dot = full.indexOf('.');
      const db = full.slice(0, dot);
      const table = full.slice(dot + 1);
      if (dot === -1 || db !== this.database || !cat.tenant.has(table)) this.refuse(`${full} is not a table of this project's data`, sql);
      tables.add(table);
    }
    for (const m of tree.matchAll(/\btable_function_name: ([^,\s]+)/g)) {
      if (!ALLOWED_TABLE_FUNCTIONS.has(m[1] as string)) this.refuse(`table function ${m[1]} is not allowed`, sql);
    }
    return { sql: canonical, tables: [...tables].sort() };
  }

  /**
   * The AST policy. Returns unqualified table names that are neither tenant
   * tables nor other objects of the database (CTE names, or new tables).
   */
  private checkTree(root: AstNode, cat: Catalogue, sql: string): string[] {
    const unknown: string[] = [];
    for (const n of walkAst(root)) {
      if (!ALLOWED_KINDS.has(n.kind)) {
        if (n.kind === 'Set') this.refuse('a SETTINGS clause is not allowed: the platform sets the limits', sql);
        this.refuse(`${n.kind} is not allowed in a query`, sql);
      }
      if (n.kind === 'Function') {
        const fn = n.name;
        if (n.parent?.kind === 'TableExpression') {
          if (!ALLOWED_TABLE_FUNCTIONS.has(fn)) this.refuse(`table function ${fn} is not allowed (only ${[...ALLOWED_TABLE_FUNCTIONS].join(', ')})`, sql);
        } else if (!isAllowedFunction(fn)) {
          this.refuse(`function ${fn} is not allowed`, sql);
        }
      }
      if (n.kind === 'Identifier' || n.kind === 'TableIdentifier') {
        const parts = n.name.split('.');
        const first = (parts[0] ?? '').toLowerCase();
        // Anywhere in the statement (columns, IN, JOIN, table functions' arguments): `x IN system.one` ends here.
        if (parts.length >= 2 && cat.databases.has(first)) this.refuse(`${n.name} names the database ${parts[0]}: only this project's tables can be read`, sql);
        const ours = parts.length >= 2 && parts[0] === this.database;
        const object = ours ? (parts[1] as string) : (parts[0] as string);
        if (n.kind === 'TableIdentifier') {
          if (parts.length > 2 || (parts.length === 2 && !ours)) this.refuse(`${n.name} is not a table of the ${this.database} database`, sql);
          if (cat.other.has(object)) this.refuse(`${object} is not a table of this project's data (only tables with a project_id column can be read)`, sql);
          if (!cat.tenant.has(object)) unknown.push(object);
        } else if (ours || isInRightSide(n)) {
          // A table named where an expression goes: `x IN t`, `x IN db.t`. A column that shares a
          // non-tenant table's name is refused too: the rare false refusal is the safe side.
          if (cat.other.has(object)) this.refuse(`${object} is not a table of this project's data (only tables with a project_id column can be read)`, sql);
          if (!cat.tenant.has(object)) unknown.push(object);
        }
      }
    }
    return unknown;
  }

  /** Runs a checked statement; the answer is cut at limits.maxResultBytes (413). */
  async run(projectId: string, sql: string, opts: RunOptions): Promise<Buffer> {
    const params = opts.params ?? {};
    const checked = await this.check(projectId, sql, params);
    const cat = await this.catalogue();
    // The check may be cached: every table it resolved must still be a tenant table now.
    for (const t of checked.tables) {
      if (!cat.tenant.has(t)) throw new ForbiddenError(`sql: ${t} is not a table of this project's data`);
    }
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    opts.signal?.addEventListener('abort', onAbort);
    // The engine enforces the time limit; this only guards against a server that does not answer.
    const backstop = setTimeout(() => controller.abort(), opts.limits.timeoutMs + 5_000);
    try {
      let stream: NodeJS.ReadableStream & { destroy(): void };
      try {
        const r = await this.ro.client.exec({
          query: `${checked.sql}\nFORMAT ${opts.format}`,
          query_params: params,
          clickhouse_settings: this.settingsFor(projectId, cat, opts.limits),
          abort_signal: controller.signal,
        });
        stream = r.stream as typeof stream;
      } catch (err) {
        throw userSqlError(err, 'sql', opts.limits);
      }
      const chunks: Buffer[] = [];
      let total = 0;
      try {
        for await (const chunk of stream) {
          const b = chunk as Buffer;
          total += b.length;
          if (total > opts.limits.maxResultBytes) {
            stream.destroy();
            controller.abort();
            throw new PayloadTooLargeError(`sql: the answer is larger than ${opts.limits.maxResultBytes} bytes; select fewer rows or columns, or aggregate`, {
              context: { limitBytes: opts.limits.maxResultBytes },
            });
          }
          chunks.push(b);
        }
      } catch (err) {
        if (err instanceof TidemarkError) throw err;
        throw userSqlError(err, 'sql', opts.limits);
      }
      return Buffer.concat(chunks, total);
    } finally {
      clearTimeout(backstop);
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Columns of a checked statement's answer (DESCRIBE), with the same filters and limits. */
  async describe(
    projectId: string,
    sql: string,
    params: Record<string, string | number>,
    limits: TenantQueryLimits,
  ): Promise<{ name: string; type: string }[]> {
    const checked = await this.check(projectId, sql, params);
    const cat = await this.catalogue();
    try {
      const rs = await this.ro.client.query({
        query: `DESCRIBE TABLE (\n${checked.sql}\n)`,
        query_params: params,
        format: 'JSONEachRow',
        clickhouse_settings: this.settingsFor(projectId, cat, limits),
      });
      return z
        .array(describeRow)
        .parse(await rs.json())
        .map((r) => ({ name: r.name, type: r.type }));
    } catch (err) {
      throw userSqlError(err, 'sql', limits);
    }
  }
}

/** Is this identifier the right-hand side of an IN-family function (a table there)? */
function isInRightSide(n: AstNode): boolean {
  const list = n.parent;
  const fn = list?.parent;
  return list?.kind === 'ExpressionList' && fn?.kind === 'Function' && /^(global)?(not)?(null)?in$/i.test(fn.name) && list.children[1] === n;
}

/**
 * The user's statement out of `EXPLAIN AST SELECT * FROM (<sql>)`. The
 * wrapper must be exactly what we sent, node for node (plus the FORMAT the
 * client appends); anything else means the text did not stay inside the
 * parentheses.
 */
function unwrap(roots: AstNode[]): AstNode {
  const fail = (what: string): never => {
    throw new AstParseError(`unexpected statement structure (${what})`);
  };
  if (roots.length !== 1) fail('several roots');
  const top = roots[0] as AstNode;
  const [list, fmt, ...rest] = top.children;
  if (top.kind !== 'SelectWithUnionQuery' || !list || rest.length || list.kind !== 'ExpressionList' || list.children.length !== 1) fail('top');
  if (fmt && !(fmt.kind === 'Identifier' && fmt.name === 'TabSeparatedRaw')) fail(`top-level ${fmt.kind}`);
  const select = (list as AstNode).children[0] as AstNode;
  if (select.kind !== 'SelectQuery' || select.children.length !== 2) fail('select');
  const [cols, tables] = select.children as [AstNode, AstNode];
  if (cols.kind !== 'ExpressionList' || cols.children.length !== 1 || cols.children[0]?.kind !== 'Asterisk' || cols.children[0].children.length)
    fail('columns');
  if (tables.kind !== 'TablesInSelectQuery' || tables.children.length !== 1) fail('tables');
  const elem = tables.children[0] as AstNode;
  if (elem.kind !== 'TablesInSelectQueryElement' || elem.children.length !== 1) fail('element');
  const expr = elem.children[0] as AstNode;
  if (expr.kind !== 'TableExpression' || expr.children.length !== 1) fail('table expression');
  const sub = expr.children[0] as AstNode;
  if (sub.kind !== 'Subquery' || sub.children.length !== 1 || sub.alias !== undefined) fail('subquery');
  const user = sub.children[0] as AstNode;
  if (user.kind !== 'SelectWithUnionQuery') fail(user.kind);
  return user;
}

/**
 * Turns an engine error about user SQL into what the API answers: the
 * user's fault is a 4xx with ClickHouse's message; an engine that is down
 * stays retriable (503).
 */
export function userSqlError(err: unknown, prefix: string, limits?: TenantQueryLimits): TidemarkError {
  const e = classifyError(err, 'clickhouse');
  if (e instanceof TidemarkError && !(e instanceof ClickHouseQueryError)) {
    return e.statusCode >= 500 && !e.retriable ? new ValidationError(`${prefix}: ${e.message}`, { cause: err }) : e;
  }
  const { clickhouseCode: code, type } = e.context as { clickhouseCode?: number; type?: string };
  const context = { clickhouseCode: code, ...(type ? { type } : {}) };
  if (code === 241)
    return new ValidationError(`${prefix}: the query needs more memory than its limit${limits ? ` (${limits.maxMemoryBytes} bytes)` : ''}: ${e.message}`, {
      cause: err,
      context,
    });
  if (code === 396) {
    return new PayloadTooLargeError(
      `${prefix}: the answer exceeds its limit${limits ? ` (${limits.maxRows} rows, ${limits.maxResultBytes} bytes)` : ''}: ${e.message}`,
      {
        cause: err,
        context: { limitBytes: limits?.maxResultBytes ?? 0, ...context },
      },
    );
  }
  if (code === 159)
    return new ValidationError(`${prefix}: the query ran longer than its time limit${limits ? ` (${Math.ceil(limits.timeoutMs / 1000)} s)` : ''}`, {
      cause: err,
      context,
    });
  if (code === 164 || code === 497) return new ForbiddenError(`${prefix}: ${e.message}`, { cause: err, context });
  if (e.retriable) return e;
  return new ValidationError(`${prefix}: ${e.message}`, { cause: err, context });
}

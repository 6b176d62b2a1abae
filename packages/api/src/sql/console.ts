import { z } from 'zod';
import { ForbiddenError, splitStatements, statementKeyword, ValidationError, classifyError, type ClickHouse } from '@tidemark/core';

/** Table functions that read nothing but generated numbers. Everything else (merge, url, file, remote, ...) is refused. */
const ALLOWED_TABLE_FUNCTIONS = new Set(['numbers', 'numbers_mt', 'zeros', 'zeros_mt', 'generateSeries', 'generate_series', 'values']);
/** Scalar functions that reach outside the query's tables. */
const DENIED_FUNCTIONS = /^(dictGet|dictHas|dictGetOrDefault|dictGetOrNull|dictGetHierarchy|dictIsIn|joinGet|joinGetOrNull|file|url|s3|remote|remoteSecure|executable|input|mysql|postgresql|mongodb|redis|sqlite|hdfs|azureBlobStorage|getClientHTTPHeader)$/i;

export interface ConsoleLimits {
  maxExecutionSeconds: number;
  maxResultRows: number;
  maxResultBytes: number;
}

export interface ConsoleDeps {
  /** Client of the read-only ClickHouse user, on the Tidemark database. */
  readonly: ClickHouse;
  database: string;
}

/**
 * The analysts' SQL console. Layers, each enough to refuse on its own:
 * 1. one statement, and it must be a SELECT (or WITH ... SELECT);
 * 2. ClickHouse parses it (EXPLAIN AST) and every table it reads must be a
 *    tenant table of the Tidemark database (one with a project_id column),
 *    every table function must be a generator (numbers), and no function may
 *    reach dictionaries, files or URLs;
 * 3. it runs as the read-only user (readonly=1: no writes, no DDL, no
 *    setting changes inside the SQL) with time, row and byte limits, and with
 *    additional_table_filters binding every tenant table to the caller's
 *    project, so the engine itself filters whatever the SQL says.
 */
export class SqlConsole {
  private tenantTables: { at: number; names: Set<string> } | undefined;

  constructor(private readonly deps: ConsoleDeps) {}

  private async tables(): Promise<Set<string>> {
    if (this.tenantTables && Date.now() - this.tenantTables.at < 60_000) return this.tenantTables.names;
    const rs = await this.deps.readonly.client.query({
      query: "SELECT DISTINCT table FROM system.columns WHERE database = {db:String} AND name = 'project_id'",
      query_params: { db: this.deps.database },
      format: 'JSONEachRow',
    });
    const names = new Set((await rs.json<{ table: string }>()).map((r) => r.table));
    this.tenantTables = { at: Date.now(), names };
    return names;
  }

  /** Checks the statement; returns the tenant tables it may read. */
  async check(sql: string): Promise<Set<string>> {
    const statements = splitStatements(sql);
    if (statements.length !== 1) throw new ValidationError(statements.length === 0 ? 'sql: empty statement' : 'sql: exactly one statement is allowed');
    const kw = statementKeyword(statements[0]!);
    if (kw !== 'SELECT' && kw !== 'WITH') throw new ForbiddenError(`sql: only SELECT statements are allowed (got ${kw || 'nothing'})`);
    const tenant = await this.tables();
    let ast: string;
    try {
      const rs = await this.deps.readonly.client.query({ query: `EXPLAIN AST ${statements[0]}`, format: 'TabSeparatedRaw' });
      ast = await rs.text();
    } catch (err) {
      throw new ValidationError(`sql: ${classifyError(err, 'clickhouse').message}`);
    }
    const lines = ast.split('\n').map((l) => ({ depth: l.length - l.trimStart().length, text: l.trim() }));
    lines.forEach((line, i) => {
      const fn = /^Function (\S+)/.exec(line.text);
      if (fn && DENIED_FUNCTIONS.test(fn[1]!)) throw new ForbiddenError(`sql: function ${fn[1]} is not allowed in the console`);
      if (line.text.startsWith('TableExpression')) {
        const child = lines[i + 1];
        const tf = child && /^Function (\S+)/.exec(child.text);
        if (tf && !ALLOWED_TABLE_FUNCTIONS.has(tf[1]!)) throw new ForbiddenError(`sql: table function ${tf[1]} is not allowed in the console`);
      }
      const ti = /^TableIdentifier (.+?)(?: \(alias .*\))?$/.exec(line.text);
      if (ti) {
        const name = ti[1]!.replace(/`/g, '');
        const dot = name.indexOf('.');
        const db = dot === -1 ? undefined : name.slice(0, dot);
        const table = dot === -1 ? name : name.slice(dot + 1);
        if (db !== undefined && db !== this.deps.database) throw new ForbiddenError(`sql: only tables of the ${this.deps.database} database can be read (got ${name})`);
        // Unqualified names that are not tenant tables may only be CTEs: any real table is refused.
        if (!tenant.has(table) && (db !== undefined || this.knownTable(table))) throw new ForbiddenError(`sql: table ${name} is not readable from the console`);
      }
    });
    return tenant;
  }

  private knownNonTenant = new Set<string>();
  private knownTable(name: string): boolean {
    return this.knownNonTenant.has(name);
  }

  private async refreshNonTenant(): Promise<void> {
    const rs = await this.deps.readonly.client.query({
      query: 'SELECT name FROM system.tables WHERE database = {db:String}',
      query_params: { db: this.deps.database },
      format: 'JSONEachRow',
    });
    const all = (await rs.json<{ name: string }>()).map((r) => r.name);
    const tenant = await this.tables();
    this.knownNonTenant = new Set(all.filter((n) => !tenant.has(n)));
  }

  async run(projectId: string, sql: string, format: 'json' | 'csv', limits: ConsoleLimits): Promise<{ body: string; contentType: string }> {
    await this.refreshNonTenant();
    const tenant = await this.check(sql);
    const quote = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
    const filter = `project_id = ${quote(projectId)}`;
    const filters = `{${[...tenant].map((t) => `${quote(`${this.deps.database}.${t}`)}: ${quote(filter)}`).join(', ')}}`;
    try {
      const rs = await this.deps.readonly.client.query({
        query: splitStatements(sql)[0]!,
        format: format === 'csv' ? 'CSVWithNames' : 'JSON',
        clickhouse_settings: {
          additional_table_filters: filters as never,
          max_execution_time: limits.maxExecutionSeconds,
          max_result_rows: String(limits.maxResultRows),
          max_result_bytes: String(limits.maxResultBytes),
          result_overflow_mode: 'throw',
        },
      });
      return { body: await rs.text(), contentType: format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8' };
    } catch (err) {
      const e = classifyError(err, 'clickhouse');
      throw e.statusCode >= 500 && !e.retriable ? new ValidationError(`sql: ${e.message}`, { cause: err }) : e;
    }
  }
}

export const sqlRequest = z.object({
  sql: z.string().min(1).max(100_000),
  format: z.enum(['json', 'csv']).default('json'),
  max_rows: z.number().int().min(1).max(1_000_000).default(10_000),
  timeout_seconds: z.number().int().min(1).max(60).default(30),
});

import { z } from 'zod';
import { TenantQuery, type ClickHouse, type Logger, type TenantQueryLimits } from '@tidemark/core';

export interface ConsoleLimits {
  maxExecutionSeconds: number;
  maxResultRows: number;
  /** Bytes of the formatted answer; a larger answer is refused with 413 (counted on the bytes produced). */
  maxResultBytes: number;
  /** Memory of the statement in the engine. */
  maxMemoryBytes: number;
}

export interface ConsoleDeps {
  /** Client of the read-only ClickHouse user, on the Tidemark database. */
  readonly: ClickHouse;
  database: string;
  logger?: Logger;
}

/**
 * The analysts' SQL console: a thin front of core's tenant-scoped read path
 * (TenantQuery), which parses the statement with ClickHouse's own parser,
 * allows only a SELECT of this project's tables with allowlisted functions,
 * runs it as the read-only user with every tenant table filtered to the
 * caller's project by the engine, and cuts the answer at a byte cap. The
 * console adds nothing to that path and takes nothing away.
 */
export class SqlConsole {
  private readonly tenant: TenantQuery;

  constructor(deps: ConsoleDeps) {
    this.tenant = TenantQuery.for(deps.readonly, deps.logger);
  }

  async run(projectId: string, sql: string, format: 'json' | 'csv', limits: ConsoleLimits): Promise<{ body: Buffer; contentType: string }> {
    const l: TenantQueryLimits = {
      timeoutMs: limits.maxExecutionSeconds * 1000,
      maxRows: limits.maxResultRows,
      maxResultBytes: limits.maxResultBytes,
      maxMemoryBytes: limits.maxMemoryBytes,
    };
    // JSON without statistics (set by TenantQuery): rows_read/bytes_read count granules of every project.
    const body = await this.tenant.run(projectId, sql, { format: format === 'csv' ? 'CSVWithNames' : 'JSON', limits: l });
    return { body, contentType: format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8' };
  }
}

export const sqlRequest = z.object({
  sql: z.string().min(1).max(100_000),
  format: z.enum(['json', 'csv']).default('json'),
  max_rows: z.number().int().min(1).max(1_000_000).default(10_000),
  timeout_seconds: z.number().int().min(1).max(60).default(30),
});

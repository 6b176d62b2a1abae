import type { z } from 'zod';
import { TidemarkError, type ClickHouse, type QueryDef } from '@tidemark/core';

/**
 * The business tables the ETL keeps in ClickHouse (ReplacingMergeTree on
 * _version with an is_deleted tombstone flag, one project_id per row).
 */
export const BIZ_TABLES = {
  customers: 'biz_customers_v1',
  orders: 'biz_orders_v1',
  serviceRecords: 'biz_service_records_v1',
  users: 'biz_users_v1',
  organizations: 'biz_organizations_v1',
  roles: 'biz_roles_v1',
} as const;
export type BizTable = keyof typeof BIZ_TABLES;

/**
 * `<table> FINAL WHERE project_id = {project:String} AND is_deleted = 0`:
 * the current rows of the caller's project. FINAL keeps only each key's
 * highest _version, so a row landed twice (retry, overlap, replayed CDC) or
 * updated is counted once with its latest values; the WHERE runs after
 * FINAL, so a deleted key (its newest version is a tombstone) is not counted.
 * Append further conditions with AND.
 */
export function bizRows(table: BizTable): string {
  return `${BIZ_TABLES[table]} FINAL WHERE project_id = {project:String} AND is_deleted = 0`;
}

/** A text column as a plain String: NULL becomes '' (the ETL lands nullable source columns as Nullable). */
export function text(column: string): string {
  return `ifNull(toString(${column}), '')`;
}

/** Local date (in {tz:String}) of a timestamp column is within {start:Date}..{end:Date}, written so the primary index can help. */
export function inDates(column: string): string {
  return `(${column} >= toDateTime({start:Date}, {tz:String}) AND ${column} < toDateTime(addDays({end:Date}, 1), {tz:String}))`;
}

export class BusinessDataMissingError extends TidemarkError {
  constructor(message: string, cause: unknown) {
    super(message, { code: 'BUSINESS_DATA_MISSING', retriable: false, statusCode: 404 }, { cause });
  }
}

/**
 * ch.query for statements over business tables: a table the ETL has not
 * created yet, or one without the agreed columns, is answered with a clear
 * 404 that names the table instead of a ClickHouse error.
 */
export function bizQuery<P extends z.ZodType<Record<string, unknown>>, R extends z.ZodType>(ch: ClickHouse, def: QueryDef<P, R>) {
  const run = ch.query(def);
  const tables = Object.values(BIZ_TABLES).filter((t) => def.sql.includes(t));
  return async (params: z.input<P>): Promise<z.output<R>[]> => {
    try {
      return await run(params);
    } catch (err) {
      const code = (err as TidemarkError).context?.clickhouseCode;
      if (code === 60) {
        throw new BusinessDataMissingError(
          `business data not synced yet: ClickHouse has no table ${tables.join(' or ')} (the etl role creates the biz_* tables on its first sync; see docs/etl.md)`,
          err,
        );
      }
      if (code === 47) {
        throw new BusinessDataMissingError(
          `business table ${tables.join(' or ')} lacks a column this statistic reads (${(err as Error).message.split('\n')[0]}); docs/api.md lists the columns`,
          err,
        );
      }
      throw err;
    }
  };
}

import { classifyError, TidemarkError, type ErrorOptions } from '@tidemark/core';
import { FAIL_MARKER } from './target/types';

type TableContext = { table: string } & Record<string, unknown>;

/**
 * A source value that cannot be landed exactly (numeric overflow, a date
 * outside ClickHouse's range, NaN in a Decimal). Not retriable: the same read
 * fails the same way until the data or the type override changes. The table's
 * run fails loudly; other tables go on.
 */
export class EtlDataError extends TidemarkError<TableContext> {
  constructor(message: string, options: ErrorOptions<TableContext>) {
    super(message, { code: 'ETL_DATA_ERROR', retriable: false, statusCode: 422 }, options);
  }
}

/**
 * The source table changed in a way the target cannot follow by itself
 * (a column dropped or renamed, a type narrowed or changed kind, the primary
 * key changed). The table is quarantined until its config changes or it is
 * resynced; other tables are unaffected.
 */
export class SchemaIncompatibleError extends TidemarkError<TableContext> {
  constructor(message: string, options: ErrorOptions<TableContext>) {
    super(message, { code: 'ETL_SCHEMA_INCOMPATIBLE', retriable: false, statusCode: 409 }, options);
  }
}

/** Another run holds the checkpoint this run expected to advance (lost lock, two workers). */
export class CheckpointConflictError extends TidemarkError<TableContext> {
  constructor(message: string, options: ErrorOptions<TableContext>) {
    super(message, { code: 'ETL_CHECKPOINT_CONFLICT', retriable: false, statusCode: 409 }, options);
  }
}

/**
 * Classifies an error raised while reading a source table: the failing-cast
 * guard of target/types.ts becomes an EtlDataError with its message; anything
 * else goes through core's classifyError.
 */
export function classifySourceError(err: unknown, table: string): TidemarkError {
  if (err instanceof TidemarkError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const m = FAIL_MARKER.exec(message);
  if (m && m[1]) return new EtlDataError(`${table}: ${m[1]}`, { cause: err, context: { table } });
  const e = classifyError(err, 'postgres');
  (e.context as Record<string, unknown>).table = table;
  return e;
}

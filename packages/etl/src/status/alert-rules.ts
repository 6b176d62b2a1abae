/**
 * Alert rules over etl_sync_status (for the alerting engine's rule set).
 * Each query returns one row per firing table. The stall rule compares with
 * now(), so it also fires when the etl role is down and writes nothing.
 */
export const ETL_ALERT_RULES = [
  {
    name: 'etl_sync_stalled',
    severity: 'critical',
    description: 'A synced business table has not synced within its stall threshold (or is failing / quarantined).',
    sql: `SELECT table_key, state, last_success_at, lag_seconds, last_error
FROM etl_sync_status
WHERE state IN ('stalled', 'quarantined')
   OR (phase = 'incremental' AND (last_success_at IS NULL OR last_success_at < now64(3) - toIntervalSecond(stall_after_seconds)
                                  OR lag_seconds > stall_after_seconds))`,
  },
  {
    name: 'etl_sync_failing',
    severity: 'warning',
    description: 'A synced business table failed its last runs (e.g. a numeric value that does not fit its Decimal).',
    sql: `SELECT table_key, consecutive_failures, last_error FROM etl_sync_status WHERE consecutive_failures >= 3`,
  },
  {
    name: 'etl_reconciliation_mismatch',
    severity: 'warning',
    description: 'The last reconciliation found keys missing or extra in ClickHouse.',
    sql: `SELECT table_key, recon_missing, recon_extra, recon_at FROM etl_sync_status WHERE recon_missing > 0 OR recon_extra > 0`,
  },
  {
    name: 'etl_cdc_slot_lag',
    severity: 'warning',
    description: 'A CDC replication slot retains more than 1 GiB of WAL (the source disk fills if it keeps growing).',
    sql: `SELECT source, max(slot_lag_bytes) AS slot_lag_bytes FROM etl_sync_status WHERE mode = 'cdc' GROUP BY source HAVING slot_lag_bytes > 1073741824`,
  },
] as const;

import { z } from 'zod';
import { SEVERITIES } from '../rules/schema';
import { ALERT_STATES, INSTANCE_KINDS } from './types';

/**
 * Zod schemas of the alerting tables' shared column types, for the row
 * schemas of the queries that read them. The CHECK constraints of the
 * migrations (packages/alerting/sql/postgres/0100_alerting.sql) and these enums
 * say the same thing; a row outside them fails with the query's name.
 */
export const kindColumn = z.enum(INSTANCE_KINDS);
export const stateColumn = z.enum(ALERT_STATES);
export const severityColumn = z.enum(SEVERITIES);
export const statusColumn = z.enum(['firing', 'resolved']);
/** labels, annotations, group_labels (jsonb objects of strings). */
export const stringMapColumn = z.record(z.string(), z.string());
/** A bigint or bigserial: node-postgres returns it as a string. */
export const bigintColumn = z.string();

/**
 * The columns alert_events (the outbox) and alert_group_alerts (group
 * members) share: one instance's episode at one state, as routed.
 */
export const routedAlertColumns = z.object({
  rule_name: z.string(),
  fingerprint: z.string(),
  episode: z.number(),
  kind: kindColumn,
  status: statusColumn,
  severity: severityColumn,
  dedup_key: z.string(),
  labels: stringMapColumn,
  annotations: stringMapColumn,
  value: z.number().nullable(),
  starts_at: z.date(),
  ends_at: z.date().nullable(),
});

import crypto from 'node:crypto';
import { pgMaybeOne, pgOne, pgRows, type Queryable } from '@tidemark/core';
import { z } from 'zod';
import { invalidQuery, percent, round } from './dates';

/**
 * Quality audits in the metadata Postgres (quality_audits): the statements,
 * each with its row schema, and the figures computed from their rows. Every
 * statement is scoped to one project (project_id = $1).
 */

export const AUDIT_STATUSES = ['passed', 'failed', 'pending_review'] as const;

/** A quality_audits row as node-postgres returns it (jsonb parsed, timestamptz as Date). */
const auditRow = z.object({
  id: z.string(),
  session_id: z.string(),
  agent_id: z.string().nullable(),
  agent_name: z.string().nullable(),
  customer_name: z.string().nullable(),
  session_type: z.string().nullable(),
  score: z.number(),
  final_score: z.number().nullable(),
  status: z.string(),
  audit_type: z.string(),
  issues: z.unknown(),
  audited_at: z.date(),
  reviewed_by: z.string().nullable(),
  reviewed_at: z.date().nullable(),
  review_comment: z.string().nullable(),
});
type AuditRow = z.output<typeof auditRow>;

const COLUMNS =
  'id, session_id, agent_id, agent_name, customer_name, session_type, score, final_score, status, audit_type, issues, audited_at, reviewed_by, reviewed_at, review_comment';

function present(r: AuditRow) {
  return {
    id: r.id,
    session_id: r.session_id,
    agent_id: r.agent_id,
    agent: r.agent_name,
    customer: r.customer_name,
    type: r.session_type,
    score: r.score,
    final_score: r.final_score,
    effective_score: r.final_score ?? r.score,
    status: r.status,
    audit_type: r.audit_type,
    issues: r.issues,
    audited_at: r.audited_at.toISOString(),
    reviewed_by: r.reviewed_by,
    reviewed_at: r.reviewed_at?.toISOString() ?? null,
    review_comment: r.review_comment,
  };
}

/** WHERE conditions for a project, an optional audited_at date range in a zone, and filters; values as $n parameters. */
function where(projectId: string, q: AuditFilter) {
  const params: unknown[] = [projectId];
  const conds = ['project_id = $1'];
  const add = (sql: (n: string) => string, v: unknown) => {
    params.push(v);
    conds.push(sql(`$${params.length}`));
  };
  if (q.start_date && q.end_date && q.end_date < q.start_date) throw invalidQuery('end_date', `must not be before start_date (${q.start_date})`);
  if (q.start_date || q.end_date) params.push(q.timezone);
  const tz = `$${params.length}`;
  if (q.start_date) add((n) => `audited_at >= (${n}::date::timestamp AT TIME ZONE ${tz})`, q.start_date);
  if (q.end_date) add((n) => `audited_at < ((${n}::date + 1)::timestamp AT TIME ZONE ${tz})`, q.end_date);
  if (q.status) add((n) => `status = ${n}`, q.status);
  if (q.agent_id) add((n) => `agent_id = ${n}`, q.agent_id);
  if (q.session_id) add((n) => `session_id = ${n}`, q.session_id);
  return { sql: conds.join(' AND '), params };
}

const INSERT_AUDIT = {
  name: 'quality.insert',
  row: auditRow,
  sql: `INSERT INTO quality_audits (id, project_id, session_id, agent_id, agent_name, customer_name, session_type, score, status, audit_type, issues, audited_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, coalesce($12::timestamptz, now()))
        RETURNING ${COLUMNS}`,
};
const REVIEW_AUDIT = {
  name: 'quality.review',
  row: auditRow,
  sql: `UPDATE quality_audits SET final_score = $3, status = $4, reviewed_by = $5, review_comment = $6, reviewed_at = now()
        WHERE project_id = $1 AND id = $2
        RETURNING ${COLUMNS}`,
};

const count = z.coerce.number();
/** count(*) is bigint (text); avg of no rows is null. */
const summaryRow = z.object({
  audited: count,
  passed: count,
  failed: count,
  pending_review: count,
  reviewed: count,
  auto: count,
  manual: count,
  avg_score: z.string().nullable(),
});
const SUMMARY_SQL = `SELECT count(*) AS audited,
       count(*) FILTER (WHERE status = 'passed') AS passed,
       count(*) FILTER (WHERE status = 'failed') AS failed,
       count(*) FILTER (WHERE status = 'pending_review') AS pending_review,
       count(*) FILTER (WHERE reviewed_at IS NOT NULL) AS reviewed,
       count(*) FILTER (WHERE audit_type = 'auto') AS auto,
       count(*) FILTER (WHERE audit_type = 'manual') AS manual,
       avg(coalesce(final_score, score)) AS avg_score
FROM quality_audits`;

export interface AuditFilter {
  start_date?: string | undefined;
  end_date?: string | undefined;
  timezone: string;
  status?: string | undefined;
  agent_id?: string | undefined;
  session_id?: string | undefined;
}

/** Counts, pass rate (passed of decided), average effective score and the most frequent issue types. */
export async function qualitySummary(meta: Queryable, projectId: string, query: AuditFilter & { top: number }, passScore: number) {
  const w = where(projectId, query);
  const [c, issues] = await Promise.all([
    pgOne(meta, { name: 'quality.summary', sql: `${SUMMARY_SQL} WHERE ${w.sql}`, row: summaryRow }, w.params),
    pgRows(
      meta,
      {
        name: 'quality.top_issues',
        sql: `SELECT i->>'type' AS type, count(*) AS count
              FROM quality_audits, jsonb_array_elements(issues) AS i
              WHERE ${w.sql}
              GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ${Number(query.top)}`,
        row: z.object({ type: z.string(), count: z.coerce.number() }),
      },
      w.params,
    ),
  ]);
  return {
    audited_count: c.audited,
    passed: c.passed,
    failed: c.failed,
    pending_review: c.pending_review,
    reviewed: c.reviewed,
    by_audit_type: { auto: c.auto, manual: c.manual },
    pass_rate: percent(c.passed, c.passed + c.failed),
    avg_score: c.avg_score === null ? null : round(Number(c.avg_score)),
    pass_score: passScore,
    top_issues: issues,
  };
}

/** One page of audits, newest first, with the total count. */
export async function listAudits(meta: Queryable, projectId: string, query: AuditFilter & { page: number; size: number }) {
  const w = where(projectId, query);
  const [total, rows] = await Promise.all([
    pgOne(meta, { name: 'quality.count', sql: `SELECT count(*) AS n FROM quality_audits WHERE ${w.sql}`, row: z.object({ n: z.coerce.number() }) }, w.params),
    pgRows(
      meta,
      {
        name: 'quality.records',
        sql: `SELECT ${COLUMNS} FROM quality_audits WHERE ${w.sql} ORDER BY audited_at DESC, id LIMIT ${Number(query.size)} OFFSET ${(Number(query.page) - 1) * Number(query.size)}`,
        row: auditRow,
      },
      w.params,
    ),
  ]);
  const n = total.n;
  return { items: rows.map(present), total: n, page: query.page, size: query.size, pages: Math.ceil(n / query.size) };
}

export interface NewAudit {
  session_id: string;
  agent_id?: string | undefined;
  agent_name?: string | undefined;
  customer_name?: string | undefined;
  session_type?: string | undefined;
  score: number;
  status: string;
  audit_type: string;
  issues: unknown[];
  audited_at?: string | undefined;
}

export async function insertAudit(meta: Queryable, projectId: string, a: NewAudit) {
  const r = await pgOne(meta, INSERT_AUDIT, [
    crypto.randomUUID(),
    projectId,
    a.session_id,
    a.agent_id ?? null,
    a.agent_name ?? null,
    a.customer_name ?? null,
    a.session_type ?? null,
    a.score,
    a.status,
    a.audit_type,
    JSON.stringify(a.issues),
    a.audited_at ?? null,
  ]);
  return present(r);
}

/** Sets the final score and status of an audit; undefined when the project has no such audit. */
export async function reviewAudit(
  meta: Queryable,
  projectId: string,
  id: string,
  r: { final_score: number; status: string; reviewer_id: string; comment?: string | undefined },
) {
  const row = await pgMaybeOne(meta, REVIEW_AUDIT, [projectId, id, r.final_score, r.status, r.reviewer_id, r.comment ?? null]);
  return row && present(row);
}

import crypto from 'node:crypto';
import { NotFoundError, pgMaybeOne, pgOne, pgRows } from '@tidemark/core';
import type { Pool } from 'pg';
import { z } from 'zod';
import { dateParam, intParam, invalidQuery, percent, round, timezoneParam } from '../analytics/dates';
import { route, type AnyRoute } from '../http/route';

/**
 * Quality audits of conversations (/api/analytics-monitoring/quality/...):
 * an auditor (automatic or a person) records a score, a status and the
 * issues found; a reviewer may set the final score. Stored in the metadata
 * Postgres (quality_audits), every statement scoped to the caller's project.
 */

export const AUDIT_STATUSES = ['passed', 'failed', 'pending_review'] as const;
const SEVERITIES = ['low', 'medium', 'high'] as const;

const issue = z.union([
  z.string().min(1).max(200).transform((type) => ({ type })),
  z.object({ type: z.string().min(1).max(200), detail: z.string().max(2000).optional(), severity: z.enum(SEVERITIES).optional() }).strict(),
]);

const createBody = z
  .object({
    session_id: z.string().min(1).max(200),
    agent_id: z.string().max(200).optional(),
    agent_name: z.string().max(200).optional(),
    customer_name: z.string().max(200).optional(),
    session_type: z.string().max(200).optional().describe('the conversation scenario, e.g. "battery range question"'),
    score: z.number().int().min(0).max(100),
    status: z.enum(AUDIT_STATUSES).optional().describe('default: passed when score >= API_QUALITY_PASS_SCORE, else pending_review'),
    audit_type: z.enum(['auto', 'manual']).default('auto'),
    issues: z.array(issue).max(100).default([]).describe('strings or { type, detail?, severity? }'),
    audited_at: z.iso.datetime({ offset: true }).optional().describe('default now'),
  })
  .strict();

const reviewBody = z
  .object({
    reviewer_id: z.string().min(1).max(200),
    final_score: z.number().int().min(0).max(100),
    status: z.enum(['passed', 'failed']).optional().describe('default: passed when final_score >= API_QUALITY_PASS_SCORE, else failed'),
    comment: z.string().max(2000).optional(),
  })
  .strict();

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

const COLUMNS = 'id, session_id, agent_id, agent_name, customer_name, session_type, score, final_score, status, audit_type, issues, audited_at, reviewed_by, reviewed_at, review_comment';

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

const auditRecord = z.object({
  id: z.string(),
  session_id: z.string(),
  agent_id: z.string().nullable(),
  agent: z.string().nullable(),
  customer: z.string().nullable(),
  type: z.string().nullable(),
  score: z.number(),
  final_score: z.number().nullable(),
  effective_score: z.number(),
  status: z.enum(AUDIT_STATUSES),
  audit_type: z.enum(['auto', 'manual']),
  issues: z.array(z.object({ type: z.string(), detail: z.string().optional(), severity: z.enum(SEVERITIES).optional() })),
  audited_at: z.string(),
  reviewed_by: z.string().nullable(),
  reviewed_at: z.string().nullable(),
  review_comment: z.string().nullable(),
});

/** WHERE conditions for a project, an optional audited_at date range in a zone, and filters; values as $n parameters. */
function where(projectId: string, q: { start_date?: string | undefined; end_date?: string | undefined; timezone: string; status?: string | undefined; agent_id?: string | undefined; session_id?: string | undefined }) {
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
const summaryRow = z.object({ audited: count, passed: count, failed: count, pending_review: count, reviewed: count, auto: count, manual: count, avg_score: z.string().nullable() });
const SUMMARY_SQL = `SELECT count(*) AS audited,
       count(*) FILTER (WHERE status = 'passed') AS passed,
       count(*) FILTER (WHERE status = 'failed') AS failed,
       count(*) FILTER (WHERE status = 'pending_review') AS pending_review,
       count(*) FILTER (WHERE reviewed_at IS NOT NULL) AS reviewed,
       count(*) FILTER (WHERE audit_type = 'auto') AS auto,
       count(*) FILTER (WHERE audit_type = 'manual') AS manual,
       avg(coalesce(final_score, score)) AS avg_score
FROM quality_audits`;

const rangeQuery = {
  start_date: dateParam.optional().describe('audited from this day (YYYY-MM-DD, in timezone); default: no lower bound'),
  end_date: dateParam.optional().describe('audited up to this day, inclusive; default: no upper bound'),
  timezone: timezoneParam,
};

export function qualityRoutes(deps: { meta: Pool; passScore: number }): AnyRoute[] {
  const base = '/api/analytics-monitoring/quality';
  return [
    route({
      method: 'get',
      path: `${base}/summary`,
      summary: 'Quality audits: count, pass rate, pending reviews, average score, most frequent issues',
      tag: 'quality',
      auth: 'read',
      response: z.object({
        audited_count: z.number(),
        passed: z.number(),
        failed: z.number(),
        pending_review: z.number(),
        reviewed: z.number(),
        by_audit_type: z.object({ auto: z.number(), manual: z.number() }),
        pass_rate: z.number().nullable(),
        avg_score: z.number().nullable(),
        pass_score: z.number(),
        top_issues: z.array(z.object({ type: z.string(), count: z.number() })),
      }),
      query: z.object({ ...rangeQuery, agent_id: z.string().max(200).optional(), top: intParam(1, 100, 10).describe('issue types listed (default 10)') }),
      async handler({ query, principal }) {
        const w = where(principal.projectId, query);
        const [c, issues] = await Promise.all([
          pgOne(deps.meta, { name: 'quality.summary', sql: `${SUMMARY_SQL} WHERE ${w.sql}`, row: summaryRow }, w.params),
          pgRows(
            deps.meta,
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
          pass_score: deps.passScore,
          top_issues: issues,
        };
      },
    }),
    route({
      method: 'get',
      path: `${base}/records`,
      summary: 'Quality audit records, newest first, paged (page, size), filtered by status, agent, session and date',
      tag: 'quality',
      auth: 'read',
      response: z.object({ items: z.array(auditRecord), total: z.number(), page: z.number(), size: z.number(), pages: z.number() }),
      query: z.object({
        page: intParam(1, 100_000, 1).describe('page number, from 1'),
        size: intParam(1, 100, 10).describe('records per page (default 10, at most 100)'),
        status: z.enum(AUDIT_STATUSES).optional(),
        agent_id: z.string().max(200).optional(),
        session_id: z.string().max(200).optional(),
        ...rangeQuery,
      }),
      async handler({ query, principal }) {
        const w = where(principal.projectId, query);
        const [total, rows] = await Promise.all([
          pgOne(deps.meta, { name: 'quality.count', sql: `SELECT count(*) AS n FROM quality_audits WHERE ${w.sql}`, row: z.object({ n: z.coerce.number() }) }, w.params),
          pgRows(
            deps.meta,
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
      },
    }),
    route({
      method: 'post',
      path: `${base}/records`,
      summary: 'Records a quality audit of a conversation (key role ingest)',
      tag: 'quality',
      auth: 'ingest',
      status: 201,
      response: auditRecord,
      body: createBody,
      async handler({ body, principal, ctx }) {
        const status = body.status ?? (body.score >= deps.passScore ? 'passed' : 'pending_review');
        const r = await pgOne(
          deps.meta,
          INSERT_AUDIT,
          [
            crypto.randomUUID(),
            principal.projectId,
            body.session_id,
            body.agent_id ?? null,
            body.agent_name ?? null,
            body.customer_name ?? null,
            body.session_type ?? null,
            body.score,
            status,
            body.audit_type,
            JSON.stringify(body.issues),
            body.audited_at ?? null,
          ],
        );
        ctx.status = 201;
        return present(r);
      },
    }),
    route({
      method: 'post',
      path: `${base}/records/:id/review`,
      summary: 'Manual review of an audit: the final score and status (key role admin)',
      tag: 'quality',
      auth: 'admin',
      response: auditRecord,
      params: z.object({ id: z.uuid() }),
      body: reviewBody,
      async handler({ params, body, principal }) {
        const status = body.status ?? (body.final_score >= deps.passScore ? 'passed' : 'failed');
        const r = await pgMaybeOne(deps.meta, REVIEW_AUDIT, [principal.projectId, params.id, body.final_score, status, body.reviewer_id, body.comment ?? null]);
        if (!r) throw new NotFoundError(`no quality audit ${params.id} in this project`);
        return present(r);
      },
    }),
  ];
}

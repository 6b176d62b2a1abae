import { NotFoundError } from '@tidemark/core';
import type { Pool } from 'pg';
import { z } from 'zod';
import { dateParam, intParam, timezoneParam } from '../analytics/dates';
import { AUDIT_STATUSES, insertAudit, listAudits, qualitySummary, reviewAudit } from '../analytics/quality';
import { route, type AnyRoute } from '../http/route';

/**
 * Quality audits of conversations (/api/analytics-monitoring/quality/...):
 * an auditor (automatic or a person) records a score, a status and the
 * issues found; a reviewer may set the final score. Stored in the metadata
 * Postgres (quality_audits), every statement scoped to the caller's project.
 */

const SEVERITIES = ['low', 'medium', 'high'] as const;

const issue = z.union([
  z
    .string()
    .min(1)
    .max(200)
    .transform((type) => ({ type })),
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
        return qualitySummary(deps.meta, principal.projectId, query, deps.passScore);
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
        return listAudits(deps.meta, principal.projectId, query);
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
        const audit = await insertAudit(deps.meta, principal.projectId, { ...body, status });
        ctx.status = 201;
        return audit;
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
        const audit = await reviewAudit(deps.meta, principal.projectId, params.id, { ...body, status });
        if (!audit) throw new NotFoundError(`no quality audit ${params.id} in this project`);
        return audit;
      },
    }),
  ];
}

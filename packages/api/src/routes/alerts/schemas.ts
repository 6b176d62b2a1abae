import { z } from 'zod';
import { inputs } from '@tidemark/alerting';

// ------------------------------------------------------------ answers
// What the AlertingService returns (packages/alerting/src/api/service.ts), as the client reads it: documented in
// /openapi.json, from which the dashboard's types are generated, and checked against real answers in tests.

export const labels = z.record(z.string(), z.string());
export const instanceKind = z.enum(['alert', 'nodata', 'error']);
export const alertState = z.enum(['inactive', 'pending', 'firing', 'recovering', 'resolved']);
export const activeAlert = z.object({
  rule: z.string(),
  fingerprint: z.string(),
  kind: instanceKind,
  labels,
  annotations: labels,
  state: alertState,
  severity: z.string(),
  value: z.number().nullable(),
  episode: z.number(),
  activeSince: z.string().nullable(),
  firedAt: z.string().nullable(),
  lastEvalAt: z.string(),
  lastSentAt: z.string().nullable(),
  acknowledged: z.object({ at: z.string(), by: z.string(), comment: z.string() }).nullable(),
  mutedBy: z.string().nullable().describe('"silence <id>" / "maintenance <name>" while notifications are muted'),
});
export const historyEntry = z.object({
  id: z.number(),
  rule: z.string(),
  fingerprint: z.string(),
  kind: z.string(),
  labels,
  from: z.string(),
  to: z.string(),
  severity: z.string(),
  value: z.number().nullable(),
  episode: z.number(),
  at: z.string(),
  detail: z.string().nullable(),
});
export const silence = z.object({
  id: z.string(),
  matchers: z.array(z.unknown()),
  startsAt: z.string(),
  endsAt: z.string(),
  createdBy: z.string(),
  comment: z.string(),
  state: z.enum(['active', 'pending', 'expired']),
});
export const maintenanceWindow = z.object({
  id: z.string(),
  name: z.string(),
  matchers: z.array(z.unknown()),
  starts_at: z.string(),
  ends_at: z.string().nullable(),
  recurrence: z.unknown().nullable(),
  created_by: z.string(),
  comment: z.string(),
});
/** A rule's definition as written (durations stay text such as "5m"); the full shape is the rule body of POST .../rules. */
export const ruleSpec = z.looseObject({
  name: z.string(),
  description: z.string().optional(),
  interval: z.union([z.number(), z.string()]).optional(),
  severity: z.string().optional(),
  for: z.union([z.number(), z.string()]).optional(),
  sql: z.string().optional(),
  condition: z.unknown().optional(),
});
export const storedRule = z.object({
  projectId: z.string(),
  name: z.string(),
  source: z.enum(['file', 'builtin', 'api']),
  sourceFile: z.string().nullable(),
  spec: ruleSpec,
  enabled: z.boolean(),
  version: z.number(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export const ruleProblem = z.object({ file: z.string(), rule: z.string().optional(), field: z.string().optional(), message: z.string() });
export const backtestResult = z.object({
  from: z.string(),
  to: z.string(),
  stepMs: z.number(),
  evaluations: z.number(),
  transitions: z.array(
    z.object({
      at: z.string(),
      fingerprint: z.string(),
      kind: instanceKind,
      labels,
      from: alertState,
      to: alertState,
      value: z.number().nullable(),
      severity: z.string(),
    }),
  ),
  episodes: z.array(
    z.object({
      fingerprint: z.string(),
      kind: instanceKind,
      labels,
      pendingAt: z.string(),
      firedAt: z.string().nullable(),
      resolvedAt: z.string().nullable(),
      peakSeverity: z.string(),
    }),
  ),
  errors: z.array(z.object({ at: z.string(), message: z.string() })),
  warnings: z.array(z.string()),
});
/** The stored API policy (defaults applied); channel settings are per channel type (see docs/alerting.md). */
export const policyAnswer = z.object({
  api: z.object({
    channels: z.array(z.looseObject({ name: z.string(), type: z.string() })),
    routes: z.array(z.looseObject({ name: z.string().optional(), channels: z.array(z.string()) })),
  }),
  effective: z.object({ channels: z.array(z.string()), routes: z.array(z.string()) }),
});
export const notification = z.object({
  id: z.number(),
  channel: z.string(),
  channelType: z.string(),
  recipient: z.string().nullable(),
  idempotencyKey: z.string(),
  dedupKeys: z.array(z.string()),
  status: z.string(),
  attempts: z.number(),
  createdAt: z.string(),
  sentAt: z.string().nullable(),
  nextAttemptAt: z.string(),
  lastError: z.string().nullable(),
  isTest: z.boolean(),
  payload: z.unknown(),
  providerId: z.string().nullable(),
  providerStatus: z.string().nullable(),
  providerError: z.string().nullable(),
  recipientResults: z.record(z.string(), z.object({ accepted: z.boolean(), response: z.string().optional() })).nullable(),
});
export const attempt = z.object({
  attempt: z.number(),
  replica: z.string(),
  startedAt: z.string(),
  durationMs: z.number(),
  outcome: z.string(),
  httpStatus: z.number().nullable(),
  error: z.string().nullable(),
});
export const items = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item) });

export const ruleName = inputs.acknowledgeInput.shape.rule;
export const fingerprint = inputs.acknowledgeInput.shape.fingerprint;
export const uuidParam = z.object({ id: z.uuid() });

import { z } from 'zod';
import { inputs, type AlertsApi } from '@tidemark/alerting';
import { route, type AnyRoute } from '../../http/route';
import { asWritten, BASE, inBody, ruleProblemsError, TAG } from './http';
import { backtestResult, items, ruleName, ruleProblem, storedRule } from './schemas';

/** Alert rules: list, read, create, replace, delete. */
export function ruleRoutes(svc: AlertsApi): AnyRoute[] {
  return [
    route({
      method: 'get',
      path: `${BASE}/rules`,
      summary: 'Alert rules of the project (API, rule files and built-in), with their definitions',
      tag: TAG,
      auth: 'read',
      response: items(storedRule),
      async handler({ principal }) {
        return { items: await svc.listRules(principal.projectId) };
      },
    }),
    route({
      method: 'get',
      path: `${BASE}/rules/:name`,
      summary: 'One alert rule',
      tag: TAG,
      auth: 'read',
      response: storedRule,
      params: z.object({ name: ruleName }),
      async handler({ params, principal }) {
        return svc.getRule(principal.projectId, params.name);
      },
    }),
    route({
      method: 'post',
      path: `${BASE}/rules`,
      summary: "Create an alert rule; its SQL is checked against ClickHouse first (400 with ClickHouse's message when rejected)",
      tag: TAG,
      auth: 'admin',
      status: 201,
      response: storedRule,
      body: inputs.ruleInput,
      async handler({ principal, ctx }) {
        const rule = await inBody(() => svc.createRule(principal.projectId, asWritten(ctx)));
        ctx.status = 201;
        return rule;
      },
    }),
    route({
      method: 'put',
      path: `${BASE}/rules/:name`,
      summary: 'Replace an API rule (file and built-in rules are changed where they are defined); its alert state is kept',
      tag: TAG,
      auth: 'admin',
      response: storedRule,
      params: z.object({ name: ruleName }),
      body: inputs.ruleInput,
      async handler({ params, principal, ctx }) {
        return inBody(() => svc.updateRule(principal.projectId, params.name, asWritten(ctx)));
      },
    }),
    route({
      method: 'delete',
      path: `${BASE}/rules/:name`,
      summary: 'Delete an API rule; its firing alerts resolve (and the resolves are sent)',
      tag: TAG,
      auth: 'admin',
      response: z.object({ deleted: z.string() }),
      params: z.object({ name: ruleName }),
      async handler({ params, principal }) {
        await svc.deleteRule(principal.projectId, params.name);
        return { deleted: params.name };
      },
    }),
  ];
}

/** Checking rules without storing them (validate, preview as a backtest) and the problems of file and built-in rules. */
export function ruleCheckRoutes(svc: AlertsApi): AnyRoute[] {
  return [
    route({
      method: 'post',
      path: `${BASE}/rules/validate`,
      summary: 'Check a rule without storing it: schema, then its SQL against ClickHouse (EXPLAIN, result columns); 400 names each problem',
      tag: TAG,
      auth: 'read',
      response: z.object({ valid: z.literal(true), problems: z.array(ruleProblem).max(0) }),
      body: inputs.ruleInput,
      async handler({ principal, ctx }) {
        const problems = await svc.validateRule(principal.projectId, asWritten(ctx));
        if (problems.length > 0) throw ruleProblemsError(problems);
        return { valid: true, problems: [] };
      },
    }),
    route({
      method: 'post',
      path: `${BASE}/rules/preview`,
      summary: 'Backtest a rule (a definition, or a stored rule by name) over a past window: transitions and incidents; nothing is stored or sent',
      tag: TAG,
      auth: 'read',
      response: backtestResult,
      body: inputs.previewInput,
      async handler({ principal, ctx }) {
        return inBody(() => svc.preview(principal.projectId, asWritten(ctx) as z.input<typeof inputs.previewInput>));
      },
    }),
    route({
      method: 'get',
      path: `${BASE}/rule-problems`,
      summary: 'Problems of rule files and built-in rules of the project (file, rule, field, message)',
      tag: TAG,
      auth: 'read',
      response: items(ruleProblem),
      async handler({ principal }) {
        return { items: await svc.listRuleProblems(principal.projectId) };
      },
    }),
  ];
}

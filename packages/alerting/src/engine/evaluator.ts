import type { Pool } from 'pg';
import { z } from 'zod';
import { classifyError, pgExec, pgRows, rollback, withTransaction, type ClickHouse, type Logger } from '@tidemark/core';
import type { Clock } from '../clock';
import { parseStoredSpec } from '../rules/store';
import { applySteps, loadInstances } from '../state/store';
import { decide, type EvalOutcome } from './decide';
import { judge, type RuleSpec } from '../rules/schema';
import { effectiveTimeout, runRule, type RuleRow } from './evaluate';
import { evaluationPhase, nextSlot } from './schedule';

export interface EvaluatorOptions {
  meta: Pool;
  /** ClickHouse client of the read-only user: rule SQL runs only through it. */
  readonly: ClickHouse;
  clock: Clock;
  logger: Logger;
  /** Lease owner: "<replica id>/<boot id>". */
  owner: string;
  leaseMs: number;
  concurrency: number;
  queryTimeoutCapMs: number;
  maxRows: number;
  /** ALERTING_SPREAD_EVALUATIONS. */
  spread: boolean;
}

/** A claimed rule: its lease token fences the evaluation's commit. */
const claimRow = z.object({
  project_id: z.string(),
  rule_name: z.string(),
  lease_token: z.string(),
  next_eval_at: z.date(),
  spec: z.unknown(),
  spec_hash: z.string(),
});
type Claim = z.output<typeof claimRow>;

const CLAIM_DUE = {
  name: 'claimDueRules',
  sql: `WITH due AS (
         SELECT s.project_id, s.rule_name FROM alert_rule_schedule s
         JOIN alert_rules r ON r.project_id = s.project_id AND r.name = s.rule_name AND r.enabled
         WHERE s.next_eval_at <= $1 AND (s.lease_until IS NULL OR s.lease_until < $1)
         ORDER BY s.next_eval_at
         LIMIT $2
         FOR UPDATE OF s SKIP LOCKED)
       UPDATE alert_rule_schedule s SET lease_owner = $3, lease_token = gen_random_uuid(), lease_until = $4
       FROM due, alert_rules r
       WHERE s.project_id = due.project_id AND s.rule_name = due.rule_name AND r.project_id = s.project_id AND r.name = s.rule_name
       RETURNING s.project_id, s.rule_name, s.lease_token, s.next_eval_at, r.spec, r.spec_hash`,
  row: claimRow,
};

/** Records a run on the schedule and frees the lease, only while the lease is still this evaluation's (the fence). */
const FENCE_SQL = `UPDATE alert_rule_schedule SET next_eval_at = $4, lease_owner = NULL, lease_token = NULL, lease_until = NULL,
           last_eval_at = $5, last_duration_ms = $6, last_rows = $7, last_error = $8, evaluations = evaluations + 1, last_owner = $9
         WHERE project_id = $1 AND rule_name = $2 AND lease_token = $3`;

export interface EvaluationReport {
  evaluated: number;
  failed: number;
  /** Evaluations whose lease was taken over (or whose rule was deleted) before they committed: nothing written. */
  lostLeases: number;
  events: number;
}

/**
 * Evaluates due rules. A replica claims a batch of due rules with a lease
 * (FOR UPDATE SKIP LOCKED, so replicas never claim the same rule), runs
 * each rule's SQL outside any transaction, then commits the new schedule,
 * the instances' new states, their history and their outbox events in ONE
 * transaction that first checks the lease token (fencing): if the lease
 * expired and another replica took the rule, this replica's result is
 * dropped whole. Each due evaluation is therefore applied exactly once.
 */
export class Evaluator {
  constructor(private readonly o: EvaluatorOptions) {}

  private async claim(limit: number): Promise<Claim[]> {
    const now = this.o.clock.now();
    return pgRows(this.o.meta, CLAIM_DUE, [new Date(now).toISOString(), limit, this.o.owner, new Date(now + this.o.leaseMs).toISOString()]);
  }

  /**
   * Evaluates every rule due now and returns what happened. Workers run
   * independently (no batch waits for its slowest query): a worker that
   * runs out of work claims as many due rules as there are idle workers,
   * so rules still due stay claimable by other replicas meanwhile.
   * `onEvents` is called after each commit that queued notifications, so
   * dispatch can start without waiting for the whole pass.
   */
  async evaluateDue(maxRules = Number.POSITIVE_INFINITY, onEvents?: () => void): Promise<EvaluationReport> {
    const report: EvaluationReport = { evaluated: 0, failed: 0, lostLeases: 0, events: 0 };
    const queue: Claim[] = [];
    let taken = 0;
    let busy = 0;
    let exhausted = false;
    let claiming: Promise<void> | undefined;
    const refill = (): Promise<void> => {
      // Never claim more than the idle workers can start, nor past maxRules (a claimed rule waits for a worker).
      const want = Math.min(Math.max(1, this.o.concurrency - busy), maxRules - taken - queue.length);
      if (want <= 0) {
        exhausted = true;
        return Promise.resolve();
      }
      claiming ??= this.claim(want)
        .then((batch) => {
          if (batch.length === 0) exhausted = true;
          queue.push(...batch);
        })
        .finally(() => {
          claiming = undefined;
        });
      return claiming;
    };
    const worker = async (): Promise<void> => {
      for (;;) {
        const c = queue.shift();
        if (!c) {
          if (exhausted) return;
          await refill();
          continue;
        }
        taken++;
        busy++;
        const before = report.events;
        try {
          await this.evaluate(c, report);
        } finally {
          busy--;
        }
        if (report.events > before) onEvents?.();
      }
    };
    await Promise.all(Array.from({ length: this.o.concurrency }, worker));
    return report;
  }

  private async evaluate(c: Claim, report: EvaluationReport): Promise<void> {
    const log = this.o.logger;
    const t0 = this.o.clock.now();
    const started = performance.now();
    let outcome: EvalOutcome;
    let rule;
    try {
      rule = parseStoredSpec(c.spec, c.spec_hash);
    } catch (err) {
      // Stored specs were validated on write; reaching this is a bug, kept visible.
      log.error({ err, project: c.project_id, rule: c.rule_name }, 'stored rule does not parse');
      report.failed++;
      return;
    }
    try {
      const rows = await runRule(this.o.readonly, rule, c.project_id, t0, {
        timeoutMs: effectiveTimeout(rule, this.o.queryTimeoutCapMs),
        maxRows: this.o.maxRows,
      });
      outcome = { ok: true, rows };
    } catch (err) {
      outcome = { ok: false, error: classifyError(err, 'clickhouse') };
      report.failed++;
    }
    const durationMs = Math.round(performance.now() - started);
    // The next slot of the rule's fixed cadence after this run (a late run does not shift it).
    const nextEval = nextSlot(t0, rule.interval, evaluationPhase(c.project_id, c.rule_name, rule.interval, this.o.spread), false);
    const fenceParams = [
      c.project_id,
      c.rule_name,
      c.lease_token,
      new Date(nextEval).toISOString(),
      new Date(t0).toISOString(),
      durationMs,
      outcome.ok ? outcome.rows.length : null,
      outcome.ok ? null : outcome.error.message.slice(0, 2000),
      this.o.owner,
    ];
    // Fast path, one statement: a successful run in which nothing is active, of a rule that
    // has no active instance (no pending/firing/recovering row, NoData and Error included),
    // changes no state. Holding the lease, no one else can make an instance of this rule
    // active meanwhile, so the check and the schedule update need no transaction.
    if (outcome.ok && (outcome.rows.length > 0 || rule.no_data.state === 'ok') && quiet(rule, outcome.rows)) {
      const fenced = await pgExec(
        this.o.meta,
        `${FENCE_SQL} AND NOT EXISTS (SELECT 1 FROM alert_instances
           WHERE project_id = $1 AND rule_name = $2 AND state IN ('pending', 'firing', 'recovering'))`,
        fenceParams,
      );
      if (fenced === 1) {
        report.evaluated++;
        return;
      }
      // Active instances to update (or a lost lease): the full transaction below decides.
    }
    // A failure before the body runs (no connection: the database is unreachable) ends the pass;
    // a failure inside the transaction is this evaluation's alone and leaves its lease to expire.
    let begun = false;
    try {
      const written = await withTransaction(this.o.meta, async (client) => {
        begun = true;
        if ((await pgExec(client, FENCE_SQL, fenceParams)) !== 1) return rollback(null);
        const prev = await loadInstances(client, c.project_id, c.rule_name);
        const results = decide(rule, prev, outcome, t0);
        return applySteps(client, c.project_id, c.rule_name, results, t0);
      });
      if (written === null) {
        report.lostLeases++;
        log.warn({ project: c.project_id, rule: c.rule_name }, 'evaluation lost its lease (taken over or rule deleted); its result is discarded');
        return;
      }
      report.evaluated++;
      report.events += written.events;
      if (!outcome.ok) log.warn({ project: c.project_id, rule: c.rule_name, err: outcome.error }, 'rule evaluation failed');
    } catch (err) {
      if (!begun) throw err;
      report.failed++;
      // The lease stays; it expires and the rule is evaluated again (by any replica).
      log.error({ err, project: c.project_id, rule: c.rule_name }, 'could not store evaluation result');
    }
  }
}

/** No row of the result makes an instance active. */
function quiet(rule: RuleSpec, rows: RuleRow[]): boolean {
  return rows.every((r) => !judge(rule, r.value).active);
}

/**
 * Frees leases this replica held before a restart ("<replica>/<older boot>"):
 * a new process knows that none of those evaluations or sends is still
 * running, so they need not wait for the lease to expire. Other replicas'
 * leases are left alone.
 */
export async function releaseOwnLeases(meta: Pool, replicaId: string, owner: string): Promise<{ rules: number; notifications: number }> {
  const prefix = `${replicaId}/`;
  const rules = await pgExec(
    meta,
    `UPDATE alert_rule_schedule SET lease_owner = NULL, lease_token = NULL, lease_until = NULL
     WHERE left(lease_owner, length($1)) = $1 AND lease_owner <> $2`,
    [prefix, owner],
  );
  const notifications = await pgExec(
    meta,
    `UPDATE alert_notifications SET status = 'pending', lease_owner = NULL, lease_until = NULL
     WHERE status = 'sending' AND left(lease_owner, length($1)) = $1 AND lease_owner <> $2`,
    [prefix, owner],
  );
  return { rules, notifications };
}

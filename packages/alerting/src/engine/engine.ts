import crypto from 'node:crypto';
import os from 'node:os';
import type { Pool } from 'pg';
import type { ClickHouse, Logger, Registry } from '@tidemark/core';
import type { AlertingRoleConfig } from '../settings';
import { ConfigError } from '@tidemark/core';
import { systemClock, type Clock } from '../clock';
import { Dispatcher } from '../notify/dispatcher';
import { Sender } from '../notify/sender';
import { Evaluator, releaseOwnLeases, type EvaluationReport } from './evaluator';

export interface AlertEngineOptions {
  config: AlertingRoleConfig;
  meta: Pool;
  /** ClickHouse client of the read-only user (CLICKHOUSE_READONLY_USER). */
  readonly: ClickHouse;
  logger: Logger;
  clock?: Clock;
  /** Default: ALERTING_REPLICA_ID, else the host name. */
  replicaId?: string;
  /** First in-round send retry delay (ms); tests shorten it. */
  retryInitialMs?: number;
  perChannelConcurrency?: number;
  /** The role's Prometheus registry: notification metrics per channel. */
  metrics?: Registry;
}

export interface TickReport extends EvaluationReport {
  routed: number;
  queued: number;
  sendsStarted: number;
}

/**
 * The alert engine of one replica: evaluate due rules → route outbox events
 * into groups → flush due groups into deliveries → send due deliveries.
 * Every step keeps its state in Postgres, so any replica can take over any
 * step after a crash, and several replicas can run at once.
 */
export class AlertEngine {
  readonly replicaId: string;
  /** Lease owner of this process: "<replica id>/<boot id>". */
  readonly owner: string;
  readonly clock: Clock;
  readonly evaluator: Evaluator;
  readonly dispatcher: Dispatcher;
  readonly sender: Sender;
  private evaluating: Promise<unknown> | undefined;
  private dispatching: Promise<unknown> | undefined;
  private stopped = false;

  constructor(private readonly o: AlertEngineOptions) {
    const c = o.config;
    this.clock = o.clock ?? systemClock;
    this.replicaId = o.replicaId ?? c.ALERTING_REPLICA_ID ?? os.hostname();
    this.owner = `${this.replicaId}/${crypto.randomUUID().slice(0, 8)}`;
    // A lease must outlive the longest evaluation, or a slow query would be evaluated twice.
    if (c.ALERTING_LEASE_MS < c.ALERTING_QUERY_TIMEOUT_MS + 5_000) {
      throw new ConfigError(
        `ALERTING_LEASE_MS (${c.ALERTING_LEASE_MS}) must exceed ALERTING_QUERY_TIMEOUT_MS (${c.ALERTING_QUERY_TIMEOUT_MS}) by at least 5000 ms`,
        {
          context: { keys: ['ALERTING_LEASE_MS', 'ALERTING_QUERY_TIMEOUT_MS'] },
        },
      );
    }
    const sendWorstCase = (c.ALERTING_SEND_RETRIES + 1) * (c.ALERTING_SEND_TIMEOUT_MS + 5_000);
    if (c.ALERTING_LEASE_MS < sendWorstCase) {
      throw new ConfigError(
        `ALERTING_LEASE_MS (${c.ALERTING_LEASE_MS}) must cover a whole send round: (ALERTING_SEND_RETRIES + 1) x (ALERTING_SEND_TIMEOUT_MS + 5000) = ${sendWorstCase}`,
        {
          context: { keys: ['ALERTING_LEASE_MS', 'ALERTING_SEND_TIMEOUT_MS', 'ALERTING_SEND_RETRIES'] },
        },
      );
    }
    const logger = o.logger.child({ replica: this.replicaId });
    this.evaluator = new Evaluator({
      meta: o.meta,
      readonly: o.readonly,
      clock: this.clock,
      logger,
      owner: this.owner,
      leaseMs: c.ALERTING_LEASE_MS,
      concurrency: c.ALERTING_EVAL_CONCURRENCY,
      queryTimeoutCapMs: c.ALERTING_QUERY_TIMEOUT_MS,
      maxRows: c.ALERTING_MAX_ROWS,
      spread: c.ALERTING_SPREAD_EVALUATIONS,
    });
    this.dispatcher = new Dispatcher({ meta: o.meta, clock: this.clock, logger, sendResolvedAfterMute: c.ALERTING_SEND_RESOLVED_AFTER_MUTE });
    this.sender = new Sender({
      meta: o.meta,
      config: c,
      clock: this.clock,
      logger,
      owner: this.owner,
      leaseMs: c.ALERTING_LEASE_MS,
      sendTimeoutMs: c.ALERTING_SEND_TIMEOUT_MS,
      sendRetries: c.ALERTING_SEND_RETRIES,
      retryInitialMs: o.retryInitialMs ?? 250,
      retryMaxDelayMs: c.ALERTING_RETRY_MAX_DELAY_MS,
      probeMs: c.ALERTING_RECEIVER_PROBE_MS,
      giveUpAfterMs: c.ALERTING_GIVE_UP_AFTER_MS,
      perChannelConcurrency: o.perChannelConcurrency ?? 4,
      ...(o.metrics ? { metrics: o.metrics } : {}),
    });
  }

  /** Takes back this replica's leases from before a restart (see releaseOwnLeases). */
  async start(): Promise<void> {
    const freed = await releaseOwnLeases(this.o.meta, this.replicaId, this.owner);
    if (freed.rules + freed.notifications > 0) this.o.logger.info({ ...freed, replica: this.replicaId }, 'released leases of a previous run of this replica');
  }

  /** Route new events, flush due groups, start due sends. */
  async dispatch(): Promise<{ routed: number; queued: number; sendsStarted: number }> {
    const routed = await this.dispatcher.routeEvents();
    const queued = await this.dispatcher.flushGroups();
    const sendsStarted = await this.sender.startDue();
    return { routed, queued, sendsStarted };
  }

  /**
   * One synchronous pass of every step, for tests and the benchmark: sends
   * are started, not awaited (see drain()).
   */
  async tick(): Promise<TickReport> {
    const ev = await this.evaluator.evaluateDue();
    const d = await this.dispatch();
    return { ...ev, ...d };
  }

  /** tick() and wait for its sends: what the timeline harness runs at each instant. */
  async runOnce(): Promise<TickReport> {
    const r = await this.tick();
    await this.sender.drain();
    // A send that finished may have been the last thing between a group and its next step.
    const again = await this.dispatch();
    await this.sender.drain();
    return { ...r, queued: r.queued + again.queued, sendsStarted: r.sendsStarted + again.sendsStarted };
  }

  /**
   * The scheduler's tick in production. Evaluation and dispatch run as
   * separate loops that never overlap themselves, so a slow rule never
   * holds back notifications; when an evaluation queued events, dispatch
   * runs right after it instead of waiting for the next tick.
   */
  backgroundTick(): void {
    if (this.stopped) return;
    if (!this.evaluating) {
      this.evaluating = this.evaluator
        .evaluateDue(Number.POSITIVE_INFINITY, () => this.backgroundDispatch())
        .catch((err: unknown) => this.o.logger.error({ err }, 'evaluation pass failed'))
        .finally(() => {
          this.evaluating = undefined;
        });
    }
    this.backgroundDispatch();
  }

  /** Runs a dispatch pass now, or right after the one running (a kick during a pass is never lost). */
  private backgroundDispatch(): void {
    if (this.stopped) return;
    if (this.dispatching) {
      this.dispatchAgain = true;
      return;
    }
    this.dispatchAgain = false;
    this.dispatching = this.dispatch()
      .catch((err: unknown) => this.o.logger.error({ err }, 'dispatch pass failed'))
      .finally(() => {
        this.dispatching = undefined;
        if (this.dispatchAgain) this.backgroundDispatch();
      });
  }
  private dispatchAgain = false;

  /** Stops taking work and waits for what is running. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled([this.evaluating, this.dispatching]);
    // A pass started by a last kick while the first one was awaited.
    await Promise.allSettled([this.dispatching]);
    await this.sender.close();
  }
}

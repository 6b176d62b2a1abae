import { TidemarkSdkError, type SignalName } from '../errors';
import { Pipeline, type PipelineHooks, type PipelineOptions, type PipelineStats } from '../queue/pipeline';
import type { Transport } from '../transport/types';
import { wellFormedJson } from '../wellformed';

export const SIGNALS: readonly SignalName[] = ['events', 'metrics', 'logs'];

/**
 * The client's way out: one delivery pipeline per signal over one
 * transport. Items arrive as JSON text; an item ClickHouse would refuse
 * (lone surrogates) is repaired and one over maxItemBytes is dropped and
 * reported before it takes queue room. shutdown() bounds the pipelines and
 * the transport's close by one deadline.
 */
export class Delivery {
  /** The transport partitions by QueueEntry.key (Kafka): the client builds keys only then. */
  readonly keyed: boolean;
  private readonly pipelines: Record<SignalName, Pipeline>;

  constructor(
    private readonly transport: Transport,
    opts: PipelineOptions,
    hooks: PipelineHooks,
    private readonly maxItemBytes: number,
    private readonly report: (err: TidemarkSdkError) => void,
  ) {
    this.keyed = transport.keyed === true;
    this.pipelines = {
      events: new Pipeline('events', transport, opts, hooks),
      metrics: new Pipeline('metrics', transport, opts, hooks),
      logs: new Pipeline('logs', transport, opts, hooks),
    };
  }

  /** Queues one item's JSON; its sequence number, or undefined (and reported) when it cannot be sent. */
  enqueueJson(signal: SignalName, raw: string, key: string): number | undefined {
    // Lone surrogates would make ClickHouse refuse the insert: U+FFFD, as the collector does.
    const json = wellFormedJson(raw);
    // Byte length only when the character count says it could matter (UTF-8 is at most 3 bytes per UTF-16 unit).
    if (json.length * 3 > this.maxItemBytes && Buffer.byteLength(json) > this.maxItemBytes) {
      this.report(
        new TidemarkSdkError('ITEM_TOO_LARGE', `${signal}: item of ${Buffer.byteLength(json)} bytes exceeds maxItemBytes (${this.maxItemBytes}); dropped`, {
          signal,
          items: 1,
        }),
      );
      return undefined;
    }
    return this.pipelines[signal].enqueue(json, key);
  }

  signalStats(signal: SignalName): PipelineStats {
    return this.pipelines[signal].stats();
  }

  stats(): Record<SignalName, PipelineStats> {
    return { events: this.pipelines.events.stats(), metrics: this.pipelines.metrics.stats(), logs: this.pipelines.logs.stats() };
  }

  /** Some signal holds items queued or in flight. */
  pending(): boolean {
    return SIGNALS.some((s) => {
      const st = this.pipelines[s].stats();
      return st.queued + st.inflight > 0;
    });
  }

  /** Every signal's flush(timeoutMs): true once all of it settled. */
  async flush(timeoutMs: number): Promise<boolean> {
    const results = await Promise.all(SIGNALS.map((s) => this.pipelines[s].flush(timeoutMs)));
    return results.every(Boolean);
  }

  /**
   * Shuts the pipelines down by `deadline` (epoch ms; `timeoutMs` is the
   * caller's whole budget), then closes the transport for what time is left.
   */
  async shutdown(deadline: number, timeoutMs: number): Promise<void> {
    // A margin before the deadline: aborted requests unwind and sockets close within it.
    const margin = Math.min(100, Math.floor(timeoutMs * 0.1));
    await Promise.all(SIGNALS.map((s) => this.pipelines[s].shutdown(deadline - margin)));
    const left = deadline - Date.now();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.transport.close().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.max(0, left));
      }),
    ]);
    clearTimeout(timer);
  }
}

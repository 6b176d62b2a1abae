import { TidemarkSdkError, type SignalName } from '../errors';

/** At most one queue-full report per this period. */
const DROP_REPORT_PERIOD_MS = 1_000;

/**
 * Queue-full reports of one pipeline, aggregated: at most one onError per
 * period, carrying every drop since the previous one. Drops inside a period
 * are reported at its end (a timer), and the pipeline's flush()/shutdown()
 * call flush() to report what is pending at once, so every dropped item is
 * in some report.
 */
export class DropReporter {
  private unreported = 0;
  private lastReport = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly signal: SignalName,
    private readonly maxQueueSize: number,
    private readonly onError: (err: TidemarkSdkError) => void,
  ) {}

  /** Counts one dropped item; it is reported now or at the end of the current period. */
  drop(): void {
    this.unreported++;
    if (this.timer !== undefined) return; // this period's report is already due
    const wait = this.lastReport + DROP_REPORT_PERIOD_MS - Date.now();
    if (wait <= 0) {
      this.flush();
      return;
    }
    this.timer = setTimeout(() => this.flush(), wait);
    // Like every SDK timer: it does not keep the host alive (flush()/shutdown() report what is pending).
    this.timer.unref();
  }

  /** One QUEUE_FULL report with every drop not reported yet (none when there is none). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const n = this.unreported;
    if (n === 0) return;
    this.unreported = 0;
    this.lastReport = Date.now();
    this.onError(
      new TidemarkSdkError('QUEUE_FULL', `${this.signal}: queue full (${this.maxQueueSize} items); dropped ${n} oldest item(s)`, {
        signal: this.signal,
        items: n,
      }),
    );
  }
}

/**
 * The SDK never throws into the host application: every problem becomes a
 * TidemarkSdkError handed to the `onError` option (and counted in `stats()`).
 * `code` says what happened; `items` how many items it cost.
 */
export type SdkErrorCode =
  /** The options given to the client are unusable; the client drops everything. */
  | 'INVALID_OPTIONS'
  /** A track/metric/log call had bad arguments (empty name, bad metric name, ...). */
  | 'INVALID_INPUT'
  /** The item could not be turned into JSON (circular structure, BigInt). */
  | 'SERIALIZE_FAILED'
  /** One item is larger than maxItemBytes. */
  | 'ITEM_TOO_LARGE'
  /** The queue was full: the oldest queued item was dropped to make room. */
  | 'QUEUE_FULL'
  /** A send failed and will be retried (network error, 5xx, 429). */
  | 'SEND_RETRY'
  /** The collector refused items for good (4xx, invalid rows); they are not resent. */
  | 'REJECTED'
  /** Items still unsent when shutdown's timeout ran out. */
  | 'GAVE_UP'
  /** A call after shutdown(); the item is dropped. */
  | 'SHUT_DOWN';

export type SignalName = 'events' | 'metrics' | 'logs';

export class TidemarkSdkError extends Error {
  readonly code: SdkErrorCode;
  readonly signal: SignalName | undefined;
  /** Items the problem affected (dropped, rejected or retried). */
  readonly items: number;
  /** HTTP status of the collector's answer, when there was one. */
  readonly status: number | undefined;

  constructor(code: SdkErrorCode, message: string, opts: { signal?: SignalName; items?: number; status?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'TidemarkSdkError';
    this.code = code;
    this.signal = opts.signal;
    this.items = opts.items ?? 0;
    this.status = opts.status;
  }
}

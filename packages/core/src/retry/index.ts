import { classifyError, TidemarkError } from '../errors';

export interface RetryOptions {
  /** Attempts after the first one. */
  retries?: number;
  /** Delay before the first retry, in ms. */
  initialDelayMs?: number;
  /** Upper bound of any single delay, in ms. */
  maxDelayMs?: number;
  /** Growth of the delay per attempt. */
  factor?: number;
  /**
   * Share of each delay that is randomised (0 = none, 1 = full jitter), so
   * many callers that failed together do not retry together.
   */
  jitter?: number;
  /** Overrides the default decision, which is `classifyError(err).retriable`. */
  retryIf?: (err: TidemarkError, attempt: number) => boolean;
  /** Called before each wait, for logging and metrics. */
  onRetry?: (err: TidemarkError, attempt: number, delayMs: number) => void;
  signal?: AbortSignal;
  /** Names the dependency for classification of foreign errors. */
  dependency?: string;
}

/** Thrown through `bail` to stop retrying at once, whatever the error. */
class Bail extends Error {
  constructor(readonly inner: unknown) {
    super('bail');
  }
}

/** Delay for a given attempt (0-based), with jitter. Exposed for tests. */
export function backoffDelay(attempt: number, opts: Pick<RetryOptions, 'initialDelayMs' | 'maxDelayMs' | 'factor' | 'jitter'>, random = Math.random): number {
  const initial = opts.initialDelayMs ?? 100;
  const max = opts.maxDelayMs ?? 30_000;
  const factor = opts.factor ?? 2;
  const jitter = Math.min(1, Math.max(0, opts.jitter ?? 0.5));
  const base = Math.min(max, initial * factor ** attempt);
  return Math.round(base * (1 - jitter * random()));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The one retry helper: jittered exponential backoff, retrying only errors
 * classified as retriable (or as `retryIf` decides), honouring an error's
 * `retryAfterMs`, and stopping at once when `bail(err)` is called.
 *
 * The final error is the classified TidemarkError of the last attempt.
 */
export async function retry<T>(fn: (attempt: number, bail: (err: unknown) => never) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const retries = opts.retries ?? 5;
  const bail = (err: unknown): never => {
    throw new Bail(err);
  };
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt, bail);
    } catch (raw) {
      if (raw instanceof Bail) throw classifyError(raw.inner, opts.dependency);
      const err = classifyError(raw, opts.dependency);
      const shouldRetry = opts.retryIf ? opts.retryIf(err, attempt) : err.retriable;
      if (!shouldRetry || attempt >= retries || opts.signal?.aborted) throw err;
      const delay = Math.max(backoffDelay(attempt, opts), err.retryAfterMs ?? 0);
      opts.onRetry?.(err, attempt + 1, delay);
      await sleep(delay, opts.signal);
    }
  }
}

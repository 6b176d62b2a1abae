/**
 * Jittered exponential backoff for the SDK's resends.
 *
 * The platform's one retry helper lives in @tidemark/core, but the SDK is a
 * client library applications install on their own: depending on core would
 * pull ClickHouse, Postgres, Kafka and Redis clients into every producer. The
 * formula is the same as core's `backoffDelay` (base = initial * factor^n,
 * capped, then up to `jitter` of it removed at random) so both behave alike.
 */
export interface BackoffOptions {
  /** Delay after the first failure (ms). */
  initialDelayMs: number;
  /** Upper bound of any single delay (ms). */
  maxDelayMs: number;
  /** Growth per consecutive failure. */
  factor?: number;
  /** Share of each delay that is randomised (0..1), so producers that failed together do not retry together. */
  jitter?: number;
}

/** Delay before retry number `attempt` (0-based). */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const factor = opts.factor ?? 2;
  const jitter = Math.min(1, Math.max(0, opts.jitter ?? 0.5));
  // Math.min first: factor ** attempt overflows to Infinity after ~1000 failures, which is still fine.
  const base = Math.min(opts.maxDelayMs, opts.initialDelayMs * factor ** Math.min(attempt, 64));
  return Math.round(base * (1 - jitter * random()));
}

/**
 * The wait a `Retry-After` header asks for, in ms: delta-seconds or an HTTP
 * date. Undefined when absent or unparseable. Capped at one hour so a broken
 * proxy cannot park the SDK forever.
 */
export function parseRetryAfter(header: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  const text = value.trim();
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(text)) ms = Number(text) * 1000;
  else {
    const at = Date.parse(text);
    if (!Number.isFinite(at)) return undefined;
    ms = at - now;
  }
  return Math.min(3_600_000, Math.max(0, Math.round(ms)));
}

/**
 * Durations in the ETL config: a number of milliseconds, or text in core's
 * one duration grammar ("250ms", "30s", "1.5m", "2h", "1d", "1h30m").
 */
export { parseDuration } from '@tidemark/core';

/** "90s" style text for logs and docs. */
export function formatDuration(ms: number): string {
  if (ms % 86_400_000 === 0 && ms > 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}

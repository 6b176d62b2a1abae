/**
 * Durations in the ETL config: a number of milliseconds, or a string with a
 * unit ("250ms", "30s", "5m", "2h", "1d"). Kept separate from zod so the
 * parser is unit-tested on its own.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export const DURATION_PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

/** Milliseconds of a duration, or undefined when the text is not one. */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined;
  const m = DURATION_PATTERN.exec(value.trim());
  if (!m || !m[1] || !m[2]) return undefined;
  const unit = UNIT_MS[m[2]];
  return unit === undefined ? undefined : Math.round(Number(m[1]) * unit);
}

/** "90s" style text for logs and docs. */
export function formatDuration(ms: number): string {
  if (ms % 86_400_000 === 0 && ms > 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}

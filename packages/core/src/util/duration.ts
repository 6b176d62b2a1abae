/**
 * The one duration parser of every role: alert rules and policies
 * (`for: 5m`, `interval: 1h30m`), the ETL config (`every: 1.5m`,
 * `flushInterval: 200ms`) and the API's relative ranges (`last: 24h`).
 *
 * Grammar, the union of what the four parsers it replaces accepted:
 *   duration := "0" | term+          (no separators between terms)
 *   term     := number ws? unit      number: digits, optionally ".digits"
 *   unit     := ms | s | m | h | d | w
 * e.g. "500ms", "30s", "5m", "1h30m", "1.5h", "30 s", "7d", "2w", "0".
 * `m` is minutes (never months). A number (not text) is milliseconds.
 * A caller's schema may accept less (the API's `last` is `\d{1,4}[mhdw]`).
 *
 * No dependencies, so any package can use it.
 */

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

// `ms` before `m` and `s`, so "500ms" is one term and not "500m" + "s".
const TERM = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)/y;

/**
 * Milliseconds of a duration (rounded to a whole millisecond), or undefined
 * when `value` is not one: text in the grammar above, or a finite,
 * non-negative number of milliseconds.
 */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined;
  const s = value.trim();
  if (s === '0') return 0;
  if (s === '') return undefined;
  let total = 0;
  TERM.lastIndex = 0;
  while (TERM.lastIndex < s.length) {
    const m = TERM.exec(s);
    if (!m) return undefined;
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  }
  return Number.isFinite(total) ? Math.round(total) : undefined;
}

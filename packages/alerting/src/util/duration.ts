import { parseDuration } from '@tidemark/core';
import { z } from 'zod';

/** Core's parser (one grammar for every role): "30s", "5m", "1h30m", "7d", "500ms", "0". */
export { parseDuration };

/** Formats milliseconds the way they are written in rules ("1h30m", "45s"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ] as const) {
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return out;
}

/** A zod duration field: the text as written, parsed to milliseconds. */
export const duration = z.string({ error: 'must be a duration such as 30s, 5m, 1h or 7d' }).transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration; write e.g. 30s, 5m, 1h30m or 7d` });
    return z.NEVER;
  }
  return ms;
});

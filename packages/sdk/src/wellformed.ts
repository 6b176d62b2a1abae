/// <reference lib="es2024.string" />
/**
 * Strings ClickHouse cannot store, repaired before an item is queued.
 *
 * A JavaScript string may hold a lone UTF-16 surrogate (half of a pair, e.g.
 * from slicing an emoji in two). JSON.stringify writes it as an escape,
 * "\ud800", and ClickHouse refuses a whole insert over one such escape. The
 * collector repairs items the same way (U+FFFD, with an
 * `invalid_unicode_replaced` warning); doing it here too means items sent
 * straight into Kafka or to an older collector are storable as well, and the
 * SDK's stored text is exactly what the collector would have stored.
 */

/** An escaped surrogate pair (kept) or an escaped lone surrogate (replaced), after an even run of backslashes. */
const ESCAPED_SURROGATE = /(?<!\\)((?:\\\\)*)\\u(d[89ab][0-9a-f]{2})(\\ud[c-f][0-9a-f]{2})?|(?<!\\)((?:\\\\)*)\\u(d[c-f][0-9a-f]{2})/gi;

/** JSON text with every lone surrogate (escaped or raw) replaced by U+FFFD; well-formed text is returned as it is. */
export function wellFormedJson(json: string): string {
  // JSON.stringify escapes lone surrogates, so nearly every item skips the regex.
  let out =
    json.includes('\\ud') || json.includes('\\uD')
      ? json.replace(ESCAPED_SURROGATE, (m: string, run1: string | undefined, _high?: string, low?: string, run2?: string) =>
          low !== undefined ? m : `${run1 ?? run2 ?? ''}\\ufffd`,
        )
      : json;
  // Raw lone surrogates (JSON from a serialiser that does not escape them).
  if (!out.isWellFormed()) out = out.toWellFormed();
  return out;
}

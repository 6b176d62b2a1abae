import { matches, parseMatcher, type Matcher } from '../../src/util/matchers';

export { parseMatcher };

/** Parses a matcher text and applies it to labels. */
export function matchers(text: string, labels: Record<string, string>): boolean {
  const m = parseMatcher(text);
  if (typeof m === 'string') throw new Error(m);
  return matches(m as Matcher, labels);
}

import { matchersSchema, matches, matcherSchema, parseMatcher, type Matcher } from '../src/util/matchers';

const m = (text: string): Matcher => {
  const r = parseMatcher(text);
  if (typeof r === 'string') throw new Error(r);
  return r;
};

describe('label matchers (RE2 via re2js)', () => {
  test('a catastrophic-backtracking pattern against a long value returns fast', () => {
    // With RegExp, (a+)+$ against "aaa…a!" backtracks exponentially: 30 characters already take seconds.
    const value = `${'a'.repeat(50_000)}!`;
    const started = performance.now();
    expect(matches(m('host=~"(a+)+$"'), { host: value })).toBe(false);
    expect(matches(m('host!~"(a+)+$"'), { host: value })).toBe(true);
    expect(matches(m('host=~"(a|aa)+!"'), { host: value })).toBe(true);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  test('regexes are anchored at both ends, like Alertmanager', () => {
    expect(matches(m('team=~"db|ops"'), { team: 'ops' })).toBe(true);
    expect(matches(m('team=~"db|ops"'), { team: 'xops' })).toBe(false);
    expect(matches(m('team=~"db|ops"'), { team: 'dbx' })).toBe(false);
    expect(matches(m('team=~"o"'), { team: 'ops' })).toBe(false);
    expect(matches(m('team=~".*"'), {})).toBe(true);
    expect(matches(m('team=~".+"'), {})).toBe(false);
    // As in Go's regexp, "." does not match a newline unless (?s) says so.
    expect(matches(m('msg=~"a.b"'), { msg: 'a\nb' })).toBe(false);
    expect(matches(m('msg=~"(?s)a.b"'), { msg: 'a\nb' })).toBe(true);
  });

  test('patterns RE2 rejects fail validation where the matcher is written', () => {
    for (const bad of ['x=~"(a)\\\\1"', 'x=~"a(?=b)"', 'x=~"(unclosed"']) {
      const r = matcherSchema.safeParse(bad);
      expect(r.success).toBe(false);
      expect(r.error?.issues[0]?.message).toMatch(/^invalid regex /);
    }
    expect(matchersSchema.parse(['env=~"prod-[0-9]+"'])).toEqual([{ name: 'env', op: '=~', value: 'prod-[0-9]+' }]);
  });
});

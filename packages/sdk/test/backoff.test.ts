import { backoffDelay, parseRetryAfter } from '../src';

describe('backoffDelay', () => {
  const opts = { initialDelayMs: 100, maxDelayMs: 5_000 };

  test('grows exponentially and is capped', () => {
    const noJitter = (a: number) => backoffDelay(a, { ...opts, jitter: 0 });
    expect([0, 1, 2, 3, 4, 5, 6, 7].map(noJitter)).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000]);
    expect(noJitter(5_000)).toBe(5_000);
  });

  test('jitter removes at most its share of the delay', () => {
    expect(backoffDelay(3, opts, () => 0)).toBe(800);
    expect(backoffDelay(3, opts, () => 1)).toBe(400);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(2, { ...opts, jitter: 0.3 });
      expect(d).toBeGreaterThanOrEqual(280);
      expect(d).toBeLessThanOrEqual(400);
    }
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');

  test('delta seconds', () => {
    expect(parseRetryAfter('1', now)).toBe(1_000);
    expect(parseRetryAfter(' 2.5 ', now)).toBe(2_500);
    expect(parseRetryAfter(['3', '9'], now)).toBe(3_000);
  });

  test('HTTP dates, never negative, capped at an hour', () => {
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:04 GMT', now)).toBe(4_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('86400', now)).toBe(3_600_000);
  });

  test('absent or garbage means no wait asked for', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});

import { backoffDelay, classifyError, ClickHouseQueryError, retry, TidemarkError, UnavailableError, ValidationError } from '../src';

describe('classifyError', () => {
  test('socket errors are retriable and unavailable', () => {
    const e = classifyError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'clickhouse');
    expect(e).toBeInstanceOf(UnavailableError);
    expect(e.retriable).toBe(true);
    expect(e.statusCode).toBe(503);
    expect(e.context).toMatchObject({ dependency: 'clickhouse' });
  });

  test('ClickHouse errors are classified by code', () => {
    class ClickHouseError extends Error {
      constructor(
        message: string,
        readonly code: string,
        readonly type: string,
      ) {
        super(message);
      }
    }
    const syntax = classifyError(new ClickHouseError('Syntax error', '62', 'SYNTAX_ERROR'));
    expect(syntax).toBeInstanceOf(ClickHouseQueryError);
    expect(syntax.retriable).toBe(false);
    expect(syntax.statusCode).toBe(400);
    expect(syntax.context).toMatchObject({ clickhouseCode: 62, type: 'SYNTAX_ERROR' });
    const parts = classifyError(new ClickHouseError('Too many parts', '252', 'TOO_MANY_PARTS'));
    expect(parts.retriable).toBe(true);
    expect(parts.statusCode).toBe(503);
  });

  test('Postgres errors by SQLSTATE', () => {
    const pg = (code: string): Error => Object.assign(new Error('x'), { code, severity: 'ERROR' });
    expect(classifyError(pg('40001')).retriable).toBe(true);
    expect(classifyError(pg('23505')).statusCode).toBe(409);
    expect(classifyError(pg('42601'))).toBeInstanceOf(ValidationError);
  });

  test('TidemarkErrors pass through unchanged', () => {
    const v = new ValidationError('bad');
    expect(classifyError(v)).toBe(v);
  });
});

describe('retry', () => {
  test('retries retriable errors with growing delays, then succeeds', async () => {
    const delays: number[] = [];
    let calls = 0;
    const result = await retry(
      async () => {
        calls++;
        if (calls < 4) throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
        return 'ok';
      },
      { initialDelayMs: 1, jitter: 0, onRetry: (_e, _a, d) => delays.push(d) },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(4);
    expect(delays).toEqual([1, 2, 4]);
  });

  test('does not retry a non-retriable error', async () => {
    let calls = 0;
    await expect(
      retry(async () => {
        calls++;
        throw new ValidationError('nope');
      }),
    ).rejects.toBeInstanceOf(ValidationError);
    expect(calls).toBe(1);
  });

  test('bail stops at once even for retriable errors', async () => {
    let calls = 0;
    await expect(
      retry(async (_attempt, bail) => {
        calls++;
        bail(new UnavailableError('down', { context: { dependency: 'x' } }));
      }),
    ).rejects.toBeInstanceOf(UnavailableError);
    expect(calls).toBe(1);
  });

  test('gives up after `retries` and throws the classified last error', async () => {
    let calls = 0;
    const err = await retry(
      async () => {
        calls++;
        throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
      },
      { retries: 2, initialDelayMs: 1 },
    ).catch((e: unknown) => e);
    expect(calls).toBe(3);
    expect(err).toBeInstanceOf(TidemarkError);
    expect((err as TidemarkError).retriable).toBe(true);
  });

  test('honours retryAfterMs as a lower bound of the delay', async () => {
    const delays: number[] = [];
    let calls = 0;
    await retry(
      async () => {
        if (calls++ === 0) throw new TidemarkError('slow down', { code: 'RATE_LIMITED', retriable: true, statusCode: 429 }, { retryAfterMs: 30 });
      },
      { initialDelayMs: 1, onRetry: (_e, _a, d) => delays.push(d) },
    );
    expect(delays[0]).toBeGreaterThanOrEqual(30);
  });

  test('backoff is capped and jittered within bounds', () => {
    for (let attempt = 0; attempt < 20; attempt++) {
      const d = backoffDelay(attempt, { initialDelayMs: 100, maxDelayMs: 1000, jitter: 0.5 });
      const base = Math.min(1000, 100 * 2 ** attempt);
      expect(d).toBeLessThanOrEqual(base);
      expect(d).toBeGreaterThanOrEqual(base / 2);
    }
    expect(backoffDelay(3, { initialDelayMs: 100, jitter: 1 }, () => 1)).toBe(0);
  });
});

import { ChannelError } from './types';

export interface HttpResponse {
  status: number;
  text: string;
  headers: Headers;
}

/** Retry-After (seconds or an HTTP date) in ms. */
export function retryAfterMs(h: string | null): number | undefined {
  if (!h) return undefined;
  const secs = Number(h);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(h);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/**
 * One HTTP request to a receiver with a hard time limit. Network failures
 * and timeouts are retriable ChannelErrors; the response (any status) is
 * returned for the channel to judge, because each provider reports errors
 * its own way (WeCom says 200 with an errcode).
 */
export async function httpRequest(
  channel: string,
  url: string,
  init: { method?: string; headers: Record<string, string>; body: string },
  timeoutMs: number,
): Promise<HttpResponse> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method ?? 'POST',
      headers: init.headers,
      body: init.body,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const timedOut = e.name === 'TimeoutError' || e.name === 'AbortError';
    throw new ChannelError(timedOut ? `no answer within ${timeoutMs} ms` : `request failed: ${e.cause?.code ?? e.message}`, {
      channel,
      retriable: true,
      cause: err,
    });
  }
  let text = '';
  try {
    text = await res.text();
  } catch (err) {
    throw new ChannelError(`response body could not be read: ${(err as Error).message}`, { channel, retriable: true, httpStatus: res.status, cause: err });
  }
  return { status: res.status, text, headers: res.headers };
}

/**
 * The common HTTP verdict: 2xx accepted; 408, 425, 429 and 5xx retriable
 * (429/503 honour Retry-After); any other 4xx permanent.
 */
export function judgeStatus(channel: string, res: HttpResponse, describe: (r: HttpResponse) => string = (r) => r.text.slice(0, 300)): void {
  if (res.status >= 200 && res.status < 300) return;
  const retriable = res.status >= 500 || res.status === 408 || res.status === 425 || res.status === 429;
  const after = retryAfterMs(res.headers.get('retry-after'));
  throw new ChannelError(`HTTP ${res.status}: ${describe(res)}`, {
    channel,
    retriable,
    httpStatus: res.status,
    ...(after !== undefined ? { retryAfterMs: after } : {}),
  });
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

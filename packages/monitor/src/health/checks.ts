import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

export interface CheckResult {
  up: boolean;
  /** Time to a full answer (HTTP) or an accepted connection (TCP), in ms. */
  latencyMs: number;
  /** HTTP status; 0 when there was no answer. */
  status?: number;
  error?: string;
}

/**
 * GET the URL on a fresh connection (so the latency includes connecting,
 * as a user's first request would) and read the whole answer. Up when it
 * answered with a status below 400 within the timeout; redirects are not
 * followed (a 3xx is an answer).
 */
export function checkHttp(url: string, timeoutMs: number): Promise<CheckResult> {
  const start = process.hrtime.bigint();
  const elapsed = (): number => Number(process.hrtime.bigint() - start) / 1e6;
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: CheckResult): void => {
      if (settled) return;
      settled = true;
      resolve(r);
    };
    const client = url.startsWith('https:') ? https : http;
    const req = client.get(
      url,
      { agent: false, headers: { 'user-agent': 'tidemark-monitor', connection: 'close' }, signal: AbortSignal.timeout(timeoutMs) },
      (res) => {
        res.resume();
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          done({ up: status > 0 && status < 400, latencyMs: elapsed(), status, ...(status >= 400 ? { error: `HTTP ${status}` } : {}) });
        });
        res.on('error', (err) => done({ up: false, latencyMs: elapsed(), status: res.statusCode ?? 0, error: err.message }));
      },
    );
    req.on('error', (err: Error & { code?: string }) => {
      const timedOut = err.name === 'AbortError' || err.name === 'TimeoutError';
      done({ up: false, latencyMs: elapsed(), status: 0, error: timedOut ? `no answer within ${timeoutMs} ms` : `${err.code ?? err.name}: ${err.message}` });
    });
  });
}

/** Opens a TCP connection to host:port and closes it. Up when it was accepted within the timeout. */
export function checkTcp(url: string, timeoutMs: number): Promise<CheckResult> {
  const u = new URL(url);
  const start = process.hrtime.bigint();
  const elapsed = (): number => Number(process.hrtime.bigint() - start) / 1e6;
  return new Promise((resolve) => {
    const socket = net.connect({ host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port) });
    const finish = (r: CheckResult): void => {
      socket.destroy();
      resolve(r);
    };
    socket.setTimeout(timeoutMs);
    socket.once('connect', () => finish({ up: true, latencyMs: elapsed() }));
    socket.once('timeout', () => finish({ up: false, latencyMs: elapsed(), error: `no connection within ${timeoutMs} ms` }));
    socket.once('error', (err: Error & { code?: string }) => finish({ up: false, latencyMs: elapsed(), error: `${err.code ?? err.name}: ${err.message}` }));
  });
}

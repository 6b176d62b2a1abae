import http from 'node:http';
import net, { type Socket } from 'node:net';
import type { Logger } from 'pino';
import { TidemarkError, type ErrorOptions } from '../errors';
import type { Lifecycle } from './index';

/**
 * The answer to a request that reached a server after its process began to
 * stop: 503, retriable, so a client sends the same request to another
 * instance or again once this one is back (nothing of it was processed).
 */
export class ShuttingDownError extends TidemarkError {
  constructor(message: string, options: ErrorOptions<Record<string, unknown>> = {}) {
    super(message, { code: 'SHUTTING_DOWN', retriable: true, statusCode: 503 }, options);
  }
}

/** How often idle keep-alive sockets are looked for while a server drains. */
const IDLE_SWEEP_MS = 50;

/**
 * Stops a server: no new connections, idle keep-alive sockets closed at once
 * and again every 50 ms, by `closeIdle` when given (then only by it), else by
 * Node's closeIdleConnections. Node's server.close() alone closes only the
 * sockets idle at the moment it is called; one that becomes idle later (its
 * in-flight request answered) would stay open for the whole
 * keepAliveTimeout. Every socket still open after `graceMs` is destroyed.
 * Resolves once every connection is gone.
 */
export function closeHttpServer(server: http.Server, opts: { graceMs: number; logger?: Logger; name?: string; closeIdle?: () => void }): Promise<void> {
  const closeIdle = opts.closeIdle ?? (() => server.closeIdleConnections());
  return new Promise<void>((resolve) => {
    const sweep = setInterval(closeIdle, IDLE_SWEEP_MS);
    const force = setTimeout(() => {
      opts.logger?.warn({ server: opts.name, graceMs: opts.graceMs }, 'requests still open after the grace period; closing their connections');
      server.closeAllConnections();
    }, opts.graceMs);
    const done = (): void => {
      clearInterval(sweep);
      clearTimeout(force);
      resolve();
    };
    // The callback also runs (with ERR_SERVER_NOT_RUNNING) for a server that never listened: that is stopped too.
    if (opts.closeIdle) {
      // Only the listener: Node's server.close() would also destroy every socket idle at this
      // moment, including a busy client's socket between two of its requests, whose next
      // request would then meet a reset instead of an answer. closeIdle decides instead.
      net.Server.prototype.close.call(server, done);
    } else {
      server.close(done);
    }
    closeIdle();
  });
}

/** While draining: how long a kept-alive socket may sit idle before it is closed. */
const IDLE_GRACE_MS = 250;

export interface GracefulServerOptions {
  /** Names the server in logs and its lifecycle hooks (`<name>-http`). */
  name: string;
  lifecycle: Lifecycle;
  logger: Logger;
  /** In-flight requests get this long to finish once stopping began (default 2000 ms); then their sockets are closed. */
  graceMs?: number;
  /** Retry-After of the 503 answers while stopping (default 1000 ms). */
  retryAfterMs?: number;
}

/**
 * An HTTP server that stops the way a server behind a load balancer should:
 * the moment the process begins to stop (the lifecycle's drain phase, at
 * the signal), every new request, including one on an open keep-alive
 * socket, is answered 503 with `Connection: close` and a retriable JSON
 * error (the SDK keeps its items and sends them again later or elsewhere);
 * requests already in flight finish, and idle keep-alive sockets are
 * closed. Its stop hook waits for the last connection to go, bounded by
 * `graceMs`.
 */
export function createGracefulServer(handler: http.RequestListener, opts: GracefulServerOptions): http.Server {
  const graceMs = opts.graceMs ?? 2_000;
  const retryAfterMs = opts.retryAfterMs ?? 1_000;
  let inFlight = 0;
  let draining = false;
  let refused = 0;
  let closed: Promise<void> | undefined;
  /** Per open socket: requests it is serving, and since when it has served none. */
  const sockets = new Map<Socket, { active: number; idleSince: number }>();

  const server = http.createServer((req, res) => {
    const socket = sockets.get(req.socket);
    if (socket) {
      socket.active++;
      res.once('close', () => {
        socket.active--;
        socket.idleSince = Date.now();
      });
    }
    if (draining) {
      refused++;
      const err = new ShuttingDownError(
        `${opts.name} is shutting down and takes no new requests; send this one again (to another instance, or here once it is back)`,
        {
          retryAfterMs,
        },
      );
      const body = JSON.stringify(err.toJSON());
      res.writeHead(503, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        connection: 'close',
        'retry-after': String(Math.ceil(retryAfterMs / 1000)),
      });
      // The body is read and discarded so the client can finish writing it before the socket closes.
      req.resume();
      res.end(body);
      return;
    }
    inFlight++;
    res.once('close', () => inFlight--);
    handler(req, res);
  });
  server.on('connection', (socket: Socket) => {
    sockets.set(socket, { active: 0, idleSince: Date.now() });
    socket.once('close', () => sockets.delete(socket));
  });
  // While draining, a keep-alive socket is closed once it has been idle for IDLE_GRACE_MS: a
  // busy client's next request, sent right after its answer (after a few ms of gzip, say),
  // gets the clean 503 instead of a reset socket, which would leave a generic client unsure
  // whether its POST was processed.
  const closeIdle = (): void => {
    const now = Date.now();
    for (const [socket, st] of sockets) if (st.active === 0 && now - st.idleSince >= IDLE_GRACE_MS) socket.destroy();
  };

  const drain = (): void => {
    if (draining) return;
    draining = true;
    opts.logger.info({ server: opts.name, inFlight }, 'stopping: new requests get 503, in-flight ones finish');
    closed = closeHttpServer(server, { graceMs, logger: opts.logger, name: opts.name, closeIdle });
  };
  opts.lifecycle.onDrain(`${opts.name}-http`, drain);
  opts.lifecycle.onStop(`${opts.name}-http`, async () => {
    drain();
    await closed;
    opts.logger.info({ server: opts.name, refused }, 'http server closed');
  });
  return server;
}

import { Writable } from 'node:stream';
import { TidemarkClient, type TidemarkOptions } from '../client';

/**
 * Options of the pino transport. They cross into pino's worker thread by
 * structured clone, so they are plain data: no callbacks, no kafkajs client
 * (give `kafka.brokers` instead).
 */
export type PinoTransportOptions = Omit<TidemarkOptions, 'onError' | 'onRetry' | 'transport' | 'flushOnExit'> & {
  /**
   * How long ending the transport may take to deliver what is queued (ms,
   * default 5000, at most 9000). pino's end() blocks the ending thread
   * until the worker is done, and thread-stream gives up after 10 s.
   */
  shutdownTimeoutMs?: number;
};

/** Below thread-stream's 10 s limit on end(), after which it destroys the stream with an error. */
const MAX_SHUTDOWN_MS = 9_000;

/** Marks the stream so pino's worker (thread-stream) calls it on logger.flush(). */
type FlushableWritable = Writable & { flush?: (cb: (err?: Error | null) => void) => void };

/**
 * Builds the stream pino's transport worker writes to. pino runs this module
 * in a worker thread (pino.transport({ target: '@tidemark/sdk/pino',
 * options })), so shipping logs costs the application's event loop nothing
 * but pino's own formatting. Each line is queued as it is (pino's fields:
 * msg, time, numeric level, name are read by the collector) and sent in
 * batches with the same guarantees as events: bounded queue, gzip, resends
 * with backoff, drop-oldest when full.
 *
 * Ending the transport (logger's transport.end(), or pino's exit handling)
 * runs the client's shutdown: queued lines are delivered within
 * `shutdownTimeoutMs` before the worker exits.
 */
export default async function tidemarkPinoTransport(opts: PinoTransportOptions): Promise<Writable> {
  const { shutdownTimeoutMs: asked = 5_000, ...clientOpts } = opts ?? {};
  const shutdownTimeoutMs = Math.min(Math.max(0, asked), MAX_SHUTDOWN_MS);
  const client = new TidemarkClient({ ...clientOpts, flushOnExit: false });
  let partial = '';
  const stream: FlushableWritable = new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _enc, cb) {
      // thread-stream hands over arbitrary slices of the byte stream: lines are cut at '\n' here.
      const text = partial + (typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
      let from = 0;
      for (let nl = text.indexOf('\n', from); nl !== -1; nl = text.indexOf('\n', from)) {
        client.logLine(text.slice(from, nl));
        from = nl + 1;
      }
      partial = text.slice(from);
      cb();
    },
    final(cb) {
      if (partial.length > 0) client.logLine(partial);
      partial = '';
      client.shutdown(shutdownTimeoutMs).then(
        () => cb(),
        () => cb(),
      );
    },
  });
  stream.flush = (cb) => {
    client.flush({ timeoutMs: shutdownTimeoutMs }).then(
      () => cb(),
      () => cb(),
    );
  };
  return stream;
}

import pino, { type Logger, type LoggerOptions, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths pino censors in every log line. Covers config secrets, HTTP auth
 * headers and API keys wherever a component puts them in its context object.
 */
export const REDACT_PATHS = [
  'password',
  '*.password',
  'secret',
  '*.secret',
  'token',
  '*.token',
  'apiKey',
  '*.apiKey',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers["x-clickhouse-key"]',
  'headers["x-api-key"]',
  'headers["x-clickhouse-key"]',
  '*.CLICKHOUSE_PASSWORD',
  '*.CLICKHOUSE_READONLY_PASSWORD',
];

/** The root logger of a process. Components take `logger.child({ component })`. */
export function createLogger(opts: { level?: string; name?: string } = {}, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level: opts.level ?? 'info',
    name: opts.name ?? 'tidemark',
    redact: { paths: REDACT_PATHS, censor: '<redacted>' },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: { err: pino.stdSerializers.err },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** Child logger for one component: the name every line of that component carries. */
export function componentLogger(root: Logger, component: string, bindings: Record<string, unknown> = {}): Logger {
  return root.child({ component, ...bindings });
}

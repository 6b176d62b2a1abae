/**
 * Error classes with machine-readable flags, and the one place where foreign
 * errors (ClickHouse, Postgres, Kafka, sockets) are classified.
 *
 * Invariant: every error that crosses a component boundary is a TidemarkError,
 * so callers decide on `retriable` and `statusCode` instead of parsing text.
 */

export interface ErrorOptions<C extends Record<string, unknown>> {
  /** Extra typed facts for logs and API bodies (never secrets). */
  context?: C;
  cause?: unknown;
  /** For 429/503: how long the caller should wait before trying again. */
  retryAfterMs?: number;
}

export class TidemarkError<C extends Record<string, unknown> = Record<string, unknown>> extends Error {
  /** Stable machine-readable code, e.g. VALIDATION_FAILED. */
  readonly code: string;
  /** True when the same operation may succeed if tried again unchanged. */
  readonly retriable: boolean;
  /** HTTP status an API answers with when this error reaches it. */
  readonly statusCode: number;
  readonly context: C;
  readonly retryAfterMs: number | undefined;

  constructor(message: string, flags: { code: string; retriable: boolean; statusCode: number }, options: ErrorOptions<C> = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = flags.code;
    this.retriable = flags.retriable;
    this.statusCode = flags.statusCode;
    this.context = options.context ?? ({} as C);
    this.retryAfterMs = options.retryAfterMs;
  }

  /** The JSON body an API sends for this error. */
  toJSON(): { error: { code: string; message: string; retriable: boolean; context: C } } {
    return { error: { code: this.code, message: this.message, retriable: this.retriable, context: this.context } };
  }
}

/** One problem of a rejected input: where (a dotted path) and what. */
export interface ValidationIssue {
  path: string;
  message: string;
}

export class ValidationError extends TidemarkError<{ issues?: ValidationIssue[] } & Record<string, unknown>> {
  constructor(message: string, options: ErrorOptions<{ issues?: ValidationIssue[] } & Record<string, unknown>> = {}) {
    super(message, { code: 'VALIDATION_FAILED', retriable: false, statusCode: 400 }, options);
  }
}

export class ConfigError extends TidemarkError<{ keys: string[] }> {
  constructor(message: string, options: ErrorOptions<{ keys: string[] }>) {
    super(message, { code: 'CONFIG_INVALID', retriable: false, statusCode: 500 }, options);
  }
}

export class AuthenticationError extends TidemarkError {
  constructor(message = 'missing or invalid API key', options: ErrorOptions<Record<string, unknown>> = {}) {
    super(message, { code: 'UNAUTHENTICATED', retriable: false, statusCode: 401 }, options);
  }
}

export class ForbiddenError extends TidemarkError {
  constructor(message: string, options: ErrorOptions<Record<string, unknown>> = {}) {
    super(message, { code: 'FORBIDDEN', retriable: false, statusCode: 403 }, options);
  }
}

export class NotFoundError extends TidemarkError {
  constructor(message: string, options: ErrorOptions<Record<string, unknown>> = {}) {
    super(message, { code: 'NOT_FOUND', retriable: false, statusCode: 404 }, options);
  }
}

export class ConflictError extends TidemarkError {
  constructor(message: string, options: ErrorOptions<Record<string, unknown>> = {}) {
    super(message, { code: 'CONFLICT', retriable: false, statusCode: 409 }, options);
  }
}

export class PayloadTooLargeError extends TidemarkError<{ limitBytes: number } & Record<string, unknown>> {
  constructor(message: string, options: ErrorOptions<{ limitBytes: number } & Record<string, unknown>>) {
    super(message, { code: 'PAYLOAD_TOO_LARGE', retriable: false, statusCode: 413 }, options);
  }
}

export class RateLimitedError extends TidemarkError {
  constructor(message: string, options: ErrorOptions<Record<string, unknown>> & { retryAfterMs: number }) {
    super(message, { code: 'RATE_LIMITED', retriable: true, statusCode: 429 }, options);
  }
}

/** A dependency (ClickHouse, Postgres, Kafka, Redis, a receiver) cannot be reached right now. */
export class UnavailableError extends TidemarkError<{ dependency: string } & Record<string, unknown>> {
  constructor(message: string, options: ErrorOptions<{ dependency: string } & Record<string, unknown>>) {
    super(message, { code: 'DEPENDENCY_UNAVAILABLE', retriable: true, statusCode: 503 }, options);
  }
}

export class TimeoutError extends TidemarkError {
  constructor(message: string, options: ErrorOptions<Record<string, unknown>> = {}) {
    super(message, { code: 'TIMEOUT', retriable: true, statusCode: 504 }, options);
  }
}

/** ClickHouse answered with an exception; `clickhouseCode` is its numeric code. */
export class ClickHouseQueryError extends TidemarkError<{ clickhouseCode: number; type?: string; queryName?: string }> {
  constructor(message: string, retriable: boolean, statusCode: number, options: ErrorOptions<{ clickhouseCode: number; type?: string; queryName?: string }>) {
    super(message, { code: 'CLICKHOUSE_ERROR', retriable, statusCode }, options);
  }
}

export class InternalError extends TidemarkError {
  constructor(message: string, options: ErrorOptions<Record<string, unknown>> = {}) {
    super(message, { code: 'INTERNAL', retriable: false, statusCode: 500 }, options);
  }
}

/**
 * ClickHouse error codes worth retrying: the server was busy, a network hop
 * failed, or an insert's outcome is unknown (safe to retry with a dedup token).
 */
const RETRIABLE_CLICKHOUSE_CODES = new Set([
  3, // UNEXPECTED_END_OF_FILE
  159, // TIMEOUT_EXCEEDED (a server-side limit; retried by callers that opt in)
  202, // TOO_MANY_SIMULTANEOUS_QUERIES
  209, // SOCKET_TIMEOUT
  210, // NETWORK_ERROR
  236, // ABORTED
  241, // MEMORY_LIMIT_EXCEEDED
  242, // TABLE_IS_READ_ONLY (replica lost Keeper session)
  252, // TOO_MANY_PARTS
  319, // UNKNOWN_STATUS_OF_INSERT
  425, // SYSTEM_ERROR
  999, // KEEPER_EXCEPTION
]);

/** ClickHouse codes that mean the caller sent something wrong. */
const CLIENT_CLICKHOUSE_CODES = new Set([
  25, // CANNOT_PARSE_ESCAPE_SEQUENCE (e.g. a lone surrogate "\ud800" in JSON input): the data, not the server
  376, // CANNOT_PARSE_UUID
  467, // CANNOT_PARSE_BOOL
  6,
  26,
  27,
  32,
  33,
  36,
  38,
  41,
  43,
  44,
  46,
  47,
  48,
  53,
  60,
  62,
  69,
  70,
  72,
  73,
  81,
  115,
  117,
  130,
  131,
  164,
  179,
  386,
  396,
  497,
]);

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED', 'UND_ERR_SOCKET']);

/** What a client should wait before resending to a Kafka that is restarting or electing leaders. */
const KAFKA_RETRY_AFTER_MS = 2_000;

/** kafkajs error classes that mean "the cluster cannot be reached or cannot answer now". */
const KAFKA_UNAVAILABLE_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNumberOfRetriesExceeded', // only retriable errors are retried
  'KafkaJSLockTimeout',
  'KafkaJSTimeout',
  'KafkaJSBrokerNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSStaleTopicMetadataAssignment',
  'KafkaJSNoBrokerAvailableError',
]);

/** Kafka protocol errors of a cluster that is restarting, electing leaders or short of replicas. */
const KAFKA_UNAVAILABLE_TYPES = new Set([
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_FOR_PARTITION',
  'NOT_LEADER_OR_FOLLOWER',
  'REQUEST_TIMED_OUT',
  'NETWORK_EXCEPTION',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'BROKER_NOT_AVAILABLE',
  'REPLICA_NOT_AVAILABLE',
  'KAFKA_STORAGE_ERROR',
  'NOT_CONTROLLER',
  'COORDINATOR_NOT_AVAILABLE',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'NOT_COORDINATOR',
  'UNKNOWN_TOPIC_OR_PARTITION', // also seen for a moment while a restarted broker loads its logs
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'OFFSET_NOT_AVAILABLE',
  'THROTTLING_QUOTA_EXCEEDED',
  // The idempotent producer's state no longer matches the broker's (after a
  // broker restart or a failed send): a new producer, and so a resend, fixes it.
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_EPOCH',
]);

const KAFKA_UNAVAILABLE_TEXT =
  /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|Connection (error|closed|timeout)|[Rr]equest timed out|producer is disconnected|[Cc]losed connection/;

/** @platformatic/kafka's errors: `code` PLT_KFK_*; network failures and timeouts mean the cluster is away. */
const PLATFORMATIC_PREFIX = 'PLT_KFK_';
const PLATFORMATIC_UNAVAILABLE_CODES = new Set(['PLT_KFK_NETWORK', 'PLT_KFK_TIMEOUT']);
// A topic missing from the metadata: also seen for a moment while a restarted broker loads its logs (as UNKNOWN_TOPIC_OR_PARTITION above).
const PLATFORMATIC_UNAVAILABLE_TEXT = /Cannot connect to any broker|^Unknown topic /;

function isPlatformaticError(err: unknown): boolean {
  const code = errorField(err, 'code');
  return typeof code === 'string' && code.startsWith(PLATFORMATIC_PREFIX);
}

/**
 * The reason a Kafka client's error means "unavailable, retry", found
 * anywhere in its cause chain (kafkajs wraps the root cause in
 * KafkaJSNonRetriableError or KafkaJSNumberOfRetriesExceeded;
 * @platformatic/kafka gathers failed attempts in AggregateErrors), or
 * undefined when the write itself is wrong (a message too large, an unknown
 * topic name, an authorisation error).
 */
export function kafkaUnavailable(err: unknown, depth = 0): string | undefined {
  let e: unknown = err;
  for (; depth < 8 && e instanceof Error; depth++) {
    const type = errorField(e, 'type');
    const code = errorField(e, 'code');
    // @platformatic/kafka: the broker's error name in apiId, the client's own verdict in canRetry.
    const apiId = errorField(e, 'apiId');
    if (KAFKA_UNAVAILABLE_NAMES.has(e.name)) return e.name;
    if (typeof type === 'string' && KAFKA_UNAVAILABLE_TYPES.has(type)) return type;
    if (typeof apiId === 'string' && KAFKA_UNAVAILABLE_TYPES.has(apiId)) return apiId;
    if (typeof code === 'string' && code.startsWith(PLATFORMATIC_PREFIX)) {
      if (PLATFORMATIC_UNAVAILABLE_CODES.has(code) || errorField(e, 'canRetry') === true || PLATFORMATIC_UNAVAILABLE_TEXT.test(e.message)) return code;
    }
    if (e instanceof AggregateError) {
      for (const inner of e.errors as unknown[]) {
        const found = kafkaUnavailable(inner, depth + 1);
        if (found) return found;
      }
    }
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    if (/^KafkaJS/.test(e.name) && errorField(e, 'retriable') === true) return e.name;
    if (KAFKA_UNAVAILABLE_TEXT.test(e.message)) return e.name;
    e = errorField(e, 'cause') ?? errorField(e, 'originalError');
  }
  return undefined;
}

function errorField(err: unknown, key: string): unknown {
  return typeof err === 'object' && err !== null ? (err as Record<string, unknown>)[key] : undefined;
}

/**
 * Turns any thrown value into a TidemarkError with correct flags. This is the
 * only place that knows how each dependency reports failure.
 *
 * @param dependency names the component the error came from, for the context.
 */
export function classifyError(err: unknown, dependency = 'unknown'): TidemarkError {
  if (err instanceof TidemarkError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const code = errorField(err, 'code');

  // Kafka clients' errors (kafkajs, @platformatic/kafka): a broker that cannot be reached or cannot take the write
  // right now is retriable, however kafkajs wraps it (issue 12: a
  // KafkaJSNonRetriableError around "connect ECONNREFUSED" was answered 500
  // retriable:false, and a producer that honoured that dropped its data).
  if (err instanceof Error && (/^KafkaJS/.test(err.name) || isPlatformaticError(err))) {
    const unavailable = kafkaUnavailable(err);
    return unavailable
      ? new UnavailableError(`kafka: ${message}`, { cause: err, context: { dependency: 'kafka', kafkaError: unavailable }, retryAfterMs: KAFKA_RETRY_AFTER_MS })
      : new InternalError(`kafka: ${message}`, { cause: err, context: { kafkaError: isPlatformaticError(err) ? String(code) : err.name } });
  }

  // Socket-level failures from any client.
  if (typeof code === 'string' && NETWORK_CODES.has(code)) {
    return new UnavailableError(`${dependency} unreachable: ${message}`, { cause: err, context: { dependency, errno: code } });
  }
  if (err instanceof Error && (err.name === 'AbortError' || /timeout/i.test(err.name) || /Timeout error/i.test(message))) {
    return new TimeoutError(`${dependency} timed out: ${message}`, { cause: err, context: { dependency } });
  }

  // @clickhouse/client's ClickHouseError: numeric code as a string plus a type.
  if (err instanceof Error && err.constructor.name === 'ClickHouseError') {
    const chCode = Number(code);
    const type = errorField(err, 'type');
    const retriable = RETRIABLE_CLICKHOUSE_CODES.has(chCode);
    const status = retriable ? 503 : CLIENT_CLICKHOUSE_CODES.has(chCode) ? 400 : 500;
    return new ClickHouseQueryError(message, retriable, status, {
      cause: err,
      context: { clickhouseCode: chCode, ...(typeof type === 'string' ? { type } : {}) },
    });
  }

  // node-postgres: SQLSTATE in `code`, 5 characters.
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && errorField(err, 'severity') !== undefined) {
    const retriable = code.startsWith('08') || code === '40001' || code === '40P01' || code === '57P01' || code === '57P03' || code === '53300';
    if (retriable) return new UnavailableError(`postgres: ${message}`, { cause: err, context: { dependency: 'postgres', sqlstate: code } });
    if (code === '23505') return new ConflictError(message, { cause: err, context: { sqlstate: code } });
    if (code.startsWith('22') || code.startsWith('23') || code.startsWith('42')) {
      return new ValidationError(message, { cause: err, context: { sqlstate: code } });
    }
    return new InternalError(`postgres: ${message}`, { cause: err, context: { sqlstate: code } });
  }

  return new InternalError(message, { cause: err, context: { dependency } });
}

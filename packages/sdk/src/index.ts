export {
  TidemarkClient,
  Session,
  createClient,
  type TidemarkOptions,
  type TrackOptions,
  type EventContext,
  type LogLevel,
  type ClientStats,
  type Tracker,
} from './client';
export { TidemarkSdkError, type SdkErrorCode, type SignalName } from './errors';
export type { Counter, Gauge, Histogram, Labels, MetricType, Sample } from './metrics/registry';
export { labelsKey, METRIC_NAME, LABEL_NAME } from './metrics/registry';
export type { PipelineStats, RetryInfo } from './queue/pipeline';
export { HttpTransport, type HttpTransportOptions } from './transport/http';
export { KafkaTransport, type KafkaClientLike, type KafkaProduceRecord, type KafkaProducerLike, type KafkaTransportOptions } from './transport/kafka';
export type { Transport, QueueEntry, SendOutcome } from './transport/types';
export { backoffDelay, parseRetryAfter, type BackoffOptions } from './retry/backoff';
export { koaMiddleware, type KoaMiddlewareOptions, type KoaLikeContext } from './middleware/koa';
export { expressMiddleware, type ExpressMiddlewareOptions, type ExpressLikeRequest } from './middleware/express';
export {
  createRequestRecorder,
  UNMATCHED_ROUTE,
  CLIENT_CLOSED_STATUS,
  type RequestLogger,
  type RequestMiddlewareOptions,
  type RequestRecord,
  type RequestRecorder,
} from './middleware/record';
export { SDK_VERSION } from './version';

import {
  KafkaJSConnectionError,
  KafkaJSError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
} from 'kafkajs';
import { classifyError } from '../src';

/** kafkajs errors as kafkajs builds them (its typings omit the cause option); the broker-backed cases are in kafka-faults.int.test.ts. */
function nonRetriable(cause: Error): Error {
  const e = new KafkaJSNonRetriableError(cause);
  Object.assign(e, { cause });
  return e;
}

describe('Kafka error classification (issue 12)', () => {
  const unavailable = { statusCode: 503, retriable: true, code: 'DEPENDENCY_UNAVAILABLE', retryAfterMs: 2_000, context: { dependency: 'kafka' } };

  test('a broker that is down is retriable however kafkajs wraps it', () => {
    const refused = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:19092', { broker: '127.0.0.1:19092', code: 'ECONNREFUSED' });
    expect(classifyError(refused, 'kafka')).toMatchObject(unavailable);
    // What the collector answered 500 retriable:false for in issue 12.
    expect(classifyError(nonRetriable(refused), 'kafka')).toMatchObject(unavailable);
    expect(
      classifyError(Object.assign(new KafkaJSNumberOfRetriesExceeded(refused, { retryCount: 8, retryTime: 5000 }), { cause: refused }), 'kafka'),
    ).toMatchObject(unavailable);
    expect(classifyError(new KafkaJSRequestTimeoutError('Request Produce(key: 0, version: 7) timed out', {} as never), 'kafka')).toMatchObject(unavailable);
    expect(classifyError(new KafkaJSError('The producer is disconnected', { retriable: false }), 'kafka')).toMatchObject(unavailable);
  });

  test.each([
    'LEADER_NOT_AVAILABLE',
    'NOT_LEADER_OR_FOLLOWER',
    'REQUEST_TIMED_OUT',
    'NOT_ENOUGH_REPLICAS',
    'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
    'OUT_OF_ORDER_SEQUENCE_NUMBER',
  ])('protocol error %s of a restarting cluster is retriable, also wrapped', (type) => {
    const e = new KafkaJSProtocolError({ message: type, type, code: 0, retriable: false } as never);
    expect(classifyError(e, 'kafka')).toMatchObject(unavailable);
    expect(classifyError(nonRetriable(e), 'kafka')).toMatchObject(unavailable);
  });

  test('a write that is wrong in itself stays a non-retriable 500', () => {
    const tooLarge = new KafkaJSProtocolError({
      message: 'The request included a message larger than the max message size the server will accept',
      type: 'MESSAGE_TOO_LARGE',
      code: 10,
      retriable: false,
    } as never);
    expect(classifyError(nonRetriable(tooLarge), 'kafka')).toMatchObject({ statusCode: 500, retriable: false });
    const auth = new KafkaJSProtocolError({
      message: 'Not authorized to access topics',
      type: 'TOPIC_AUTHORIZATION_FAILED',
      code: 29,
      retriable: false,
    } as never);
    expect(classifyError(auth, 'kafka')).toMatchObject({ statusCode: 500, retriable: false });
  });
});

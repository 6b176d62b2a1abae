import { classifyError } from '../src';

/**
 * @platformatic/kafka's errors, built in the shapes its errors.js builds
 * (GenericError: an Error with `code` PLT_KFK_* and enumerable extras such as
 * canRetry and apiId; MultipleErrors: an AggregateError with `code`). The
 * package is ESM-only and jest on Node 20 cannot load it, so the classes
 * themselves cannot be imported here; the shapes below are what was observed
 * against the broker (scripts/bench-kafka-clients.mjs's client, a closed port).
 */
function plt(code: string, message: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { code, ...extra });
}
function multiple(message: string, errors: Error[]): Error {
  return Object.assign(new AggregateError(errors, message), { code: 'PLT_KFK_MULTIPLE' });
}

describe('Kafka error classification, @platformatic/kafka (issue 17)', () => {
  const unavailable = { statusCode: 503, retriable: true, code: 'DEPENDENCY_UNAVAILABLE', retryAfterMs: 2_000, context: { dependency: 'kafka' } };

  test('a broker that cannot be reached is retriable, however deep the client nests the attempts', () => {
    // The two outer levels as observed with retries: 1 against a closed port; the NetworkError inside as errors.js builds it.
    const attempt = () => multiple('Cannot connect to any broker.', [plt('PLT_KFK_NETWORK', 'Connection to 127.0.0.1:39999 failed.', { canRetry: true })]);
    expect(classifyError(multiple('metadata failed 2 times.', [attempt(), attempt()]), 'kafka')).toMatchObject(unavailable);
    expect(classifyError(multiple('metadata failed 2 times.', [multiple('Cannot connect to any broker.', [])]), 'kafka')).toMatchObject(unavailable);
    expect(classifyError(plt('PLT_KFK_TIMEOUT', 'Request timed out after 10000 ms.'), 'kafka')).toMatchObject(unavailable);
  });

  test.each(['NOT_LEADER_OR_FOLLOWER', 'NOT_ENOUGH_REPLICAS', 'UNKNOWN_PRODUCER_ID', 'COORDINATOR_NOT_AVAILABLE'])(
    'protocol error %s of a restarting cluster is retriable inside a response error',
    (apiId) => {
      const response = multiple('Received response with error while executing API Produce(v9)', [plt('PLT_KFK_PROTOCOL', apiId, { apiId, canRetry: false })]);
      expect(classifyError(Object.assign(response, { code: 'PLT_KFK_RESPONSE' }), 'kafka')).toMatchObject(unavailable);
    },
  );

  test('a topic missing from the metadata is retriable, as UNKNOWN_TOPIC_OR_PARTITION is with kafkajs', () => {
    expect(classifyError(plt('PLT_KFK_USER', 'Unknown topic tm-events.v1.'), 'kafka')).toMatchObject(unavailable);
  });

  test('a write that is wrong in itself stays a non-retriable 500 naming the client code', () => {
    const tooLarge = multiple('Received response with error while executing API Produce(v9)', [
      plt('PLT_KFK_PROTOCOL', 'MESSAGE_TOO_LARGE', { apiId: 'MESSAGE_TOO_LARGE', canRetry: false }),
    ]);
    expect(classifyError(Object.assign(tooLarge, { code: 'PLT_KFK_RESPONSE' }), 'kafka')).toMatchObject({
      statusCode: 500,
      retriable: false,
      context: { kafkaError: 'PLT_KFK_RESPONSE' },
    });
    expect(classifyError(plt('PLT_KFK_AUTHENTICATION', 'SASL authentication failed.', { canRetry: false }), 'kafka')).toMatchObject({
      statusCode: 500,
      retriable: false,
    });
  });
});

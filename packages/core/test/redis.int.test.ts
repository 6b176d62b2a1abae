import { RedisStore } from '../src';
import { keyValueContract } from './kv-contract';
import { services } from './services';

describe(`RedisStore against the real Redis (${services.redisUrl})`, () => {
  keyValueContract(() => new RedisStore(services.redisUrl));
});

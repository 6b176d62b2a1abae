import { MemoryStore } from '../src';
import { keyValueContract } from './kv-contract';

describe('MemoryStore', () => {
  keyValueContract(() => new MemoryStore());
});

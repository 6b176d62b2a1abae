export { startEmbeddedClickHouse, type EmbeddedClickHouse, type EmbeddedClickHouseOptions, type EmbeddedUser } from './server';
export { ChdbEngine } from './engine';
export { embeddedUsers } from './users';
export { spawnEmbeddedClickHouse, type SpawnedClickHouse } from './spawn';

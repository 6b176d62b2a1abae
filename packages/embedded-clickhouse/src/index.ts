export { startEmbeddedClickHouse, type EmbeddedClickHouse, type EmbeddedClickHouseOptions, type EmbeddedUser } from './server';
export { ChdbEngine } from './engine';
export { embeddedUsers } from './users';
export { spawnEmbeddedClickHouse, type SpawnedClickHouse } from './spawn';
export { resolveClickHouseCredentials, CLICKHOUSE_SECRETS_FILE, type ClickHouseCredentials, type ResolvedClickHouseCredentials } from './secrets';
export { checkStatement, buildCatalogue, HostAccessDenied, tokenize } from './guard';

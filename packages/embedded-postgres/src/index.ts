export { startEmbeddedPostgres, type EmbeddedPostgres, type EmbeddedPostgresOptions } from './server';
export {
  resolvePostgresCredentials,
  POSTGRES_SECRETS_FILE,
  EMBEDDED_POSTGRES_USER,
  type PostgresCredentials,
  type ResolvedPostgresCredentials,
} from './secrets';

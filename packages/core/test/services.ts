/**
 * Where the integration tests find the real services. `npm test` starts them
 * (scripts/services/up.sh) and exports these variables; the defaults match
 * what up.sh starts. Tests never skip: an unreachable service fails the suite
 * with the URL it tried.
 */
export const services = {
  postgresUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  kafkaBrokers: process.env.KAFKA_BROKERS ?? '127.0.0.1:19092',
};

export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}

// One module hands out every fixed test port (test-support's ports.ts: node builtins only, so core's tests can
// import it without depending on test-support, which depends on core).
export { privateKafkaPorts } from '../../test-support/src/ports';

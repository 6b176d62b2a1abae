import type { Pool } from 'pg';
import type { Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { ClickHouse } from './clickhouse/client';
import type { Config } from './config';
import type { KeyValueStore } from './kv';
import type { Lifecycle } from './lifecycle';

/**
 * What every role gets when it starts: the parsed config, its component
 * logger, the lifecycle to register stop hooks with, and the shared
 * connections. A role package exports a `Role`; the CLI composes them.
 */
export interface RoleContext<C extends Config = Config> {
  /** The parsed configuration: core's settings and, for a role, its own slice (packages/<role>/src/settings.ts). */
  config: C;
  logger: Logger;
  lifecycle: Lifecycle;
  /** Client on CLICKHOUSE_DATABASE (embedded chDB over HTTP, or a server). */
  clickhouse: ClickHouse;
  /** Metadata Postgres (a server, or embedded PGlite over the wire). */
  meta: Pool;
  kv: KeyValueStore;
  /** The process's Prometheus registry; every role registers its metrics here. */
  metrics: Registry;
}

/** Something a role serves, printed at start. */
export interface Endpoint {
  name: string;
  url: string;
}

export interface Role<Name extends string = string, C extends Config = Config> {
  /** What `tidemark start --role` takes. */
  name: Name;
  description: string;
  /** Starts the role; registers its stop hooks on ctx.lifecycle; returns what it serves. */
  start(ctx: RoleContext<C>): Promise<Endpoint[]>;
}

import { ALERTING_POSTGRES_MIGRATIONS_DIR } from '@tidemark/alerting';
import { ETL_POSTGRES_MIGRATIONS_DIR } from '@tidemark/etl';
import { API_POSTGRES_MIGRATIONS_DIR } from '../src/migrations';

/**
 * Role migration folders the API's test stacks apply besides core's (the
 * shared test stores cannot import roles): the API reads alert state
 * (alerting), sync status and quarantined rows (etl), and has analytics
 * tables of its own.
 */
export const API_TEST_POSTGRES_MIGRATION_DIRS: readonly string[] = [ALERTING_POSTGRES_MIGRATIONS_DIR, ETL_POSTGRES_MIGRATIONS_DIR, API_POSTGRES_MIGRATIONS_DIR];

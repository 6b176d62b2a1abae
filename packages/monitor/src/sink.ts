import type { TidemarkClient } from '@tidemark/sdk';

/**
 * Where probes put what they measure: the SDK client's metric and log
 * methods (sent through the collector's HTTP API). A narrow type so tests
 * and other senders can stand in.
 */
export type MetricSink = Pick<TidemarkClient, 'metric' | 'log'>;

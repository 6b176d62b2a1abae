import type { Logger } from '@tidemark/core';
import type { Target } from '../config/targets';
import type { MetricSink } from '../sink';
import type { Probe } from './runner';

/**
 * A probe over a list of URL targets (health checks, Prometheus scrapes),
 * all checked on one interval with one timeout. Its targetUrls() let the
 * role hold the first run back until the platform's own listeners among
 * them accept connections (own-ports.ts).
 */
export abstract class TargetProbe<T extends Target = Target> implements Probe {
  abstract readonly name: string;

  constructor(
    protected readonly targets: readonly T[],
    protected readonly sink: MetricSink,
    readonly intervalMs: number,
    protected readonly timeoutMs: number,
    protected readonly logger: Logger,
  ) {}

  /** The URLs this probe reads (the role gates the first run on the platform's own ones). */
  targetUrls(): string[] {
    return this.targets.map((t) => t.url);
  }

  abstract run(): Promise<void>;
}

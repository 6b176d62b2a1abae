import type { TidemarkClient } from './client';
import type { TrackOptions, Tracker } from './types';

/** A session: `session.start` when created, `session.end` with its duration on end(). */
export class Session implements Tracker {
  private readonly startedAt = Date.now();
  private ended = false;

  constructor(
    private readonly client: TidemarkClient,
    readonly id: string,
    readonly distinctId: string | undefined,
    properties?: Record<string, unknown>,
  ) {
    client.track('session.start', { session_id: id, ...properties }, this.options());
  }

  private options(extra: TrackOptions = {}): TrackOptions {
    return { ...(this.distinctId !== undefined ? { distinctId: this.distinctId } : {}), ...extra, sessionId: this.id };
  }

  track(name: string, properties?: Record<string, unknown>, options: TrackOptions = {}): string | undefined {
    return this.client.track(name, properties, this.options(options));
  }

  /** Ends the session once; later calls do nothing. */
  end(properties?: Record<string, unknown>): string | undefined {
    if (this.ended) return undefined;
    this.ended = true;
    return this.client.track('session.end', { session_id: this.id, duration_ms: Date.now() - this.startedAt, ...properties }, this.options());
  }
}

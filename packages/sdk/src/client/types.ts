import type { PipelineStats } from '../queue/pipeline';

/** The shapes of the client's public API: what track() takes, what stats() returns. */

/** Product context of events (stored as columns and rolled up by). */
export interface EventContext {
  product?: string;
  channel?: string;
  os?: string;
  app_version?: string;
  user_agent?: string;
}

export interface TrackOptions {
  /** Who did it (user id or anonymous id). Default: the client's/scope's distinct id. */
  distinctId?: string;
  userId?: string;
  anonymousId?: string;
  sessionId?: string;
  /** When it happened: Date, epoch ms or ISO text (default now). */
  timestamp?: Date | number | string;
  context?: EventContext;
  /** Client-generated id (default a random UUID); resend the same id to let queries count it once. */
  eventId?: string;
}

export type LogLevel = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'FATAL' | 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

export interface ClientStats {
  events: PipelineStats;
  metrics: PipelineStats;
  logs: PipelineStats;
  /** Why the client is off (invalid options), if it is. */
  disabled?: string;
}

/** Anything events can be tracked on: the client, a scope, a session. */
export interface Tracker {
  track(name: string, properties?: Record<string, unknown>, options?: TrackOptions): string | undefined;
}

/** The producer client: its public API (client.ts), options (options.ts), delivery (delivery.ts) and sessions (session.ts). */
export { TidemarkClient, createClient } from './client';
export { Session } from './session';
export type { TidemarkOptions } from './options';
export type { ClientStats, EventContext, LogLevel, TrackOptions, Tracker } from './types';

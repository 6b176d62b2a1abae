/**
 * The engine's only source of time. Every timestamp the engine writes (state
 * changes, pending clocks, group timers, retry schedules, leases) comes from
 * a Clock, so the timeline tests drive the engine through hours of alert
 * history in seconds, and production uses the system clock.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to: for tests and backtests. */
export class ManualClock implements Clock {
  private t: number;

  constructor(start: number | Date) {
    this.t = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.t;
  }

  set(t: number | Date): void {
    const next = typeof t === 'number' ? t : t.getTime();
    // Time never runs backwards: leases and pending clocks rely on it.
    if (next < this.t) throw new Error(`ManualClock cannot go back from ${new Date(this.t).toISOString()} to ${new Date(next).toISOString()}`);
    this.t = next;
  }

  advance(ms: number): number {
    this.set(this.t + ms);
    return this.t;
  }
}

import { z } from 'zod';
import { pgRows, type Queryable } from '@tidemark/core';
import { matcherSchema, matchesAll, storedMatcherSchema, type Matcher } from '../util/matchers';

/**
 * Silences and maintenance windows. Both mute notifications of matching
 * alerts while they are in effect; neither changes alert state, so what was
 * muted is still listed as active and history stays complete. A firing
 * alert first notified after a mute ends is notified then.
 */

const when = z.coerce.date({ error: 'must be a date (ISO 8601)' });

export const silenceInputSchema = z
  .strictObject({
    /** At least one matcher: a silence never mutes a whole project by accident. */
    matchers: z.array(matcherSchema).min(1, 'a silence needs at least one matcher'),
    /** Default: now. */
    starts_at: when.optional(),
    ends_at: when,
    created_by: z.string().trim().min(1, 'must name the author').max(200),
    comment: z.string().trim().min(1, 'say why (a ticket, a reason)').max(2000),
  })
  .refine((s) => !s.starts_at || s.ends_at > s.starts_at, { path: ['ends_at'], message: 'must be after starts_at' });
export type SilenceInput = z.input<typeof silenceInputSchema>;

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24h)');

export const recurrenceSchema = z.strictObject({
  /** ISO weekdays, 1 = Monday ... 7 = Sunday. */
  weekdays: z.array(z.number().int().min(1).max(7)).min(1).default([1, 2, 3, 4, 5, 6, 7]),
  start: hhmm,
  /** An end at or before start runs past midnight. */
  end: hhmm,
  timezone: z.string().refine((tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, 'must be an IANA time zone such as Asia/Shanghai'),
});
export type Recurrence = z.output<typeof recurrenceSchema>;

export const maintenanceInputSchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9 _.-]{0,127}$/, 'must be 1-128 of letters, digits, space, _ . -'),
    /** Empty: every alert of the project. */
    matchers: z.array(matcherSchema).default([]),
    starts_at: when.optional(),
    /** Unset: until deleted (for recurring windows). */
    ends_at: when.optional(),
    recurrence: recurrenceSchema.optional(),
    created_by: z.string().trim().min(1).max(200),
    comment: z.string().max(2000).default(''),
  })
  .refine((w) => !w.ends_at || !w.starts_at || w.ends_at > w.starts_at, { path: ['ends_at'], message: 'must be after starts_at' })
  .refine((w) => w.ends_at || w.recurrence, { path: ['ends_at'], message: 'a one-off window needs ends_at (or give a recurrence)' });
export type MaintenanceInput = z.input<typeof maintenanceInputSchema>;

export interface ActiveSilence {
  id: string;
  matchers: Matcher[];
}
export interface MaintenanceWindow {
  id: string;
  name: string;
  matchers: Matcher[];
  startsAt: number;
  endsAt: number | null;
  recurrence: Recurrence | null;
}

const WEEKDAY: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

/** Weekday (1-7) and minute of the day of `t` in a time zone. */
function localTime(t: number, timeZone: string): { weekday: number; minute: number } {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(
    new Date(t),
  );
  const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? '0';
  return { weekday: WEEKDAY[get('weekday')] ?? 1, minute: Number(get('hour')) * 60 + Number(get('minute')) };
}

const toMinute = (s: string): number => Number(s.slice(0, 2)) * 60 + Number(s.slice(3, 5));

/** Is the window in effect at `t`? */
export function inWindow(w: MaintenanceWindow, t: number): boolean {
  if (t < w.startsAt || (w.endsAt !== null && t >= w.endsAt)) return false;
  const r = w.recurrence;
  if (!r) return true;
  const { weekday, minute } = localTime(t, r.timezone);
  const start = toMinute(r.start);
  const end = toMinute(r.end);
  if (start < end) return r.weekdays.includes(weekday) && minute >= start && minute < end;
  // Overnight: the part after start belongs to today, the part before end to yesterday's window.
  const yesterday = weekday === 1 ? 7 : weekday - 1;
  return (r.weekdays.includes(weekday) && minute >= start) || (r.weekdays.includes(yesterday) && minute < end);
}

export interface Mutes {
  /** Why an alert with these labels is muted now ("silence <id>", "maintenance <name>"), or null. */
  mutedBy(labels: Record<string, string>): string | null;
}

const storedMatchers = z.array(storedMatcherSchema);
const ACTIVE_SILENCES = {
  name: 'activeSilences',
  sql: `SELECT id, matchers FROM alert_silences WHERE project_id = $1 AND starts_at <= $2 AND ends_at > $2`,
  row: z.object({ id: z.string(), matchers: storedMatchers }),
};
const CURRENT_WINDOWS = {
  name: 'currentMaintenanceWindows',
  sql: `SELECT id, name, matchers, starts_at, ends_at, recurrence FROM alert_maintenance_windows WHERE project_id = $1 AND starts_at <= $2 AND (ends_at IS NULL OR ends_at > $2)`,
  row: z.object({
    id: z.string(),
    name: z.string(),
    matchers: storedMatchers,
    starts_at: z.date(),
    ends_at: z.date().nullable(),
    recurrence: recurrenceSchema.nullable(),
  }),
};

/** Silences and windows of a project in effect at `now`. */
export async function loadMutes(db: Queryable, projectId: string, now: number): Promise<Mutes> {
  const at = new Date(now).toISOString();
  const [silences, w] = await Promise.all([pgRows(db, ACTIVE_SILENCES, [projectId, at]), pgRows(db, CURRENT_WINDOWS, [projectId, at])]);
  const windows: MaintenanceWindow[] = w.map((r) => ({
    id: r.id,
    name: r.name,
    matchers: r.matchers,
    startsAt: r.starts_at.getTime(),
    endsAt: r.ends_at?.getTime() ?? null,
    recurrence: r.recurrence,
  }));
  return {
    mutedBy(labels) {
      for (const sil of silences) if (matchesAll(sil.matchers, labels)) return `silence ${sil.id}`;
      for (const win of windows) if (inWindow(win, now) && matchesAll(win.matchers, labels)) return `maintenance ${win.name}`;
      return null;
    },
  };
}

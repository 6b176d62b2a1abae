/**
 * Number and time formatting. One fixed locale (en-US) so that what the page
 * shows is predictable: the browser test compares shown text with API values
 * formatted by these same functions.
 */
const LOCALE = 'en-US';

const intFmt = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0 });

export function fmtInt(n: number | null | undefined): string {
  return n === null || n === undefined || !Number.isFinite(n) ? '—' : intFmt.format(Math.round(n));
}

export function fmtNum(n: number | null | undefined, digits = 2): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return new Intl.NumberFormat(LOCALE, { maximumFractionDigits: digits, minimumFractionDigits: 0 }).format(n);
}

export function fmtPct(n: number | null | undefined, digits = 1): string {
  return n === null || n === undefined || !Number.isFinite(n) ? '—' : `${fmtNum(n, digits)}%`;
}

/** Milliseconds as "812 ms", "1.24 s", "3.5 min". */
export function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const a = Math.abs(ms);
  if (a < 1000) return `${fmtNum(ms, a < 10 ? 1 : 0)} ms`;
  if (a < 60_000) return `${fmtNum(ms / 1000, 2)} s`;
  if (a < 3_600_000) return `${fmtNum(ms / 60_000, 1)} min`;
  return `${fmtNum(ms / 3_600_000, 1)} h`;
}

export function fmtBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${fmtNum(v, i === 0 ? 0 : 1)} ${units[i]}`;
}

/** Large amounts shortened for figures ("11.77M", "31.4K"); the exact amount goes into a hint or title. */
export function fmtCompact(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return new Intl.NumberFormat(LOCALE, { notation: 'compact', maximumFractionDigits: 2 }).format(n);
}

export function fmtMoney(n: number | null | undefined, currency = ''): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  const s = new Intl.NumberFormat(LOCALE, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(n);
  return currency ? `${s} ${currency}` : s;
}

/** An ISO time or epoch ms as a short local date-time, e.g. "Nov 22, 14:05:09". */
export function fmtTime(t: string | number | null | undefined): string {
  if (t === null || t === undefined || t === '') return '—';
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return String(t);
  return d.toLocaleString(LOCALE, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

/** "3 min ago", "in 2 h": for timestamps near now. */
export function fmtAgo(t: string | number | null | undefined, now = Date.now()): string {
  if (t === null || t === undefined || t === '') return '—';
  const ms = now - new Date(t).getTime();
  if (!Number.isFinite(ms)) return '—';
  const a = Math.abs(ms);
  const s =
    a < 60_000
      ? `${Math.round(a / 1000)} s`
      : a < 3_600_000
        ? `${Math.round(a / 60_000)} min`
        : a < 86_400_000
          ? `${fmtNum(a / 3_600_000, 1)} h`
          : `${fmtNum(a / 86_400_000, 1)} d`;
  return ms >= 0 ? `${s} ago` : `in ${s}`;
}

/** Signed change in percent between a value and its previous one, or null when there is nothing to compare. */
export function changePct(current: number | null | undefined, previous: number | null | undefined): number | null {
  if (
    current === null ||
    current === undefined ||
    previous === null ||
    previous === undefined ||
    !Number.isFinite(current) ||
    !Number.isFinite(previous) ||
    previous === 0
  )
    return null;
  return ((current - previous) / Math.abs(previous)) * 100;
}

/**
 * Days, hours and months cut in the site's IANA time zone with `Intl.DateTimeFormat`. A local day is from local
 * midnight to the next local midnight, so a spring-forward day lasts 23 h and a fall-back day 25 h.
 */
import { EconomicsErrors, invalidInput } from './errors.js';

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
export const WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const SHORT: Record<string, Weekday> = {
  Mon: 'mon',
  Tue: 'tue',
  Wed: 'wed',
  Thu: 'thu',
  Fri: 'fri',
  Sat: 'sat',
  Sun: 'sun',
};

const formats = new Map<string, Intl.DateTimeFormat>();

function format(tz: string): Intl.DateTimeFormat {
  let f = formats.get(tz);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: tz,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        weekday: 'short',
      });
    } catch {
      throw EconomicsErrors.badTimezone(tz);
    }
    formats.set(tz, f);
  }
  return f;
}

/** True for a zone name Intl knows (e.g. `UTC`, `America/Chicago`). */
export function isTimezone(tz: string): boolean {
  try {
    format(tz);
    return true;
  } catch {
    return false;
  }
}

export interface LocalParts {
  /** Local calendar date `YYYY-MM-DD`. */
  date: string;
  /** Local month `YYYY-MM`. */
  month: string;
  hour: number;
  weekday: Weekday;
  /** Local wall time minus UTC, ms. */
  offset_ms: number;
}

export function localParts(ms: number, tz: string): LocalParts {
  const p: Record<string, string> = {};
  for (const part of format(tz).formatToParts(new Date(ms))) p[part.type] = part.value;
  const y = Number(p.year);
  const mo = Number(p.month);
  const d = Number(p.day);
  const h = Number(p.hour);
  const wall = Date.UTC(y, mo - 1, d, h, Number(p.minute), Number(p.second));
  return {
    date: `${p.year}-${p.month}-${p.day}`,
    month: `${p.year}-${p.month}`,
    hour: h,
    weekday: SHORT[p.weekday ?? ''] ?? 'mon',
    offset_ms: wall - Math.floor(ms / 1000) * 1000,
  };
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** UTC ms of local midnight starting `date` (`YYYY-MM-DD`) in `tz`. */
export function dayStartMs(date: string, tz: string): number {
  const m = DATE_RE.exec(date);
  if (!m) throw invalidInput('date', `expected YYYY-MM-DD, got ${date}`);
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  // Wall time minus the offset in force then; a second pass settles an offset change near midnight.
  let t = wall - localParts(wall, tz).offset_ms;
  t = wall - localParts(t, tz).offset_ms;
  // Midnight skipped by a DST jump (a few zones): the day starts at the first instant that is this date.
  while (localParts(t, tz).date < date) t += 3_600_000;
  return t;
}

/** The local date after `date`. */
export function nextDate(date: string): string {
  const m = DATE_RE.exec(date);
  if (!m) throw invalidInput('date', `expected YYYY-MM-DD, got ${date}`);
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + 1)).toISOString().slice(0, 10);
}

export interface LocalDay {
  date: string;
  start_ms: number;
  end_ms: number;
}

/** The local day containing `ms`. */
export function dayOf(ms: number, tz: string): LocalDay {
  const date = localParts(ms, tz).date;
  return { date, start_ms: dayStartMs(date, tz), end_ms: dayStartMs(nextDate(date), tz) };
}

/** Local days overlapping [fromMs, toMs), each with its full bounds (not clipped). */
export function daysBetween(fromMs: number, toMs: number, tz: string): LocalDay[] {
  const out: LocalDay[] = [];
  if (toMs <= fromMs) return out;
  let day = dayOf(fromMs, tz);
  while (day.start_ms < toMs) {
    out.push(day);
    const date = nextDate(day.date);
    day = { date, start_ms: day.end_ms, end_ms: dayStartMs(nextDate(date), tz) };
  }
  return out;
}

export interface LocalMonth {
  month: string;
  start_ms: number;
  end_ms: number;
}

/** Local calendar months overlapping [fromMs, toMs), full bounds. */
export function monthsBetween(fromMs: number, toMs: number, tz: string): LocalMonth[] {
  const out: LocalMonth[] = [];
  if (toMs <= fromMs) return out;
  let month = localParts(fromMs, tz).month;
  for (;;) {
    const [y, m] = month.split('-').map(Number) as [number, number];
    const next = m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
    const start = dayStartMs(`${month}-01`, tz);
    if (start >= toMs) break;
    out.push({ month, start_ms: start, end_ms: dayStartMs(`${next}-01`, tz) });
    month = next;
  }
  return out;
}

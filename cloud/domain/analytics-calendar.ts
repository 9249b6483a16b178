/**
 * Calendar arithmetic in the institution's time zone (ATTENDANCE_TIMEZONE), with Intl only.
 * Analytics count a session on the local day it *started*, so the only conversions needed are
 * "which local date is this instant" and "which instant starts this local date". Dates are
 * 'YYYY-MM-DD' strings; arithmetic on them is done on UTC noon so it never meets a DST edge.
 *
 * The calendar runs from FIRST_DATE (the Unix epoch: no session starts before it) to LAST_DATE
 * (the last day with a four-digit year); a date outside it is not a date here. The instants that
 * bound a range are computed on day numbers, so a range may end on LAST_DATE.
 */

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;
export const FIRST_DATE = '1970-01-01';
export const LAST_DATE = '9999-12-31';

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Building a DateTimeFormat costs far more than using one: keep one per zone. */
function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(timeZone, f);
  }
  return f;
}

function wallClock(ms: number, timeZone: string): { y: number; m: number; d: number; h: number; min: number; s: number } {
  const parts: Record<string, number> = {};
  for (const p of formatterFor(timeZone).formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { y: parts.year!, m: parts.month!, d: parts.day!, h: parts.hour!, min: parts.minute!, s: parts.second! };
}

/** Offset of local wall time from UTC at this instant, in ms (Berlin in summer: +7_200_000). */
export function zoneOffsetMs(ms: number, timeZone: string): number {
  const w = wallClock(ms, timeZone);
  const asUtc = Date.UTC(w.y, w.m - 1, w.d, w.h, w.min, w.s);
  return asUtc - (ms - (((ms % 1000) + 1000) % 1000));
}

/** Parses 'YYYY-MM-DD' that names a real day of the calendar; null otherwise (2026-02-30, 0000-01-01 are null). */
export function parseLocalDate(s: string): { y: number; m: number; d: number } | null {
  const match = DATE_RE.exec(s);
  if (!match || s < FIRST_DATE || s > LAST_DATE) return null;
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const t = new Date(Date.UTC(y, m - 1, d));
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== m - 1 || t.getUTCDate() !== d) return null;
  return { y, m, d };
}

export function isLocalDate(s: string): boolean {
  return parseLocalDate(s) !== null;
}

function mustParse(date: string): { y: number; m: number; d: number } {
  const p = parseLocalDate(date);
  if (!p) throw new RangeError(`not a calendar date: ${date}`);
  return p;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
/** Days since 1970-01-01 of a calendar date. */
const dayNumber = (date: string) => {
  const { y, m, d } = mustParse(date);
  return Math.round(Date.UTC(y, m - 1, d) / DAY_MS);
};
/** The date of a day number; past LAST_DATE it has five digits and is no calendar date. */
const dateOfDay = (day: number) => {
  const t = new Date(day * DAY_MS + DAY_MS / 2);
  return `${pad(t.getUTCFullYear(), 4)}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;
};

/** The local calendar date of an instant. */
export function localDateOf(ms: number, timeZone: string): string {
  const w = wallClock(ms, timeZone);
  return `${pad(w.y, 4)}-${pad(w.m)}-${pad(w.d)}`;
}

/** `n` days after `date`; the result may fall outside the calendar (check it with isLocalDate). */
export function addDays(date: string, n: number): string {
  return dateOfDay(dayNumber(date) + n);
}

/** Whole days from `a` to `b` (b - a). */
export function daysBetween(a: string, b: string): number {
  return dayNumber(b) - dayNumber(a);
}

/** Monday of the ISO week containing `date`. */
export function weekStartOf(date: string): string {
  const dow = (dayNumber(date) + 4) % 7; // 1970-01-01 was a Thursday; 0 = Sunday
  return addDays(date, -((dow + 6) % 7));
}

/**
 * The first instant of a local date. Tried with the offset before and after a possible DST
 * change; where midnight itself does not exist (zones that jump 00:00 → 01:00) the day starts
 * at the first instant whose local date is `date`.
 */
export function startOfLocalDay(date: string, timeZone: string): number {
  return startOfDay(dayNumber(date), timeZone);
}

function startOfDay(day: number, timeZone: string): number {
  const wall = day * DAY_MS;
  const t1 = wall - zoneOffsetMs(wall, timeZone);
  const t2 = wall - zoneOffsetMs(t1, timeZone);
  const onDate = [t1, t2].filter((t) => localDateOf(t, timeZone) === dateOfDay(day));
  return onDate.length ? Math.min(...onDate) : Math.max(t1, t2);
}

/** [start, end) in UTC ms of the local dates `from`..`to` inclusive (`to` may be LAST_DATE). */
export function localDateRange(from: string, to: string, timeZone: string): { startMs: number; endMs: number } {
  return { startMs: startOfLocalDay(from, timeZone), endMs: startOfDay(dayNumber(to) + 1, timeZone) };
}

/** First and last day of a 'YYYY-MM' month, or null if it is not one of the calendar. */
export function monthDays(month: string): { from: string; to: string } | null {
  const match = /^(\d{4})-(\d{2})$/.exec(month);
  if (!match) return null;
  const from = `${match[1]}-${match[2]}-01`;
  if (!isLocalDate(from)) return null;
  const { y, m } = mustParse(from);
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return { from, to: `${match[1]}-${match[2]}-${pad(last)}` };
}

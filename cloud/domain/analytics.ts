/**
 * The analytics definitions (docs/analytics.md), pure: the store hands over per-student and
 * per-session status counts of *ended* sessions, these functions turn them into the numbers a
 * teacher reads. Late counts as attended; excused leaves the denominator; a student with no
 * submission has an `absent` record and so counts as absent.
 */
import { addDays, daysBetween, localDateOf, weekStartOf } from './analytics-calendar.js';

export interface StatusCounts {
  present: number;
  late: number;
  absent: number;
  excused: number;
}

export const zeroCounts = (): StatusCounts => ({ present: 0, late: 0, absent: 0, excused: 0 });

export function addCounts(a: StatusCounts, b: StatusCounts): StatusCounts {
  return { present: a.present + b.present, late: a.late + b.late, absent: a.absent + b.absent, excused: a.excused + b.excused };
}

export const heldOf = (c: StatusCounts) => c.present + c.late + c.absent + c.excused;
export const attendedOf = (c: StatusCounts) => c.present + c.late;
/** Sessions that count towards the percentage: all held except the excused ones. */
export const countableOf = (c: StatusCounts) => c.present + c.late + c.absent;

/** attended / countable × 100, rounded to 2 decimals; null when nothing is countable. */
export function attendancePercentage(c: StatusCounts): number | null {
  const countable = countableOf(c);
  if (countable === 0) return null;
  return Math.round((attendedOf(c) * 100 * 100) / countable) / 100;
}

/**
 * Below the course minimum, compared on whole numbers (attended·100 < min·countable) so 3 of 4
 * is exactly 75 % and not flagged under a 75 % rule, whatever the rounding of the shown value.
 */
export function isBelowMinimum(c: StatusCounts, minPct: number): boolean {
  const countable = countableOf(c);
  if (countable === 0) return false;
  return attendedOf(c) * 100 < minPct * countable - 1e-9;
}

export interface EnrolledStudent {
  id: string;
  email: string;
  full_name: string;
}

export interface StudentPercentage extends StatusCounts {
  student_id: string;
  email: string;
  full_name: string;
  sessions_held: number;
  attended: number;
  percentage: number | null;
  below_minimum: boolean;
}

/** One row per enrolled student, also those without any record (all zeros, percentage null). */
export function studentPercentages(students: readonly EnrolledStudent[], countsByStudent: ReadonlyMap<string, StatusCounts>, minPct: number): StudentPercentage[] {
  return students.map((s) => {
    const c = countsByStudent.get(s.id) ?? zeroCounts();
    return {
      student_id: s.id, email: s.email, full_name: s.full_name,
      sessions_held: heldOf(c), ...c, attended: attendedOf(c),
      percentage: attendancePercentage(c), below_minimum: isBelowMinimum(c, minPct),
    };
  });
}

export type TrendBucketSize = 'day' | 'week';

export interface SessionCounts extends StatusCounts {
  started_at: number;
}

export interface TrendBucket extends StatusCounts {
  /** First and last local date the bucket covers, inclusive (weeks are clipped to the range). */
  start: string;
  end: string;
  sessions: number;
  has_session: boolean;
  /** Attendance records summed over the bucket's sessions. */
  records: number;
  attendance_rate: number | null;
}

/**
 * A zero-filled series over local dates `from`..`to`: every day (or ISO week, Monday first) is a
 * bucket, sessions are placed on the local date they started, buckets without a session say so.
 */
export function trendSeries(sessions: readonly SessionCounts[], from: string, to: string, bucket: TrendBucketSize, timeZone: string): TrendBucket[] {
  const buckets: TrendBucket[] = [];
  const indexOfDay = new Map<string, number>();
  const days = daysBetween(from, to);
  for (let i = 0; i <= days; i++) {
    const day = addDays(from, i);
    const isNewBucket = bucket === 'day' || i === 0 || weekStartOf(day) === day;
    if (isNewBucket) buckets.push({ start: day, end: day, sessions: 0, has_session: false, records: 0, attendance_rate: null, ...zeroCounts() });
    const b = buckets[buckets.length - 1]!;
    b.end = day;
    indexOfDay.set(day, buckets.length - 1);
  }
  for (const s of sessions) {
    const i = indexOfDay.get(localDateOf(s.started_at, timeZone));
    if (i === undefined) continue;
    const b = buckets[i]!;
    Object.assign(b, addCounts(b, s));
    b.sessions++;
    b.has_session = true;
    b.records += heldOf(s);
  }
  for (const b of buckets) b.attendance_rate = attendancePercentage(b);
  return buckets;
}

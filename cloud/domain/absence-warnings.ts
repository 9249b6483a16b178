/**
 * When a student is warned about their absences (docs/operations.md, "Absence warnings"), pure:
 * the period the figures cover, the absences in a row and which thresholds a student crossed.
 * The percentage is the analytics one (analytics.ts): late counts as attended, excused leaves the
 * denominator, and "below" is compared on whole numbers as the course minimum is.
 */
import { studentPercentages, type EnrolledStudent, type StatusCounts } from './analytics.js';
import { FIRST_DATE, LAST_DATE, monthDays } from './analytics-calendar.js';
import type { AbsenceWarningKind, AttendanceStatus } from '../store/schema.js';

export interface WarningPeriod {
  /** The course's term, or (a course without one) the current calendar month. */
  basis: 'term' | 'month';
  from: string;
  to: string;
}

export interface Thresholds {
  min_percent: number | null;
  max_consecutive: number | null;
}

export interface Crossing {
  student_id: string;
  kind: AbsenceWarningKind;
  /** The percentage, or the number of absences in a row. */
  value: number;
}

const withinCalendar = (date: string) => (date < FIRST_DATE ? FIRST_DATE : date > LAST_DATE ? LAST_DATE : date);

/** The local dates the warning figures cover: the course's term, else the month of `today`. */
export function warningPeriod(term: { starts_on: string; ends_on: string } | undefined, today: string): WarningPeriod {
  if (term) return { basis: 'term', from: withinCalendar(term.starts_on), to: withinCalendar(term.ends_on) };
  return { basis: 'month', ...monthDays(today.slice(0, 7))! };
}

/**
 * Absences in a row, counted back from the newest session: an excused session neither counts
 * nor breaks the run (it leaves the percentage's denominator too); present or late ends it.
 */
export function absencesInARow(newestFirst: readonly AttendanceStatus[]): number {
  let n = 0;
  for (const status of newestFirst) {
    if (status === 'excused') continue;
    if (status !== 'absent') break;
    n++;
  }
  return n;
}

/** Every threshold each enrolled student is past now. */
export function crossings(
  students: readonly EnrolledStudent[],
  counts: ReadonlyMap<string, StatusCounts>,
  statusesNewestFirst: ReadonlyMap<string, readonly AttendanceStatus[]>,
  t: Thresholds,
): Crossing[] {
  const out: Crossing[] = [];
  for (const row of studentPercentages(students, counts, t.min_percent ?? 0)) {
    // below_minimum is false while nothing counts (percentage null).
    if (t.min_percent !== null && row.below_minimum && row.percentage !== null) {
      out.push({ student_id: row.student_id, kind: 'percentage', value: row.percentage });
    }
    if (t.max_consecutive !== null) {
      const inARow = absencesInARow(statusesNewestFirst.get(row.student_id) ?? []);
      if (inARow >= t.max_consecutive) out.push({ student_id: row.student_id, kind: 'consecutive', value: inARow });
    }
  }
  return out;
}

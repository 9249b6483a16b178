/**
 * /api/v1/teacher/analytics: attendance percentage per student, the daily class report and the
 * trend series (docs/analytics.md has the exact definitions). Teachers see their own courses,
 * admins all. Each answers JSON, or CSV with `?format=csv` / `Accept: text/csv`.
 */
import { z } from 'zod';
import type { Context } from 'koa';
import { HttpError, badRequest } from '../errors.js';
import type { RouteTable } from '../route.js';
import type { AppDeps } from '../deps.js';
import { courseForTeacher } from '../ownership.js';
import { iso } from '../views.js';
import { id } from '../schemas.js';
import { sendCsv, toCsv, wantsCsv, type CsvColumn } from '../csv.js';
import { attendancePercentage, studentPercentages, trendSeries, type StudentPercentage, type TrendBucket } from '../../domain/analytics.js';
import { FIRST_DATE, LAST_DATE, addDays, daysBetween, isLocalDate, localDateOf, localDateRange, monthDays } from '../../domain/analytics-calendar.js';
import type { Course } from '../../store/schema.js';
import type { SessionReportRow } from '../../store/analytics.js';

const TEACHER = ['teacher', 'admin'] as const;
/** Longest trend range: a year, leap day included. */
export const MAX_TREND_DAYS = 366;
const DEFAULT_TREND_DAYS = 28;

const localDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine(isLocalDate, `is not a calendar date from ${FIRST_DATE} to ${LAST_DATE}`);
const month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month YYYY-MM')
  .refine((m) => monthDays(m) !== null, `is not a month from ${FIRST_DATE.slice(0, 7)} to ${LAST_DATE.slice(0, 7)}`);
const format = z.enum(['json', 'csv']).optional().describe('csv answers text/csv (also chosen by `Accept: text/csv`)');
const counts = { present: z.number().int(), late: z.number().int(), absent: z.number().int(), excused: z.number().int() };
const rate = z.number().nullable().describe('(present + late) / (present + late + absent) × 100, 2 decimals; null when nothing counts');
const courseRef = z.object({ id, code: z.string(), name: z.string() });

const percentageOut = z.object({
  course: courseRef, period: z.enum(['month', 'semester']), from: z.string(), to: z.string(), timezone: z.string(),
  min_attendance_percent: z.number(), sessions_held: z.number().int().describe('ended sessions of the course started in the period'),
  items: z.array(z.object({
    student_id: id, email: z.string(), full_name: z.string(), sessions_held: z.number().int().describe("sessions with this student's record"),
    ...counts, attended: z.number().int(), percentage: rate, below_minimum: z.boolean(),
  })),
});
const reportOut = z.object({
  date: z.string(), timezone: z.string(),
  items: z.array(z.object({
    session_id: id, course_id: id, course_code: z.string(), course_name: z.string(), room_id: id, room_name: z.string(),
    started_at: z.string(), ended_at: z.string(), enrolled: z.number().int(), ...counts, attendance_rate: rate,
    witnessed: z.number().int().describe("records with at least one window the room's gateway witnessed (proof of proximity)"),
  })),
});
const trendsOut = z.object({
  course: courseRef, from: z.string(), to: z.string(), bucket: z.enum(['day', 'week']), timezone: z.string(),
  items: z.array(z.object({
    start: z.string(), end: z.string(), sessions: z.number().int(), has_session: z.boolean(), records: z.number().int(), ...counts, attendance_rate: rate,
  })),
});

const percentageColumns: CsvColumn<StudentPercentage>[] = [
  ...(['student_id', 'email', 'full_name', 'sessions_held', 'present', 'late', 'absent', 'excused', 'attended', 'percentage', 'below_minimum'] as const)
    .map((k) => ({ header: k, value: (r: StudentPercentage) => r[k] })),
];
type ReportItem = z.infer<typeof reportOut>['items'][number];
const reportColumns: CsvColumn<ReportItem>[] = (
  ['session_id', 'course_code', 'course_name', 'room_name', 'started_at', 'ended_at', 'enrolled', 'present', 'late', 'absent', 'excused', 'attendance_rate', 'witnessed'] as const
).map((k) => ({ header: k, value: (r: ReportItem) => r[k] }));
const trendColumns: CsvColumn<TrendBucket>[] = (
  ['start', 'end', 'sessions', 'has_session', 'records', 'present', 'late', 'absent', 'excused', 'attendance_rate'] as const
).map((k) => ({ header: k, value: (r: TrendBucket) => r[k] }));

/** One ended session's counts as the reports answer them. */
const reportItemOf = (r: SessionReportRow): ReportItem => ({
  session_id: r.session_id, course_id: r.course_id, course_code: r.course_code, course_name: r.course_name, room_id: r.room_id, room_name: r.room_name,
  started_at: iso(r.started_at)!, ended_at: iso(r.ended_at)!, enrolled: r.enrolled,
  present: r.present, late: r.late, absent: r.absent, excused: r.excused, attendance_rate: attendancePercentage(r), witnessed: r.witnessed,
});
const courseRefOf = (c: Course) => ({ id: c.id, code: c.code, name: c.name });
const withinCalendar = (date: string) => (date < FIRST_DATE ? FIRST_DATE : date > LAST_DATE ? LAST_DATE : date);

/** Returns the JSON body, or answers CSV on ctx (then the route table leaves the body alone). */
function answer<T>(ctx: Context, fmt: 'json' | 'csv' | undefined, json: unknown, csv: { filename: string; columns: readonly CsvColumn<T>[]; rows: readonly T[] }): unknown {
  ctx.vary('Accept');
  if (!wantsCsv(ctx, fmt)) return json;
  sendCsv(ctx, csv.filename, toCsv(csv.columns, csv.rows));
  return undefined;
}

export function analyticsRoutes(routes: RouteTable, deps: AppDeps): void {
  const { store, clock } = deps;
  const tz = deps.settings.timezone;
  const today = () => localDateOf(clock(), tz);

  routes.add(
    {
      method: 'get', path: '/api/v1/teacher/analytics/attendance_percentage', tag: 'analytics', auth: TEACHER,
      summary: "Each enrolled student's attendance percentage for a month or the course's term",
      description: 'Counts ended sessions started in the period (local dates in the institution time zone). Late counts as attended; excused leaves the denominator; a student who never submitted is absent. `below_minimum` compares with the course minimum (default 75 %). period=month takes `month` (default: the current month); period=semester uses the course\'s term.',
      query: z.object({ course_id: id, period: z.enum(['month', 'semester']).default('month'), month: month.optional(), format })
        .refine((q) => q.period === 'month' || q.month === undefined, { message: 'month is only used with period=month', path: ['month'] }),
      response: percentageOut, responseMediaTypes: ['text/csv'],
      errors: [[400, 'validation_error'], [403, 'forbidden'], [404, 'not_found'], [422, 'no_term']],
    },
    async ({ user, query, ctx }) => {
      const course = await courseForTeacher(store, user, query.course_id);
      let days: { from: string; to: string };
      if (query.period === 'semester') {
        const term = course.term_id ? await store.courses.getTerm(course.term_id) : undefined;
        if (!term) throw new HttpError(422, 'no_term', 'the course has no term; ask for period=month');
        // A term is any ISO date pair; the calendar has no day outside FIRST_DATE … LAST_DATE to count.
        days = { from: withinCalendar(term.starts_on), to: withinCalendar(term.ends_on) };
      } else {
        days = monthDays(query.month ?? today().slice(0, 7))!;
      }
      const range = localDateRange(days.from, days.to, tz);
      const [students, byStudent, held] = await Promise.all([
        store.courses.enrolledStudents(course.id), store.analytics.studentStatusCounts(course.id, range), store.analytics.endedSessionCount(course.id, range),
      ]);
      const items = studentPercentages(students, byStudent, course.min_attendance_pct);
      return answer(ctx, query.format, {
        course: courseRefOf(course), period: query.period, ...days, timezone: tz, min_attendance_percent: course.min_attendance_pct, sessions_held: held, items,
      }, { filename: `attendance_${course.code}_${days.from}_${days.to}.csv`, columns: percentageColumns, rows: items });
    },
  );

  routes.add(
    {
      method: 'get', path: '/api/v1/teacher/analytics/daily_class_report', tag: 'analytics', auth: TEACHER,
      summary: 'Present / late / absent / excused per ended session on a local day',
      description: 'Sessions are listed on the local date they started (a class from 23:30 to 00:30 belongs to its first day). Without course_id: all my courses (admins: every course). `enrolled` is the number of attendance records, i.e. students enrolled when the session ended.',
      query: z.object({ date: localDate.optional().describe('local date, default today'), course_id: id.optional(), format }),
      response: reportOut, responseMediaTypes: ['text/csv'],
      errors: [[400, 'validation_error'], [403, 'forbidden'], [404, 'not_found']],
    },
    async ({ user, query, ctx }) => {
      const date = query.date ?? today();
      let courseIds: string[] | 'all';
      if (query.course_id) courseIds = [(await courseForTeacher(store, user, query.course_id)).id];
      else courseIds = user.role === 'admin' ? 'all' : await store.courses.idsTaughtBy(user.id);
      const rows = await store.analytics.sessionStatusCounts(courseIds, localDateRange(date, date, tz));
      const items = rows.map(reportItemOf);
      return answer(ctx, query.format, { date, timezone: tz, items }, { filename: `daily_report_${date}.csv`, columns: reportColumns, rows: items });
    },
  );

  routes.add(
    {
      method: 'get', path: '/api/v1/teacher/analytics/session_counts', tag: 'analytics', auth: TEACHER,
      summary: "Present / late / absent / excused per ended session of one course, oldest first",
      description: "Like the daily class report, over a range of local dates (default: the course's term, or every date when it has none).",
      query: z.object({ course_id: id, from: localDate.optional(), to: localDate.optional(), format }),
      response: reportOut.omit({ date: true }).extend({ course: courseRef, from: z.string(), to: z.string() }), responseMediaTypes: ['text/csv'],
      errors: [[400, 'validation_error'], [400, 'invalid_range'], [403, 'forbidden'], [404, 'not_found']],
    },
    async ({ user, query, ctx }) => {
      const course = await courseForTeacher(store, user, query.course_id);
      const term = course.term_id ? await store.courses.getTerm(course.term_id) : undefined;
      const from = query.from ?? (term ? withinCalendar(term.starts_on) : FIRST_DATE);
      const to = query.to ?? (term ? withinCalendar(term.ends_on) : LAST_DATE);
      if (from > to) throw badRequest('invalid_range', 'from must not be after to', { from, to });
      const rows = await store.analytics.sessionStatusCounts([course.id], localDateRange(from, to, tz));
      const items = rows.map(reportItemOf);
      return answer(ctx, query.format, { course: courseRefOf(course), from, to, timezone: tz, items }, {
        filename: `sessions_${course.code}_${from}_${to}.csv`, columns: reportColumns, rows: items,
      });
    },
  );

  routes.add(
    {
      method: 'get', path: '/api/v1/teacher/analytics/attendance_trends', tag: 'analytics', auth: TEACHER,
      summary: 'A zero-filled attendance series for a chart',
      description: `Every day (bucket=day) or ISO week from Monday (bucket=week, clipped to the range) between from and to inclusive is present; buckets without a session have has_session=false and attendance_rate=null. Default range: the ${DEFAULT_TREND_DAYS} days ending today. At most ${MAX_TREND_DAYS} days.`,
      query: z.object({ course_id: id, from: localDate.optional(), to: localDate.optional(), bucket: z.enum(['day', 'week']).default('day'), format }),
      response: trendsOut, responseMediaTypes: ['text/csv'],
      errors: [[400, 'validation_error'], [400, 'invalid_range'], [400, 'range_too_long'], [403, 'forbidden'], [404, 'not_found']],
    },
    async ({ user, query, ctx }) => {
      const to = query.to ?? (query.from ? addDays(query.from, DEFAULT_TREND_DAYS - 1) : today());
      const from = query.from ?? addDays(to, -(DEFAULT_TREND_DAYS - 1));
      // A default end or start can fall off the calendar (from=9999-12-31 alone).
      if (!isLocalDate(from) || !isLocalDate(to)) throw badRequest('invalid_range', `the range must lie within ${FIRST_DATE} … ${LAST_DATE}`, { from, to });
      const span = daysBetween(from, to) + 1;
      if (span < 1) throw badRequest('invalid_range', 'from must not be after to', { from, to });
      if (span > MAX_TREND_DAYS) throw badRequest('range_too_long', `the range spans ${span} days; at most ${MAX_TREND_DAYS} are allowed`, { from, to });
      const course = await courseForTeacher(store, user, query.course_id);
      const sessions = await store.analytics.sessionStatusCounts([course.id], localDateRange(from, to, tz));
      const items = trendSeries(sessions, from, to, query.bucket, tz);
      return answer(ctx, query.format, { course: courseRefOf(course), from, to, bucket: query.bucket, timezone: tz, items }, {
        filename: `trends_${course.code}_${from}_${to}.csv`, columns: trendColumns, rows: items,
      });
    },
  );
}

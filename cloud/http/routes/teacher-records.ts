/**
 * /api/v1/teacher: the records behind the console's past sessions and student pages — the
 * overrides of one session with who set them, and one student's history across a course.
 */
import { z } from 'zod';
import { notFound } from '../errors.js';
import type { RouteTable } from '../route.js';
import type { AppDeps } from '../deps.js';
import type { Principal } from '../../auth/jwt.js';
import type { Repositories } from '../../store/repositories.js';
import type { AttendanceOverride } from '../../store/attendance.js';
import type { Course } from '../../store/schema.js';
import { computeAttendance } from '../../store/attendance.js';
import { attendancePercentage, isBelowMinimum, zeroCounts } from '../../domain/analytics.js';
import { sessionForTeacher } from '../ownership.js';
import { iso } from '../views.js';
import { id } from '../schemas.js';

const TEACHER = ['teacher', 'admin'] as const;
/** More sessions than a course holds in a term (a class every weekday for a year is 260). */
const MAX_SESSIONS = 1000;
const status = z.enum(['present', 'late', 'absent', 'excused']);
const decided = z.enum(['present', 'late', 'absent']);
const overrideOut = z.object({
  status, reason: z.string(), at: z.string().nullable(),
  by: z.object({ id: z.string(), full_name: z.string().nullable().describe('null when the account no longer exists') }),
});
const historyOut = z.object({
  course: z.object({ id, code: z.string(), name: z.string() }),
  student: z.object({ id, email: z.string(), full_name: z.string() }),
  timezone: z.string(), min_attendance_percent: z.number(),
  present: z.number().int(), late: z.number().int(), absent: z.number().int(), excused: z.number().int(),
  percentage: z.number().nullable().describe('(present + late) / (present + late + absent) × 100 over these sessions, 2 decimals; null when nothing counts'),
  below_minimum: z.boolean(),
  items: z.array(z.object({
    session_id: id, started_at: z.string(), ended_at: z.string().nullable(),
    status: status.nullable().describe('null: no record (the student was not enrolled when the session ended)'),
    decided_status: decided.nullable().describe('what the attendance rules decided, before any override'),
    presence: z.number().nullable(), witnessed_windows: z.number().int().nullable(), verified: z.boolean().nullable(),
    reasons: z.array(z.string()), override: overrideOut.nullable(),
  })),
});

/** The course, if it is the user's (admins: any); otherwise 404, which does not tell whether it exists. */
async function ownCourse(store: Repositories, user: Principal, courseId: string): Promise<Course> {
  const course = await store.courses.get(courseId);
  if (!course || (user.role !== 'admin' && course.teacher_id !== user.id)) throw notFound('course');
  return course;
}

/** Overrides with the name of the account that set each (looked up once per account). */
async function withNames(store: Repositories, overrides: Array<AttendanceOverride | null>) {
  const ids = [...new Set(overrides.filter((o) => o !== null).map((o) => o.by))];
  const names = new Map(await Promise.all(ids.map(async (uid) => [uid, (await store.accounts.get(uid))?.full_name ?? null] as const)));
  return (o: AttendanceOverride | null) => (o ? { status: o.status, reason: o.reason, at: iso(o.at), by: { id: o.by, full_name: names.get(o.by) ?? null } } : null);
}

export function teacherRecordRoutes(routes: RouteTable, deps: AppDeps): void {
  const { store, clock, verifiedLookup } = deps;

  routes.add(
    {
      method: 'get', path: '/api/v1/teacher/session/:id/overrides', tag: 'teacher', auth: TEACHER, summary: "A session's overrides with who set them",
      description: 'Each student whose status a teacher or admin set by hand: the status the rules decided, the one set, the reason, when and by whom (id and name).',
      params: z.object({ id }),
      response: z.object({ items: z.array(z.object({ student_id: id, full_name: z.string(), decided_status: decided, override: overrideOut })) }),
      errors: [[403, 'forbidden'], [404, 'not_found']],
    },
    async ({ user, params }) => {
      const { session, course } = await sessionForTeacher(store, user, params.id);
      const overridden = (await computeAttendance(store, session, course, clock(), verifiedLookup)).filter((e) => e.override);
      const view = await withNames(store, overridden.map((e) => e.override));
      return { items: overridden.map((e) => ({ student_id: e.student_id, full_name: e.full_name, decided_status: e.decided_status, override: view(e.override)! })) };
    },
  );

  routes.add(
    {
      method: 'get', path: '/api/v1/teacher/courses/:id/students/:student_id/history', tag: 'teacher', auth: TEACHER,
      summary: "One student's record in every ended session of my course",
      description: 'Newest first: status (the override, if any), what the rules decided and why, and the override with who set it. The totals count like the attendance percentage (late attends, excused leaves the denominator). A course that is not yours and a student not enrolled in it both answer 404.',
      params: z.object({ id, student_id: id }), response: historyOut, errors: [[404, 'not_found']],
    },
    async ({ user, params }) => {
      const course = await ownCourse(store, user, params.id);
      const student = await store.accounts.get(params.student_id);
      if (!student || !(await store.courses.isEnrolled(course.id, student.id))) throw notFound('student');
      const [sessions, records] = await Promise.all([
        store.sessions.ofCourse(course.id, MAX_SESSIONS), store.attendance.ofStudent(student.id, { courseId: course.id, limit: MAX_SESSIONS }),
      ]);
      const bySession = new Map(records.map((r) => [r.session_id, r]));
      const view = await withNames(store, records.map((r) => r.override));
      const counts = zeroCounts();
      for (const r of records) counts[r.status]++;
      return {
        course: { id: course.id, code: course.code, name: course.name },
        student: { id: student.id, email: student.email, full_name: student.full_name },
        timezone: deps.settings.timezone, min_attendance_percent: course.min_attendance_pct,
        ...counts, percentage: attendancePercentage(counts), below_minimum: isBelowMinimum(counts, course.min_attendance_pct),
        items: sessions.filter((s) => s.state === 'ended').map((s) => {
          const r = bySession.get(s.id);
          return {
            session_id: s.id, started_at: iso(s.started_at)!, ended_at: iso(s.ended_at),
            status: r?.status ?? null, decided_status: r?.decided_status ?? null, presence: r ? Math.round(r.presence * 10_000) / 10_000 : null,
            witnessed_windows: r?.witnessed_windows ?? null, verified: r?.verified ?? null, reasons: r?.reasons ?? [], override: r ? view(r.override) : null,
          };
        }),
      };
    },
  );
}

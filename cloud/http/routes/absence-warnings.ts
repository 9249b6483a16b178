/**
 * /api/v1/teacher/courses/:id/absence-warnings: a course's absence-warning thresholds and the
 * students the warning job has warned (docs/operations.md, "Absence warnings"). The course's
 * teacher and admins read and set them; another teacher's course answers 404, as a missing one.
 */
import { z } from 'zod';
import type { Principal } from '../../auth/jwt.js';
import type { RouteTable } from '../route.js';
import type { AppDeps } from '../deps.js';
import { notFound } from '../errors.js';
import { id, idParams } from '../schemas.js';
import { iso } from '../views.js';
import { warningPeriod } from '../../domain/absence-warnings.js';
import { localDateOf } from '../../domain/analytics-calendar.js';
import type { Repositories } from '../../store/repositories.js';
import type { Course } from '../../store/schema.js';

const TEACHER = ['teacher', 'admin'] as const;
export const MAX_PERCENT = 100;
export const MAX_CONSECUTIVE = 50;

const thresholds = z.object({
  min_percent: z.number().int().min(1).max(MAX_PERCENT).nullable()
    .describe('warn when the attendance percentage in the period falls below this; null: off'),
  max_consecutive: z.number().int().min(1).max(MAX_CONSECUTIVE).nullable()
    .describe('warn after this many absences in a row (excused sessions are skipped); null: off'),
}).strict();

const warningsOut = z.object({
  course: z.object({ id, code: z.string(), name: z.string() }),
  ...thresholds.shape,
  updated_at: z.string().nullable().describe('when the thresholds were last set; null: never'),
  period: z.object({ basis: z.enum(['term', 'month']), from: z.string(), to: z.string() }).describe("the local dates the figures cover: the course's term, else the current month"),
  timezone: z.string(),
  warned: z.array(z.object({
    student_id: id, email: z.string(), full_name: z.string(),
    kind: z.enum(['percentage', 'consecutive']),
    value: z.number().describe('the percentage, or the absences in a row, when the crossing was found'),
    crossed_at: z.string(),
    student_mailed_at: z.string().nullable().describe('when the mail server accepted the mail to the student; null: not yet (retried on the next run)'),
    teacher_mailed_at: z.string().nullable().describe("when the mail server accepted the teacher's digest naming it"),
  })),
});

/** The course, if `user` teaches it or is an admin; otherwise 404, so other courses are not revealed. */
async function ownCourse(repos: Pick<Repositories, 'courses'>, user: Principal, courseId: string): Promise<Course> {
  const course = await repos.courses.get(courseId);
  if (!course || (user.role !== 'admin' && course.teacher_id !== user.id)) throw notFound('course');
  return course;
}

export function absenceWarningRoutes(routes: RouteTable, deps: AppDeps): void {
  const { store, clock } = deps;
  const tz = deps.settings.timezone;

  async function view(course: Course): Promise<z.infer<typeof warningsOut>> {
    const [settings, warned, term] = await Promise.all([
      store.absenceWarnings.getSettings(course.id),
      store.absenceWarnings.warned(course.id),
      course.term_id ? store.courses.getTerm(course.term_id) : Promise.resolve(undefined),
    ]);
    return {
      course: { id: course.id, code: course.code, name: course.name },
      min_percent: settings?.min_percent ?? null,
      max_consecutive: settings?.max_consecutive ?? null,
      updated_at: iso(settings?.updated_at ?? null),
      period: warningPeriod(term, localDateOf(clock(), tz)),
      timezone: tz,
      warned: warned.map((w) => ({
        student_id: w.student_id, email: w.email, full_name: w.full_name, kind: w.kind, value: w.value,
        crossed_at: iso(w.crossed_at)!, student_mailed_at: iso(w.student_mailed_at), teacher_mailed_at: iso(w.teacher_mailed_at),
      })),
    };
  }

  routes.add(
    {
      method: 'get', path: '/api/v1/teacher/courses/:id/absence-warnings', tag: 'absence-warnings', auth: TEACHER,
      summary: "A course's absence-warning thresholds and the students currently warned",
      params: idParams, response: warningsOut,
      errors: [[400, 'validation_error'], [404, 'not_found']],
    },
    async ({ user, params }) => view(await ownCourse(store, user, params.id)),
  );

  routes.add(
    {
      method: 'put', path: '/api/v1/teacher/courses/:id/absence-warnings', tag: 'absence-warnings', auth: TEACHER,
      summary: "Set a course's absence-warning thresholds (audited)",
      description: 'The warning job (hourly by default) mails each student who newly crosses a threshold once, and the teacher one digest per course and run. A rule set to null is off; its current warnings are cleared on the next run.',
      params: idParams, body: thresholds, response: warningsOut,
      errors: [[400, 'validation_error'], [404, 'not_found'], [415, 'unsupported_media_type']],
    },
    async ({ user, params, body }) => {
      const course = await ownCourse(store, user, params.id);
      const now = clock();
      await store.transaction(async (tx) => {
        await tx.absenceWarnings.putSettings(course.id, body, user.id, now);
        await tx.audit.record({ at: now, actorId: user.id, action: 'course.absence_warnings', target: course.id, details: body });
      });
      return view(course);
    },
  );
}

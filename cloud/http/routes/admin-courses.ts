/** /api/v1/admin/courses: courses, their policy and enrolments (JSON ids or a CSV roster). */
import { z } from 'zod';
import { uuidv7 } from '../../../shared/ids.js';
import { badRequest, conflict, notFound } from '../errors.js';
import type { RouteTable } from '../route.js';
import type { AppDeps } from '../deps.js';
import { CourseCodeTakenError, policyColumns, policyOf } from '../../store/courses.js';
import type { Course } from '../../store/schema.js';
import { DEFAULT_POLICY, mergePolicy, policyIn, policyOut, policyView } from '../course-policy.js';
import { displayText, id, idParams } from '../schemas.js';
import { parseRoster } from '../roster.js';

const ADMIN = ['admin'] as const;

const courseIn = z.object({
  code: z.string().trim().min(1).max(32),
  name: displayText(200),
  teacher_id: id,
  term_id: id.nullable().optional(),
  policy: policyIn.optional(),
});

export const courseOut = z.object({ id, code: z.string(), name: z.string(), teacher_id: id, term_id: id.nullable(), policy: policyOut, created_at: z.number().int() });

export function courseView(c: Course): z.infer<typeof courseOut> {
  return { id: c.id, code: c.code, name: c.name, teacher_id: c.teacher_id, term_id: c.term_id, policy: policyView(policyOf(c)), created_at: c.created_at };
}

const enrollIn = z.union([z.object({ student_ids: z.array(id).min(1).max(5000) }), z.string().max(1_000_000)]);
const rejection = z.object({ row: z.number().int(), value: z.string(), code: z.string(), message: z.string() });
const acceptance = z.object({ row: z.number().int(), value: z.string(), student_id: id, outcome: z.enum(['enrolled', 'already_enrolled']) });
const enrollOut = z.object({
  enrolled: z.number().int(),
  already_enrolled: z.number().int(),
  accepted: z.array(acceptance).describe('the rows (or student_ids) that name an enrolled student: newly, or enrolled before'),
  rejected: z.array(rejection),
});

export function adminCourseRoutes(routes: RouteTable, deps: AppDeps): void {
  const { store, clock } = deps;

  async function mustGetCourse(courseId: string): Promise<Course> {
    const c = await store.courses.get(courseId);
    if (!c) throw notFound('course');
    return c;
  }

  routes.add(
    {
      method: 'post', path: '/api/v1/admin/courses', tag: 'admin', auth: ADMIN, status: 201, summary: 'Create a course',
      body: courseIn, response: courseOut, errors: [[409, 'course_exists'], [422, 'not_a_teacher'], [422, 'unknown_term']],
    },
    async ({ body, user }) => {
      const teacher = await store.accounts.get(body.teacher_id);
      if (!teacher || teacher.role !== 'teacher') throw badRequest('not_a_teacher', 'teacher_id must name a teacher account');
      if (body.term_id && !(await store.courses.getTerm(body.term_id))) throw badRequest('unknown_term', 'term_id names no term');
      const row: Course = {
        id: uuidv7(clock()), code: body.code, name: body.name, teacher_id: body.teacher_id, term_id: body.term_id ?? null,
        ...policyColumns(mergePolicy(DEFAULT_POLICY, body.policy)), created_at: clock(), sourced_id: null,
      };
      try {
        await store.courses.create(row);
      } catch (e) {
        if (e instanceof CourseCodeTakenError) throw conflict('course_exists', 'a course with this code exists');
        throw e;
      }
      await store.audit.record({ at: clock(), actorId: user.id, action: 'course.create', target: row.id });
      return courseView(row);
    },
  );

  routes.add(
    { method: 'get', path: '/api/v1/admin/courses', tag: 'admin', auth: ADMIN, summary: 'List courses', response: z.object({ items: z.array(courseOut) }) },
    async () => ({ items: (await store.courses.list()).map(courseView) }),
  );

  routes.add(
    { method: 'get', path: '/api/v1/admin/courses/:id', tag: 'admin', auth: ADMIN, summary: 'Read a course', params: idParams, response: courseOut, errors: [[404, 'not_found']] },
    async ({ params }) => courseView(await mustGetCourse(params.id)),
  );

  routes.add(
    {
      method: 'put', path: '/api/v1/admin/courses/:id/policy', tag: 'admin', auth: ADMIN, summary: "Change a course's attendance policy",
      description: 'Fields left out keep their value. Applies to sessions decided from now on; ended sessions keep their recorded decision.',
      params: idParams, body: policyIn, response: courseOut, errors: [[404, 'not_found']],
    },
    async ({ params, body, user }) => {
      const course = await mustGetCourse(params.id);
      const merged = mergePolicy(policyOf(course), body);
      await store.courses.setPolicy(course.id, merged);
      await store.audit.record({ at: clock(), actorId: user.id, action: 'course.policy', target: course.id, details: body });
      deps.events.emit('course.policy_changed', { course_id: course.id });
      return courseView({ ...course, ...policyColumns(merged) });
    },
  );

  routes.add(
    {
      method: 'post', path: '/api/v1/admin/courses/:id/enrollments', tag: 'admin', auth: ADMIN, summary: 'Enrol students',
      description: 'JSON `{student_ids: [...]}`, or a `text/csv` roster with one e-mail per row (an optional `email` header row is skipped). Every row is reported: `accepted` names the student each enrolled row found (`enrolled`, or `already_enrolled`), `rejected` gives the reason of every other row. A self-registered student whose address is not confirmed yet is reported (`email_unverified`) and takes no seat until they confirm it.',
      params: idParams, body: enrollIn, bodyMediaTypes: ['text/csv'], response: enrollOut, errors: [[404, 'not_found']],
    },
    async ({ params, body, user }) => {
      const course = await mustGetCourse(params.id);
      const rejected: Array<z.infer<typeof rejection>> = [];
      const accepted: Array<z.infer<typeof acceptance>> = [];
      let candidates: Array<{ row: number; value: string; studentId?: string; email?: string }>;
      if (typeof body === 'string') {
        const roster = parseRoster(body);
        rejected.push(...roster.rejected);
        candidates = roster.emails.map((e) => ({ row: e.row, value: e.email, email: e.email }));
      } else {
        candidates = body.student_ids.map((s, i) => ({ row: i + 1, value: s, studentId: s }));
      }
      const emails = candidates.flatMap((c) => (c.email ? [c.email] : []));
      const ids = candidates.flatMap((c) => (c.studentId ? [c.studentId] : []));
      const users = await store.accounts.identify(emails, ids);
      const byKey = new Map(users.flatMap((u) => [[u.email, u], [u.id, u]] as const));
      const existing = await store.courses.enrolledIds(course.id);
      let enrolled = 0;
      let already = 0;
      const now = clock();
      await store.transaction(async (tx) => {
        for (const c of candidates) {
          const u = byKey.get(c.email ?? c.studentId ?? '');
          if (!u) {
            rejected.push({ row: c.row, value: c.value, code: 'unknown_user', message: 'no account with this identifier' });
          } else if (u.role !== 'student') {
            rejected.push({ row: c.row, value: c.value, code: 'not_a_student', message: `account is a ${u.role}` });
          } else if (u.email_verified_at === null) {
            // Until its owner proves the address, anyone could be behind it.
            rejected.push({ row: c.row, value: c.value, code: 'email_unverified', message: 'the account holder has not confirmed this address yet' });
          } else if (existing.has(u.id)) {
            already++;
            accepted.push({ row: c.row, value: c.value, student_id: u.id, outcome: 'already_enrolled' });
          } else {
            await tx.courses.enroll(course.id, u.id, now);
            existing.add(u.id);
            enrolled++;
            accepted.push({ row: c.row, value: c.value, student_id: u.id, outcome: 'enrolled' });
          }
        }
        await tx.audit.record({ at: now, actorId: user.id, action: 'course.enroll', target: course.id, details: { enrolled, rejected: rejected.length } });
      });
      deps.events.emit('enrollment.changed', { course_id: course.id });
      rejected.sort((a, b) => a.row - b.row);
      return { enrolled, already_enrolled: already, accepted, rejected };
    },
  );

  routes.add(
    {
      method: 'get', path: '/api/v1/admin/courses/:id/enrollments', tag: 'admin', auth: ADMIN, summary: 'List enrolled students', params: idParams,
      response: z.object({ items: z.array(z.object({ id, email: z.string(), full_name: z.string() })) }), errors: [[404, 'not_found']],
    },
    async ({ params }) => {
      const course = await mustGetCourse(params.id);
      return { items: await store.courses.enrolledStudents(course.id, 'email') };
    },
  );

  routes.add(
    {
      method: 'delete', path: '/api/v1/admin/courses/:id/enrollments/:student_id', tag: 'admin', auth: ADMIN, status: 204, summary: 'Remove a student from a course',
      params: z.object({ id, student_id: id }), errors: [[404, 'not_found']],
    },
    async ({ params, user }) => {
      const removed = await store.transaction(async (tx) => {
        if (!(await tx.courses.unenroll(params.id, params.student_id))) return false;
        await tx.audit.record({ at: clock(), actorId: user.id, action: 'course.unenroll', target: params.id, details: { student_id: params.student_id } });
        return true;
      });
      if (!removed) throw notFound('enrolment');
      deps.events.emit('enrollment.changed', { course_id: params.id });
      return null;
    },
  );
}

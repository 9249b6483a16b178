/** Teachers act on their own courses only; admins on all. One place decides it. */
import type { Kysely } from 'kysely';
import type { Principal } from '../auth/jwt.js';
import type { Course, Database, Session } from '../store/schema.js';
import { getCourse } from '../store/courses.js';
import { getSession } from '../store/sessions.js';
import { forbidden, notFound } from './errors.js';

export function assertOwnsCourse(user: Principal, course: Course): void {
  if (user.role !== 'admin' && course.teacher_id !== user.id) throw forbidden('this course belongs to another teacher');
}

export async function courseForTeacher(db: Kysely<Database>, user: Principal, courseId: string): Promise<Course> {
  const course = await getCourse(db, courseId);
  if (!course) throw notFound('course');
  assertOwnsCourse(user, course);
  return course;
}

export async function sessionForTeacher(db: Kysely<Database>, user: Principal, sessionId: string): Promise<{ session: Session; course: Course }> {
  const session = await getSession(db, sessionId);
  if (!session) throw notFound('session');
  const course = await getCourse(db, session.course_id);
  if (!course) throw notFound('course');
  assertOwnsCourse(user, course);
  return { session, course };
}

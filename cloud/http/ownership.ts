/** Teachers act on their own courses only; admins on all. One place decides it. */
import type { Principal } from '../auth/jwt.js';
import type { Repositories } from '../store/repositories.js';
import type { Course, Session } from '../store/schema.js';
import { forbidden, notFound } from './errors.js';

export function assertOwnsCourse(user: Principal, course: Course): void {
  if (user.role !== 'admin' && course.teacher_id !== user.id) throw forbidden('this course belongs to another teacher');
}

export async function courseForTeacher(repos: Pick<Repositories, 'courses'>, user: Principal, courseId: string): Promise<Course> {
  const course = await repos.courses.get(courseId);
  if (!course) throw notFound('course');
  assertOwnsCourse(user, course);
  return course;
}

export async function sessionForTeacher(repos: Pick<Repositories, 'courses' | 'sessions'>, user: Principal, sessionId: string): Promise<{ session: Session; course: Course }> {
  const session = await repos.sessions.get(sessionId);
  if (!session) throw notFound('session');
  const course = await repos.courses.get(session.course_id);
  if (!course) throw notFound('course');
  assertOwnsCourse(user, course);
  return { session, course };
}

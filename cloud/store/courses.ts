/** Courses with their attendance policy, the terms they run in, and their enrolments. */
import type { CoursePolicy } from '../domain/policy.js';
import { isUniqueViolation } from './errors.js';
import type { Queryable } from './repositories.js';
import type { Course, TermsTable, User } from './schema.js';

export type Term = TermsTable;
export type EnrolledStudent = Pick<User, 'id' | 'email' | 'full_name'>;

export class CourseCodeTakenError extends Error {}
export class TermNameTakenError extends Error {}

export function policyOf(c: Pick<Course, 'min_presence' | 'late_after_s' | 'require_biometric' | 'require_device_bound' | 'min_attendance_pct' | 'grace_s' | 'require_proximity'>): CoursePolicy {
  return {
    minPresence: c.min_presence,
    lateAfterS: c.late_after_s,
    requireBiometric: c.require_biometric === 1,
    requireDeviceBound: c.require_device_bound === 1,
    minAttendancePct: c.min_attendance_pct,
    graceS: c.grace_s,
    requireProximity: c.require_proximity === null ? null : c.require_proximity === 1,
  };
}

export function policyColumns(p: CoursePolicy) {
  return {
    min_presence: p.minPresence,
    late_after_s: p.lateAfterS,
    require_biometric: p.requireBiometric ? 1 : 0,
    require_device_bound: p.requireDeviceBound ? 1 : 0,
    min_attendance_pct: p.minAttendancePct,
    grace_s: p.graceS,
    require_proximity: p.requireProximity === null ? null : p.requireProximity ? 1 : 0,
  };
}

export class CourseRepository {
  constructor(private readonly db: Queryable) {}

  get(id: string): Promise<Course | undefined> {
    return this.db.selectFrom('courses').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Courses in code order: all of them, or those one teacher teaches. */
  list(opts: { teacherId?: string } = {}): Promise<Course[]> {
    let q = this.db.selectFrom('courses').selectAll().orderBy('code');
    if (opts.teacherId !== undefined) q = q.where('teacher_id', '=', opts.teacherId);
    return q.execute();
  }

  /** Ids of the courses a teacher teaches (the courses_teacher index). */
  async idsTaughtBy(teacherId: string): Promise<string[]> {
    return (await this.db.selectFrom('courses').select('id').where('teacher_id', '=', teacherId).execute()).map((r) => r.id);
  }

  /** Inserts a course; throws CourseCodeTakenError when its code is in use. */
  async create(row: Course): Promise<void> {
    if (await this.db.selectFrom('courses').select('id').where('code', '=', row.code).executeTakeFirst()) throw new CourseCodeTakenError(row.code);
    try {
      await this.db.insertInto('courses').values(row).execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw new CourseCodeTakenError(row.code);
      throw e;
    }
  }

  async setPolicy(courseId: string, policy: CoursePolicy): Promise<void> {
    await this.db.updateTable('courses').set(policyColumns(policy)).where('id', '=', courseId).execute();
  }

  getTerm(id: string): Promise<Term | undefined> {
    return this.db.selectFrom('terms').selectAll().where('id', '=', id).executeTakeFirst();
  }

  listTerms(): Promise<Term[]> {
    return this.db.selectFrom('terms').selectAll().orderBy('starts_on').execute();
  }

  /** Inserts a term; throws TermNameTakenError when its name is in use. */
  async createTerm(row: Omit<Term, 'sourced_id'>): Promise<void> {
    try {
      await this.db.insertInto('terms').values(row).execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw new TermNameTakenError(row.name);
      throw e;
    }
  }

  async isEnrolled(courseId: string, studentId: string): Promise<boolean> {
    const row = await this.db.selectFrom('enrollments').select('student_id').where('course_id', '=', courseId).where('student_id', '=', studentId).executeTakeFirst();
    return row !== undefined;
  }

  /** Ids of the students enrolled in the course: one query for a whole class. */
  async enrolledIds(courseId: string): Promise<Set<string>> {
    const rows = await this.db.selectFrom('enrollments').select('student_id').where('course_id', '=', courseId).execute();
    return new Set(rows.map((r) => r.student_id));
  }

  /** The enrolled students, by name (attendance lists) or by e-mail (the admin's roster). */
  enrolledStudents(courseId: string, order: 'name' | 'email' = 'name'): Promise<EnrolledStudent[]> {
    const q = this.db
      .selectFrom('enrollments')
      .innerJoin('users', 'users.id', 'enrollments.student_id')
      .select(['users.id', 'users.email', 'users.full_name'])
      .where('enrollments.course_id', '=', courseId);
    return (order === 'name' ? q.orderBy('users.full_name').orderBy('users.id') : q.orderBy('users.email')).execute();
  }

  async enroll(courseId: string, studentId: string, now: number): Promise<void> {
    await this.db.insertInto('enrollments').values({ course_id: courseId, student_id: studentId, created_at: now }).execute();
  }

  /** Removes an enrolment; false when there was none. */
  async unenroll(courseId: string, studentId: string): Promise<boolean> {
    const res = await this.db.deleteFrom('enrollments').where('course_id', '=', courseId).where('student_id', '=', studentId).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }
}

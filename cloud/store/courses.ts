/** Courses and enrolment lookups shared by the admin, teacher and student routes. */
import type { Kysely } from 'kysely';
import type { CoursePolicy } from '../domain/policy.js';
import type { Course, Database } from './schema.js';

export function policyOf(c: Pick<Course, 'min_presence' | 'late_after_s' | 'require_biometric' | 'require_device_bound' | 'min_attendance_pct' | 'grace_s'>): CoursePolicy {
  return {
    minPresence: c.min_presence,
    lateAfterS: c.late_after_s,
    requireBiometric: c.require_biometric === 1,
    requireDeviceBound: c.require_device_bound === 1,
    minAttendancePct: c.min_attendance_pct,
    graceS: c.grace_s,
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
  };
}

export function getCourse(db: Kysely<Database>, id: string): Promise<Course | undefined> {
  return db.selectFrom('courses').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function isEnrolled(db: Kysely<Database>, courseId: string, studentId: string): Promise<boolean> {
  const row = await db.selectFrom('enrollments').select('student_id').where('course_id', '=', courseId).where('student_id', '=', studentId).executeTakeFirst();
  return row !== undefined;
}

export function enrolledStudents(db: Kysely<Database>, courseId: string) {
  return db
    .selectFrom('enrollments')
    .innerJoin('users', 'users.id', 'enrollments.student_id')
    .select(['users.id', 'users.email', 'users.full_name'])
    .where('enrollments.course_id', '=', courseId)
    .orderBy('users.full_name')
    .orderBy('users.id')
    .execute();
}

/**
 * What a OneRoster import reads and writes (cloud/roster/oneroster/): the rows it may match, read
 * in a few queries, and its changes written in batches, so a faculty of ten thousand accounts is
 * a few hundred statements, not one per row. Run inside `store.transaction`.
 */
import { sql } from 'kysely';
import type { Queryable } from './repositories.js';
import type { Course, TermsTable, User } from './schema.js';

export type RosterAccount = Pick<User, 'id' | 'email' | 'full_name' | 'role' | 'deactivated_at' | 'email_verified_at' | 'sourced_id'>;
export type RosterCourse = Pick<Course, 'id' | 'code' | 'name' | 'teacher_id' | 'term_id' | 'sourced_id'>;
export interface RosterEnrollment {
  course_id: string;
  student_id: string;
  sourced_id: string | null;
}

export interface RosterSnapshot {
  accounts: RosterAccount[];
  terms: TermsTable[];
  courses: RosterCourse[];
  /** The enrolments of imported courses. */
  enrollments: RosterEnrollment[];
}

export interface RosterWrites {
  newAccounts: User[];
  /** Changed fields by account id; `revoke` raises the token version (role or deactivation changed). */
  accountUpdates: Array<{ id: string; set: Partial<Pick<User, 'email' | 'full_name' | 'role' | 'deactivated_at' | 'email_verified_at' | 'sourced_id'>>; revoke: boolean }>;
  newTerms: TermsTable[];
  termUpdates: TermsTable[];
  newCourses: Course[];
  courseUpdates: Array<Pick<Course, 'id' | 'code' | 'name' | 'teacher_id' | 'term_id' | 'sourced_id'>>;
  newEnrollments: Array<RosterEnrollment & { created_at: number }>;
  /** An enrolment made in the cloud that the roster now names: it takes the roster's sourcedId. */
  adoptedEnrollments: RosterEnrollment[];
  removedEnrollments: Array<Pick<RosterEnrollment, 'course_id' | 'student_id'>>;
}

/** Rows per insert statement: far below SQLite's and PostgreSQL's bound-parameter limits. */
const BATCH = 500;

function* chunks<T>(items: readonly T[], size = BATCH): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

const ACCOUNT_COLUMNS = ['id', 'email', 'full_name', 'role', 'deactivated_at', 'email_verified_at', 'sourced_id'] as const;

export class OneRosterRepository {
  constructor(private readonly db: Queryable) {}

  /** The accounts with a sourcedId or one of `emails`, every term and course, and the imported courses' enrolments. */
  async snapshot(emails: readonly string[]): Promise<RosterSnapshot> {
    const accounts = new Map<string, RosterAccount>();
    for (const a of await this.db.selectFrom('users').select(ACCOUNT_COLUMNS).where('sourced_id', 'is not', null).execute()) accounts.set(a.id, a);
    for (const part of chunks(emails)) {
      for (const a of await this.db.selectFrom('users').select(ACCOUNT_COLUMNS).where('email', 'in', part).execute()) accounts.set(a.id, a);
    }
    return {
      accounts: [...accounts.values()],
      terms: await this.db.selectFrom('terms').selectAll().execute(),
      courses: await this.db.selectFrom('courses').select(['id', 'code', 'name', 'teacher_id', 'term_id', 'sourced_id']).execute(),
      enrollments: await this.db
        .selectFrom('enrollments')
        .innerJoin('courses', 'courses.id', 'enrollments.course_id')
        .select(['enrollments.course_id', 'enrollments.student_id', 'enrollments.sourced_id'])
        .where('courses.sourced_id', 'is not', null)
        .execute(),
    };
  }

  async write(w: RosterWrites): Promise<void> {
    for (const part of chunks(w.newAccounts)) await this.db.insertInto('users').values(part).execute();
    for (const u of w.accountUpdates) {
      await this.db.updateTable('users').set({ ...u.set, ...(u.revoke ? { token_version: sql<number>`token_version + 1` } : {}) }).where('id', '=', u.id).execute();
    }
    for (const part of chunks(w.newTerms)) await this.db.insertInto('terms').values(part).execute();
    for (const t of w.termUpdates) await this.db.updateTable('terms').set({ name: t.name, starts_on: t.starts_on, ends_on: t.ends_on }).where('id', '=', t.id).execute();
    for (const part of chunks(w.newCourses)) await this.db.insertInto('courses').values(part).execute();
    for (const c of w.courseUpdates) {
      await this.db.updateTable('courses').set({ code: c.code, name: c.name, teacher_id: c.teacher_id, term_id: c.term_id, sourced_id: c.sourced_id }).where('id', '=', c.id).execute();
    }
    for (const e of w.removedEnrollments) await this.db.deleteFrom('enrollments').where('course_id', '=', e.course_id).where('student_id', '=', e.student_id).execute();
    for (const e of w.adoptedEnrollments) await this.db.updateTable('enrollments').set({ sourced_id: e.sourced_id }).where('course_id', '=', e.course_id).where('student_id', '=', e.student_id).execute();
    for (const part of chunks(w.newEnrollments)) await this.db.insertInto('enrollments').values(part).execute();
  }

  async hasActiveAdmin(): Promise<boolean> {
    return (await this.db.selectFrom('users').select('id').where('role', '=', 'admin').where('deactivated_at', 'is', null).limit(1).executeTakeFirst()) !== undefined;
  }
}

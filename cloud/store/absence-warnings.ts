/**
 * Absence warnings (docs/operations.md, "Absence warnings"): a course's thresholds, the
 * crossings the warning job recorded and the effective statuses it reads the absences in a row
 * from. The attendance percentages themselves come from the analytics queries (analytics.ts).
 */
import { sql } from 'kysely';
import type { TimeRange } from './analytics.js';
import type { Queryable } from './repositories.js';
import type { AbsenceWarning, AbsenceWarningKind, AbsenceWarningSettings, AttendanceStatus, User } from './schema.js';

export interface AbsenceThresholds {
  min_percent: number | null;
  max_consecutive: number | null;
}

export type WarningKey = Pick<AbsenceWarning, 'student_id' | 'kind'>;

/** A crossing with the student's name and address, for the teacher's page and the mails. */
export interface WarnedStudent extends AbsenceWarning {
  email: string;
  full_name: string;
}

/** One student's effective status in one ended session. */
export interface StatusInSession {
  student_id: string;
  started_at: number;
  status: AttendanceStatus;
}

const keyOf = (k: WarningKey) => `${k.student_id}\u0000${k.kind}`;

export class AbsenceWarningRepository {
  constructor(private readonly db: Queryable) {}

  getSettings(courseId: string): Promise<AbsenceWarningSettings | undefined> {
    return this.db.selectFrom('absence_warning_settings').selectAll().where('course_id', '=', courseId).executeTakeFirst();
  }

  /** Every course's thresholds, including those with both rules off (their crossings are cleared). */
  listSettings(): Promise<AbsenceWarningSettings[]> {
    return this.db.selectFrom('absence_warning_settings').selectAll().orderBy('course_id').execute();
  }

  async putSettings(courseId: string, t: AbsenceThresholds, by: string, now: number): Promise<AbsenceWarningSettings> {
    const row = { course_id: courseId, min_percent: t.min_percent, max_consecutive: t.max_consecutive, updated_at: now, updated_by: by };
    await this.db
      .insertInto('absence_warning_settings')
      .values(row)
      .onConflict((oc) => oc.column('course_id').doUpdateSet({ min_percent: t.min_percent, max_consecutive: t.max_consecutive, updated_at: now, updated_by: by }))
      .execute();
    return row;
  }

  /** The course's current crossings with the students' names, by name. */
  warned(courseId: string): Promise<WarnedStudent[]> {
    return this.db
      .selectFrom('absence_warnings')
      .innerJoin('users', 'users.id', 'absence_warnings.student_id')
      .selectAll('absence_warnings')
      .select(['users.email', 'users.full_name'])
      .where('absence_warnings.course_id', '=', courseId)
      .orderBy('users.full_name')
      .orderBy('absence_warnings.student_id')
      .orderBy('absence_warnings.kind')
      .execute();
  }

  /**
   * Makes the course's recorded crossings the given ones: records those not yet recorded (at
   * `now`, with their value) and deletes those no longer crossed. Answers how many of each.
   */
  async reconcile(courseId: string, current: ReadonlyArray<WarningKey & { value: number }>, now: number): Promise<{ added: number; cleared: number }> {
    const existing = await this.db.selectFrom('absence_warnings').select(['student_id', 'kind']).where('course_id', '=', courseId).execute();
    const known = new Set(existing.map(keyOf));
    const wanted = new Set(current.map(keyOf));
    const gone = existing.filter((k) => !wanted.has(keyOf(k)));
    for (const k of gone) {
      await this.db.deleteFrom('absence_warnings').where('course_id', '=', courseId).where('student_id', '=', k.student_id).where('kind', '=', k.kind).execute();
    }
    const fresh = current.filter((k) => !known.has(keyOf(k)));
    if (fresh.length) {
      await this.db
        .insertInto('absence_warnings')
        .values(fresh.map((k) => ({ course_id: courseId, student_id: k.student_id, kind: k.kind, value: k.value, crossed_at: now, student_mailed_at: null, teacher_mailed_at: null })))
        .onConflict((oc) => oc.columns(['course_id', 'student_id', 'kind']).doNothing())
        .execute();
    }
    return { added: fresh.length, cleared: gone.length };
  }

  async markStudentMailed(courseId: string, studentId: string, kinds: readonly AbsenceWarningKind[], at: number): Promise<void> {
    if (!kinds.length) return;
    await this.db.updateTable('absence_warnings').set({ student_mailed_at: at })
      .where('course_id', '=', courseId).where('student_id', '=', studentId).where('kind', 'in', kinds).where('student_mailed_at', 'is', null).execute();
  }

  async markTeacherMailed(courseId: string, keys: readonly WarningKey[], at: number): Promise<void> {
    for (const k of keys) {
      await this.db.updateTable('absence_warnings').set({ teacher_mailed_at: at })
        .where('course_id', '=', courseId).where('student_id', '=', k.student_id).where('kind', '=', k.kind).where('teacher_mailed_at', 'is', null).execute();
    }
  }

  /**
   * The effective status (the override if any, else the decision) of every record in the
   * course's ended sessions started in the range, newest session first.
   */
  async statusesNewestFirst(courseId: string, range: TimeRange): Promise<StatusInSession[]> {
    const rows = await this.db
      .selectFrom('sessions')
      .innerJoin('attendance', 'attendance.session_id', 'sessions.id')
      .select(['attendance.student_id', 'sessions.started_at', sql<AttendanceStatus>`coalesce(attendance.override_status, attendance.status)`.as('status')])
      .where('sessions.course_id', '=', courseId)
      .where('sessions.started_at', '>=', range.startMs)
      .where('sessions.started_at', '<', range.endMs)
      .where('sessions.state', '=', 'ended')
      .orderBy('sessions.started_at', 'desc')
      .orderBy('sessions.id', 'desc')
      .execute();
    return rows.map((r) => ({ student_id: r.student_id, started_at: Number(r.started_at), status: r.status }));
  }

  /** Who of `ids` may be mailed: accounts neither deactivated nor erased. */
  async mailable(ids: readonly string[]): Promise<Map<string, Pick<User, 'id' | 'email' | 'full_name'>>> {
    if (!ids.length) return new Map();
    const rows = await this.db
      .selectFrom('users')
      .leftJoin('account_erasures', 'account_erasures.user_id', 'users.id')
      .select(['users.id', 'users.email', 'users.full_name'])
      .where('users.id', 'in', ids)
      .where('users.deactivated_at', 'is', null)
      .where('account_erasures.user_id', 'is', null)
      .execute();
    return new Map(rows.map((r) => [r.id, r]));
  }
}

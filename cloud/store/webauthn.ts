/**
 * WebAuthn: enrolled credentials, single-use challenges (only their SHA-256 is stored) and the
 * verification verdicts. The ceremonies themselves live in cloud/webauthn/; nothing stored here
 * is biometric (docs/privacy.md).
 */
import { isUniqueViolation } from './errors.js';
import type { Queryable } from './repositories.js';
import type { CredentialStatus, StoredChallenge, StoredCredential, User, Verification } from './schema.js';

/** Another row already holds this authenticator credential ID (the unique index). */
export class CredentialTakenError extends Error {}

/** A credential with its student, as staff see it. */
export type CredentialWithStudent = StoredCredential & Pick<User, 'email' | 'full_name'>;

export class WebAuthnRepository {
  constructor(private readonly db: Queryable) {}

  // Challenges

  async insertChallenge(row: StoredChallenge): Promise<void> {
    await this.db.insertInto('webauthn_challenges').values(row).execute();
  }

  /** Unused, unexpired challenges the student holds. */
  async openChallengeCount(studentId: string, now: number): Promise<number> {
    const open = await this.db.selectFrom('webauthn_challenges').select((eb) => eb.fn.countAll<number>().as('n'))
      .where('student_id', '=', studentId).where('used_at', 'is', null).where('expires_at', '>', now).executeTakeFirstOrThrow();
    return Number(open.n);
  }

  challengeByHash(challengeHash: string): Promise<StoredChallenge | undefined> {
    return this.db.selectFrom('webauthn_challenges').selectAll().where('challenge_hash', '=', challengeHash).executeTakeFirst();
  }

  /** Marks a challenge used; of two concurrent calls for one challenge exactly one gets true. */
  async markChallengeUsed(id: string, now: number): Promise<boolean> {
    const res = await this.db.updateTable('webauthn_challenges').set({ used_at: now }).where('id', '=', id).where('used_at', 'is', null).executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  // Credentials

  credentialByCredentialId(credentialId: string): Promise<StoredCredential | undefined> {
    return this.db.selectFrom('webauthn_credentials').selectAll().where('credential_id', '=', credentialId).executeTakeFirst();
  }

  credentialById(id: string): Promise<StoredCredential | undefined> {
    return this.db.selectFrom('webauthn_credentials').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** A student's credentials, oldest first, optionally only those in the given states. */
  credentialsOfStudent(studentId: string, statuses?: CredentialStatus[]): Promise<StoredCredential[]> {
    let q = this.db.selectFrom('webauthn_credentials').selectAll().where('student_id', '=', studentId).orderBy('created_at');
    if (statuses) q = q.where('status', 'in', statuses);
    return q.execute();
  }

  async hasCredential(studentId: string): Promise<boolean> {
    return (await this.db.selectFrom('webauthn_credentials').select('id').where('student_id', '=', studentId).limit(1).executeTakeFirst()) !== undefined;
  }

  /**
   * Credential IDs (with transports) of the student's own devices and of every classmate
   * (students sharing a course) that are not revoked, newest first, at most `limit`.
   */
  async credentialIdsOfStudentAndClassmates(studentId: string, limit: number): Promise<Array<{ id: string; transports: string }>> {
    const courses = this.db.selectFrom('enrollments').select('course_id').where('student_id', '=', studentId);
    const classmates = this.db.selectFrom('enrollments').select('student_id').where('course_id', 'in', courses);
    const rows = await this.db
      .selectFrom('webauthn_credentials')
      .select(['credential_id', 'transports'])
      .where((eb) => eb.or([eb('student_id', '=', studentId), eb('student_id', 'in', classmates)]))
      .where('status', '!=', 'revoked')
      .orderBy('created_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ id: r.credential_id, transports: r.transports }));
  }

  /** Stores a new credential; throws CredentialTakenError when its credential ID is enrolled already. */
  async insertCredential(row: StoredCredential): Promise<void> {
    try {
      await this.db.insertInto('webauthn_credentials').values(row).execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw new CredentialTakenError(row.credential_id);
      throw e;
    }
  }

  /**
   * Stores the new signature counter only if it moved forward; both zero (an authenticator that
   * does not count) is accepted. False when another request raced ahead with an equal or higher one.
   */
  async advanceCounter(cred: StoredCredential, counter: number, backedUp: boolean, now: number): Promise<boolean> {
    let q = this.db.updateTable('webauthn_credentials').set({ counter, backed_up: backedUp ? 1 : 0, last_used_at: now }).where('id', '=', cred.id);
    q = counter === 0 && cred.counter === 0 ? q : q.where('counter', '<', counter);
    const res = await q.executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async decideCredential(id: string, status: Exclude<CredentialStatus, 'pending'>, by: string, now: number): Promise<void> {
    await this.db.updateTable('webauthn_credentials').set({ status, decided_by: by, decided_at: now }).where('id', '=', id).execute();
  }

  /** Students enrolled in one of the teacher's courses (a subquery). */
  private studentsTaughtBy(teacherId: string) {
    return this.db.selectFrom('enrollments').innerJoin('courses', 'courses.id', 'enrollments.course_id').select('enrollments.student_id').where('courses.teacher_id', '=', teacherId);
  }

  /** Whether the student is enrolled in one of the teacher's courses (whose devices the teacher may decide on). */
  async isStudentTaughtBy(studentId: string, teacherId: string): Promise<boolean> {
    return (await this.studentsTaughtBy(teacherId).where('enrollments.student_id', '=', studentId).executeTakeFirst()) !== undefined;
  }

  /** Credentials in one state with their students, oldest first; `taughtBy` keeps a teacher's students only. */
  credentialsForStaff(opts: { status: CredentialStatus; studentId?: string; taughtBy?: string; limit: number }): Promise<CredentialWithStudent[]> {
    let q = this.db.selectFrom('webauthn_credentials').innerJoin('users', 'users.id', 'webauthn_credentials.student_id')
      .selectAll('webauthn_credentials').select(['users.email', 'users.full_name'])
      .where('webauthn_credentials.status', '=', opts.status).orderBy('webauthn_credentials.created_at').limit(opts.limit);
    if (opts.studentId) q = q.where('webauthn_credentials.student_id', '=', opts.studentId);
    if (opts.taughtBy !== undefined) q = q.where('webauthn_credentials.student_id', 'in', this.studentsTaughtBy(opts.taughtBy));
    return q.execute();
  }

  // Verifications

  async insertVerification(row: Verification): Promise<void> {
    await this.db.insertInto('verifications').values(row).execute();
  }

  /** Students with a user-verified verification for the session between `from` and `to` (inclusive). */
  async verifiedStudents(sessionId: string, from: number, to: number): Promise<Set<string>> {
    const rows = await this.db
      .selectFrom('verifications')
      .select('student_id')
      .distinct()
      .where('session_id', '=', sessionId)
      .where('at', '>=', from)
      .where('at', '<=', to)
      .where('uv', '=', 1)
      .execute();
    return new Set(rows.map((r) => r.student_id));
  }

  // Retention (cloud/jobs/retention.ts)

  /**
   * In one transaction: deletes the accepted token submissions and the verifications of sessions
   * that ended before `endedBefore`, and every challenge expired at `now`. The submissions are a
   * core table; their delete sits here so the purge stays one unit of work (it belongs with the
   * submission repository once that has a purge of its own).
   */
  /** Deletes the verification records of sessions that ended before `endedBefore`; returns how many. */
  async purgeVerificationsEndedBefore(endedBefore: number): Promise<number> {
    const oldSessions = this.db.selectFrom('sessions').select('id').where('state', '=', 'ended').where('ended_at', '<', endedBefore);
    const res = await this.db.deleteFrom('verifications').where('session_id', 'in', oldSessions).executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  /** Deletes expired challenges: one can no longer be answered, so nothing is lost. */
  async purgeExpiredChallenges(now: number): Promise<number> {
    const res = await this.db.deleteFrom('webauthn_challenges').where('expires_at', '<=', now).executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}

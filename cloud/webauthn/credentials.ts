/**
 * Enrolled credentials. One credential belongs to one student (unique credential_id); a student's
 * first credential is active at once, every later one waits for a teacher's or an admin's
 * approval, so a friend's phone cannot quietly be added to an account that already has a device.
 */
import type { WebAuthnDb, StoredCredential, CredentialStatus } from './tables.js';

export function credentialByCredentialId(db: WebAuthnDb, credentialId: string): Promise<StoredCredential | undefined> {
  return db.selectFrom('webauthn_credentials').selectAll().where('credential_id', '=', credentialId).executeTakeFirst();
}

export function credentialById(db: WebAuthnDb, id: string): Promise<StoredCredential | undefined> {
  return db.selectFrom('webauthn_credentials').selectAll().where('id', '=', id).executeTakeFirst();
}

export function credentialsOfStudent(db: WebAuthnDb, studentId: string, statuses?: CredentialStatus[]): Promise<StoredCredential[]> {
  let q = db.selectFrom('webauthn_credentials').selectAll().where('student_id', '=', studentId).orderBy('created_at');
  if (statuses) q = q.where('status', 'in', statuses);
  return q.execute();
}

/** Status of a new credential: active if the student never had one, else pending approval. */
export async function statusForNewCredential(db: WebAuthnDb, studentId: string): Promise<CredentialStatus> {
  const any = await db.selectFrom('webauthn_credentials').select('id').where('student_id', '=', studentId).limit(1).executeTakeFirst();
  return any ? 'pending' : 'active';
}

/** The most credential IDs we put into excludeCredentials (clients batch long lists; keep it sane). */
export const MAX_EXCLUDED = 1000;

/**
 * Credential IDs of the student's own devices and of every classmate (students sharing a course),
 * newest first. Sent as excludeCredentials (L2 §5.4 excludeCredentials, §6.3.2 step 3): an
 * authenticator that already holds one of them refuses to create another credential for this RP,
 * so a phone enrolled for one student cannot also be enrolled for a classmate.
 */
export async function credentialsToExclude(db: WebAuthnDb, studentId: string): Promise<Array<{ id: string; transports: string }>> {
  const courses = db.selectFrom('enrollments').select('course_id').where('student_id', '=', studentId);
  const classmates = db.selectFrom('enrollments').select('student_id').where('course_id', 'in', courses);
  const rows = await db
    .selectFrom('webauthn_credentials')
    .select(['credential_id', 'transports'])
    .where((eb) => eb.or([eb('student_id', '=', studentId), eb('student_id', 'in', classmates)]))
    .where('status', '!=', 'revoked')
    .orderBy('created_at', 'desc')
    .limit(MAX_EXCLUDED)
    .execute();
  return rows.map((r) => ({ id: r.credential_id, transports: r.transports }));
}

/**
 * Stores the new signature counter only if it moved forward (L2 §7.2 step 21, §6.1.1). Both zero
 * means the authenticator does not count (e.g. synced passkeys), which the spec allows.
 * Returns false when another request raced ahead with an equal or higher counter.
 */
export async function advanceCounter(db: WebAuthnDb, cred: StoredCredential, counter: number, backedUp: boolean, now: number): Promise<boolean> {
  let q = db.updateTable('webauthn_credentials').set({ counter, backed_up: backedUp ? 1 : 0, last_used_at: now }).where('id', '=', cred.id);
  q = counter === 0 && cred.counter === 0 ? q : q.where('counter', '<', counter);
  const res = await q.executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export async function decideCredential(db: WebAuthnDb, id: string, status: Exclude<CredentialStatus, 'pending'>, by: string, now: number): Promise<void> {
  await db.updateTable('webauthn_credentials').set({ status, decided_by: by, decided_at: now }).where('id', '=', id).execute();
}

export function transportsOf(c: Pick<StoredCredential, 'transports'>): string[] {
  return c.transports ? c.transports.split(',') : [];
}

/**
 * Enrolled credentials. One credential belongs to one student (unique credential_id); a student's
 * first credential is active at once, every later one waits for a teacher's or an admin's
 * approval, so a friend's phone cannot quietly be added to an account that already has a device.
 */
import type { CredentialStatus, StoredCredential } from '../store/schema.js';
import type { WebAuthnRepository } from '../store/webauthn.js';

/** Status of a new credential: active if the student never had one, else pending approval. */
export async function statusForNewCredential(webauthn: WebAuthnRepository, studentId: string): Promise<CredentialStatus> {
  return (await webauthn.hasCredential(studentId)) ? 'pending' : 'active';
}

/** The most credential IDs we put into excludeCredentials (clients batch long lists; keep it sane). */
export const MAX_EXCLUDED = 1000;

/**
 * Credential IDs of the student's own devices and of every classmate (students sharing a course),
 * newest first. Sent as excludeCredentials (L2 §5.4 excludeCredentials, §6.3.2 step 3): an
 * authenticator that already holds one of them refuses to create another credential for this RP,
 * so a phone enrolled for one student cannot also be enrolled for a classmate.
 */
export function credentialsToExclude(webauthn: WebAuthnRepository, studentId: string): Promise<Array<{ id: string; transports: string }>> {
  return webauthn.credentialIdsOfStudentAndClassmates(studentId, MAX_EXCLUDED);
}

export function transportsOf(c: Pick<StoredCredential, 'transports'>): string[] {
  return c.transports ? c.transports.split(',') : [];
}

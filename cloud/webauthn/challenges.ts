/**
 * Single-use, short-lived challenges (WebAuthn L2 §13.4.3: at least 16 random bytes, generated on
 * the server, never reused). A challenge is bound to a student and, for a verification, to one
 * session. Only its SHA-256 is stored; the client echoes the challenge back inside
 * clientDataJSON, which is how we find the row (L2 §7.1 step 8, §7.2 step 12).
 */
import { randomBytes } from 'node:crypto';
import { uuidv7 } from '../../shared/ids.js';
import { refuse } from './refusals.js';
import { sha256Hex } from './response-checks.js';
import type { StoredChallenge } from '../store/schema.js';
import type { WebAuthnRepository } from '../store/webauthn.js';

const CHALLENGE_BYTES = 32;
/** Unused, unexpired challenges one student may hold: an app needs one or two; rows cost space. */
export const MAX_OPEN_CHALLENGES = 10;

export interface ChallengeBinding {
  purpose: 'register' | 'verify';
  studentId: string;
  sessionId: string | null;
}

/** Issues a challenge; returns it base64url-encoded, as WebAuthn options carry it. */
export async function issueChallenge(webauthn: WebAuthnRepository, binding: ChallengeBinding, now: number, ttlS: number): Promise<string> {
  if ((await webauthn.openChallengeCount(binding.studentId, now)) >= MAX_OPEN_CHALLENGES) refuse('too_many_challenges');
  const challenge = randomBytes(CHALLENGE_BYTES).toString('base64url');
  await webauthn.insertChallenge({
    id: uuidv7(now), challenge_hash: sha256Hex(challenge), purpose: binding.purpose, student_id: binding.studentId,
    session_id: binding.sessionId, created_at: now, expires_at: now + ttlS * 1000, used_at: null,
  });
  return challenge;
}

/**
 * Finds the challenge the client signed, checks its binding and expiry, and marks it used — before
 * any signature is checked, so a failed attempt also burns it and cannot be retried with the same
 * challenge. A challenge bound to someone else is not consumed, so nobody can burn another
 * student's challenge.
 */
export async function consumeChallenge(webauthn: WebAuthnRepository, challenge: string, expected: ChallengeBinding, now: number): Promise<StoredChallenge> {
  const row = await webauthn.challengeByHash(sha256Hex(challenge));
  if (!row) refuse('challenge_unknown');
  if (row.purpose !== expected.purpose || row.student_id !== expected.studentId || row.session_id !== expected.sessionId) refuse('challenge_mismatch');
  if (row.used_at !== null) refuse('challenge_used');
  if (now >= row.expires_at) refuse('challenge_expired');
  // Conditional update: of two concurrent requests with the same challenge exactly one wins.
  if (!(await webauthn.markChallengeUsed(row.id, now))) refuse('challenge_used');
  return { ...row, used_at: now };
}

/**
 * Verifying a student at the end of a session: the assertion ceremony of WebAuthn L2 §7.2 over a
 * challenge bound to (student, session). A valid assertion proves "a key enrolled for this
 * student, on a device the owner just unlocked (UV), answered this session's challenge".
 */
import { generateAuthenticationOptions, verifyAuthenticationResponse, type AuthenticationResponseJSON, type PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { isoBase64URL } from '@simplewebauthn/server/helpers';
import { uuidv7 } from '../../shared/ids.js';
import { consumeChallenge, issueChallenge } from './challenges.js';
import { transportsOf } from './credentials.js';
import { refuse } from './refusals.js';
import { userHandleOf } from './registration.js';
import { assertionAuthData, checkAuthData, checkOrigin, decodeClientData } from './response-checks.js';
import type { WebAuthnSettings } from './settings.js';
import type { StoredCredential, Verification } from '../store/schema.js';
import type { WebAuthnRepository } from '../store/webauthn.js';

export async function verificationOptions(
  webauthn: WebAuthnRepository,
  settings: WebAuthnSettings,
  studentId: string,
  sessionId: string,
  credentials: StoredCredential[],
  now: number,
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const challenge = await issueChallenge(webauthn, { purpose: 'verify', studentId, sessionId }, now, settings.challengeTtlS);
  return generateAuthenticationOptions({
    rpID: settings.rpId,
    challenge: new Uint8Array(Buffer.from(challenge, 'base64url')),
    timeout: settings.challengeTtlS * 1000,
    // Only the student's active devices: the phone then offers exactly the right key.
    allowCredentials: credentials.map((c) => ({ id: c.credential_id, transports: transportsOf(c) })),
    userVerification: 'required',
  });
}

export interface VerificationRequest {
  studentId: string;
  sessionId: string;
  /** The course's require_device_bound policy. */
  requireDeviceBound: boolean;
}

/**
 * Checks an assertion and records the verdict. The checks run in an order that burns the challenge
 * first (every attempt costs a fresh challenge), then follow §7.2: origin (step 13), credential
 * ownership (steps 5–7), rpIdHash/UP/UV (15–17), our device-bound policy, the signature (20) and
 * the counter (21).
 */
export async function finishVerification(
  webauthn: WebAuthnRepository,
  settings: WebAuthnSettings,
  req: VerificationRequest,
  response: AuthenticationResponseJSON,
  now: number,
): Promise<{ verification: Verification; credential: StoredCredential }> {
  const client = decodeClientData(response.response.clientDataJSON, 'webauthn.get');
  await consumeChallenge(webauthn, client.challenge, { purpose: 'verify', studentId: req.studentId, sessionId: req.sessionId }, now);
  checkOrigin(client, settings);

  const cred = await webauthn.credentialByCredentialId(response.id);
  if (!cred) refuse('credential_unknown');
  if (cred.student_id !== req.studentId) refuse('credential_not_yours');
  // §7.2 step 6: a returned user handle must name the same account as the credential's owner.
  if (response.response.userHandle && response.response.userHandle !== isoBase64URL.fromBuffer(userHandleOf(req.studentId))) refuse('credential_not_yours');
  if (cred.status === 'pending') refuse('credential_pending');
  if (cred.status === 'revoked') refuse('credential_revoked');

  const { parsed: auth } = assertionAuthData(response.response.authenticatorData);
  checkAuthData(auth, settings);
  // BE can never change for a credential (L3 §6.1.3), but BS can: a device-bound key has BE=0.
  if (req.requireDeviceBound && (cred.backup_eligible === 1 || auth.flags.be || auth.flags.bs)) refuse('device_bound_required');

  let signatureOk = false;
  try {
    const result = await verifyAuthenticationResponse({
      response,
      expectedChallenge: client.challenge,
      expectedOrigin: settings.origins,
      expectedRPID: settings.rpId,
      requireUserVerification: true,
      // Counter 0 here: the library would refuse a regression before checking the signature; we
      // check the signature first and the counter after, as §7.2 orders them, to report which.
      credential: { id: cred.credential_id, publicKey: new Uint8Array(Buffer.from(cred.public_key, 'base64url')), counter: 0, transports: transportsOf(cred) },
    });
    signatureOk = result.verified;
  } catch {
    // A malformed key or signature is as unverifiable as a wrong one.
  }
  if (!signatureOk) refuse('signature_invalid');

  // §6.1.1: a counter that does not grow means two copies of the key may exist. Refuse and keep
  // the stored value; the route audits it so staff can revoke the device.
  if ((auth.counter > 0 || cred.counter > 0) && auth.counter <= cred.counter) refuse('counter_regression');
  if (!(await webauthn.advanceCounter(cred, auth.counter, auth.flags.bs, now))) refuse('counter_regression');

  const verification: Verification = {
    id: uuidv7(now), session_id: req.sessionId, student_id: req.studentId, credential_id: cred.id, at: now,
    uv: auth.flags.uv ? 1 : 0, backed_up: auth.flags.bs ? 1 : 0, counter: auth.counter,
  };
  await webauthn.insertVerification(verification);
  return { verification, credential: cred };
}

/**
 * Enrolling a device: the registration ceremony of WebAuthn L2 §7.1. The phone creates a key pair
 * whose private half never leaves it and is only usable after the owner's biometric (or PIN)
 * unlock; we keep the public key, the counter and the flags — nothing biometric. The app may send
 * the device's check-in key with it (docs/api.md, "Proof of proximity"): this ceremony, with its
 * user verification, is what authorizes that key for the device and the student.
 */
import { generateRegistrationOptions, verifyRegistrationResponse, type PublicKeyCredentialCreationOptionsJSON, type RegistrationResponseJSON, type Uint8Array_ } from '@simplewebauthn/server';
import { isoBase64URL } from '@simplewebauthn/server/helpers';
import { uuidv7 } from '../../shared/ids.js';
import { consumeChallenge, issueChallenge } from './challenges.js';
import { credentialsToExclude, statusForNewCredential } from './credentials.js';
import { refuse } from './refusals.js';
import { attestationAuthData, checkAuthData, checkOrigin, decodeClientData } from './response-checks.js';
import type { WebAuthnSettings } from './settings.js';
import type { StoredCredential } from '../store/schema.js';
import type { CheckinRepository } from '../store/checkins.js';
import { CredentialTakenError, type WebAuthnRepository } from '../store/webauthn.js';

/** ES256, EdDSA, RS256 (COSE ids, RFC 9053): what phone platform authenticators produce. */
export const SUPPORTED_ALGORITHMS = [-7, -8, -257];

export interface Student {
  id: string;
  email: string;
  full_name: string;
}

/**
 * The user handle (L2 §5.4.3 user.id) is the 16 bytes of the student's UUID: stable, so a phone
 * replaces rather than duplicates its credential for the same account, and free of personal data
 * as §14.6.1 asks.
 */
export function userHandleOf(studentId: string): Uint8Array_ {
  return new Uint8Array(Buffer.from(studentId.replace(/-/g, ''), 'hex'));
}

export async function registrationOptions(webauthn: WebAuthnRepository, settings: WebAuthnSettings, student: Student, now: number): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const challenge = await issueChallenge(webauthn, { purpose: 'register', studentId: student.id, sessionId: null }, now, settings.challengeTtlS);
  const excluded = await credentialsToExclude(webauthn, student.id);
  return generateRegistrationOptions({
    rpName: settings.rpName,
    rpID: settings.rpId,
    userName: student.email,
    userDisplayName: student.full_name,
    userID: userHandleOf(student.id),
    challenge: new Uint8Array(Buffer.from(challenge, 'base64url')),
    timeout: settings.challengeTtlS * 1000,
    // 'none': we do not trust attestation for anything (phones' passkey providers mostly send
    // none anyway, L2 §8.7), and asking for it would only add a consent prompt.
    attestationType: 'none',
    excludeCredentials: excluded.map((c) => ({ id: c.id, transports: c.transports ? c.transports.split(',') : [] })),
    authenticatorSelection: { authenticatorAttachment: 'platform', residentKey: 'preferred', userVerification: 'required' },
    supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
  });
}

export interface RegistrationResult {
  credential: StoredCredential;
}

/** A check-in key already parsed at the boundary (shared/checkin.ts parseCheckinKey). */
export interface CheckinKey {
  spki: Buffer;
  keyId: Buffer;
}

/**
 * Verifies the registration and stores the credential with its check-in key, if any. Throws a
 * WebAuthnRefusal, or CheckinKeyTakenError when another student's device holds the key.
 */
export async function finishRegistration(
  repos: { webauthn: WebAuthnRepository; checkins: CheckinRepository },
  settings: WebAuthnSettings,
  student: Student,
  response: RegistrationResponseJSON,
  device: { name: string | null; checkinKey: CheckinKey | null },
  now: number,
): Promise<RegistrationResult> {
  const { webauthn } = repos;
  const client = decodeClientData(response.response.clientDataJSON, 'webauthn.create');
  await consumeChallenge(webauthn, client.challenge, { purpose: 'register', studentId: student.id, sessionId: null }, now);
  checkOrigin(client, settings);
  const auth = attestationAuthData(response.response.attestationObject);
  checkAuthData(auth, settings);
  if (!auth.credentialID || !auth.credentialPublicKey || !auth.aaguid) refuse('response_malformed');
  const credentialId = isoBase64URL.fromBuffer(auth.credentialID);
  if (credentialId !== response.id) refuse('response_malformed');

  // L2 §7.1 step 22: a credential ID registered to another user must not be registered again.
  const existing = await webauthn.credentialByCredentialId(credentialId);
  if (existing) refuse(existing.student_id === student.id ? 'credential_exists' : 'credential_taken');

  let verified;
  try {
    verified = await verifyRegistrationResponse({
      response,
      expectedChallenge: client.challenge,
      expectedOrigin: settings.origins,
      expectedRPID: settings.rpId,
      requireUserVerification: true,
      supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
    });
  } catch {
    refuse('attestation_invalid');
  }
  if (!verified.verified) refuse('attestation_invalid');
  const info = verified.registrationInfo;

  const row: StoredCredential = {
    id: uuidv7(now),
    credential_id: credentialId,
    student_id: student.id,
    public_key: isoBase64URL.fromBuffer(info.credential.publicKey),
    counter: info.credential.counter,
    aaguid: info.aaguid,
    backup_eligible: auth.flags.be ? 1 : 0,
    backed_up: auth.flags.bs ? 1 : 0,
    transports: (response.response.transports ?? []).filter((t) => /^[a-z-]{1,20}$/.test(t)).slice(0, 8).join(','),
    device_name: device.name,
    status: await statusForNewCredential(webauthn, student.id),
    decided_by: null,
    decided_at: null,
    created_at: now,
    last_used_at: null,
    checkin_key: device.checkinKey ? device.checkinKey.spki.toString('base64url') : null,
    checkin_key_id: device.checkinKey ? device.checkinKey.keyId.toString('hex') : null,
  };
  try {
    await repos.checkins.enrolCredential(row);
  } catch (e) {
    // Two concurrent enrolments of one credential: the unique index lets only one in.
    if (e instanceof CredentialTakenError) refuse('credential_taken');
    throw e;
  }
  return { credential: row };
}

/**
 * Every way the server refuses an enrolment or a verification, each with its own code so an app
 * can tell the student what to do (retry, unlock with biometrics, ask the teacher…). Statuses:
 * 400 the request is wrong, 403 the proof is not accepted, 409/410 the challenge's state, 429 too
 * many challenges asked for.
 */

export const REFUSALS = {
  client_data_invalid: [400, 'clientDataJSON is not valid WebAuthn client data for this ceremony'],
  response_malformed: [400, 'the authenticator response cannot be decoded'],
  challenge_unknown: [400, 'the signed challenge was not issued by this server'],
  challenge_mismatch: [400, 'the challenge was issued for another student, session or ceremony'],
  challenge_used: [409, 'the challenge has already been used; request a new one'],
  challenge_expired: [410, 'the challenge has expired; request a new one'],
  origin_mismatch: [403, 'the response was created on an origin this server does not accept'],
  rp_id_mismatch: [403, 'the authenticator signed for another relying party ID'],
  user_presence_required: [403, 'the authenticator did not report user presence'],
  user_verification_required: [403, 'the authenticator did not verify the user (biometric or PIN unlock is required)'],
  credential_unknown: [403, 'this credential is not enrolled'],
  credential_not_yours: [403, 'this credential is enrolled for another student'],
  credential_pending: [403, 'this device is waiting for approval by a teacher or an administrator'],
  credential_revoked: [403, 'this device has been revoked'],
  device_bound_required: [403, 'this course requires a device-bound key; synced passkeys are not accepted'],
  counter_regression: [403, 'the signature counter went backwards: the key may have been cloned'],
  signature_invalid: [403, 'the signature does not verify with the enrolled public key'],
  attestation_invalid: [400, 'the registration response does not verify'],
  credential_exists: [409, 'this device is already enrolled for you'],
  credential_taken: [409, 'this credential is enrolled for another student'],
  too_many_challenges: [429, 'too many open challenges; use one of them or wait until they expire'],
} as const satisfies Record<string, readonly [number, string]>;

export type RefusalCode = keyof typeof REFUSALS;

export class WebAuthnRefusal extends Error {
  readonly status: number;
  constructor(readonly code: RefusalCode) {
    super(REFUSALS[code][1]);
    this.name = 'WebAuthnRefusal';
    this.status = REFUSALS[code][0];
  }
}

export function refuse(code: RefusalCode): never {
  throw new WebAuthnRefusal(code);
}

/** `[status, code]` pairs for a route's OpenAPI `errors`. */
export function refusalErrors(...codes: RefusalCode[]): Array<[number, string]> {
  return codes.map((c) => [REFUSALS[c][0], c]);
}

/**
 * Boundary schemas of the biometric routes: the JSON forms of WebAuthn credentials
 * (RegistrationResponseJSON / AuthenticationResponseJSON, WebAuthn L3 §5.1 toJSON()) as browsers
 * and the Android/iOS passkey APIs produce them, with size limits, and our answers.
 */
import { z } from 'zod';
import { id } from '../schemas.js';
import { iso } from '../views.js';
import type { StoredCredential } from '../../store/schema.js';

const b64url = (max: number) => z.string().min(1).max(max).regex(/^[A-Za-z0-9_-]+$/, 'must be base64url without padding');
// Credential IDs are at most 1023 bytes (L2 §5.8.3) → 1364 base64url characters.
const credentialId = b64url(1364);

/** The PublicKeyCredential envelope both ceremonies share; `response` is the ceremony's own part. */
const publicKeyCredential = <R extends z.ZodRawShape>(response: R) => z.object({
  id: credentialId,
  rawId: credentialId,
  type: z.literal('public-key'),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
  response: z.object(response),
});

export const registrationResponseIn = publicKeyCredential({
  clientDataJSON: b64url(4096),
  attestationObject: b64url(64 * 1024),
  transports: z.array(z.string().max(32)).max(8).optional(),
  authenticatorData: b64url(16 * 1024).optional(),
  publicKey: b64url(4096).optional(),
  publicKeyAlgorithm: z.number().int().optional(),
}).describe('The PublicKeyCredential from navigator.credentials.create(), as credential.toJSON()');

export const authenticationResponseIn = publicKeyCredential({
  clientDataJSON: b64url(4096),
  authenticatorData: b64url(16 * 1024),
  signature: b64url(1024),
  userHandle: b64url(128).optional(),
}).describe('The PublicKeyCredential from navigator.credentials.get(), as credential.toJSON()');

/** WebAuthn options JSON, passed to PublicKeyCredential.parse{Creation,Request}OptionsFromJSON(). */
const optionsJson = z.object({ challenge: z.string() }).loose();

export const registerOptionsOut = z.object({
  options: optionsJson.describe('PublicKeyCredentialCreationOptionsJSON for navigator.credentials.create({publicKey})'),
  expires_at: z.string().describe('the challenge inside is refused after this time'),
});

export const verifyOptionsOut = z.object({
  session_id: id,
  options: optionsJson.describe('PublicKeyCredentialRequestOptionsJSON for navigator.credentials.get({publicKey})'),
  expires_at: z.string(),
});

export const deviceOut = z.object({
  id: id.describe('our device id, used in approval URLs'),
  student_id: id,
  device_name: z.string().nullable(),
  status: z.enum(['active', 'pending', 'revoked']),
  aaguid: z.string().describe('authenticator model id as reported (often all zeros under "none" attestation)'),
  backup_eligible: z.boolean().describe('BE flag: the passkey may be synced to other devices'),
  backed_up: z.boolean().describe('BS flag as last seen'),
  created_at: z.string(),
  last_used_at: z.string().nullable(),
  decided_at: z.string().nullable(),
  checkin_key_id: z.string().nullable().describe('key_id (hex) of the check-in key enrolled with this device, null if none; the key itself is never returned'),
});

export const verifyOut = z.object({
  status: z.literal('verified'),
  session_id: id,
  verified_at: z.string(),
  counts: z.boolean().describe('for an ended session: whether this verification lies inside its window'),
  counts_if_session_ends_by: z.string().nullable().describe('for a live session: the verification counts if the session ends no later than this; else verify again closer to the end'),
});

export function deviceView(c: StoredCredential): z.infer<typeof deviceOut> {
  return {
    id: c.id, student_id: c.student_id, device_name: c.device_name, status: c.status, aaguid: c.aaguid,
    backup_eligible: c.backup_eligible === 1, backed_up: c.backed_up === 1,
    created_at: iso(c.created_at)!, last_used_at: iso(c.last_used_at), decided_at: iso(c.decided_at), checkin_key_id: c.checkin_key_id,
  };
}

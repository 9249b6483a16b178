/**
 * The relying party's checks on an authenticator response, done by us before the signature is
 * verified (by @simplewebauthn/server) so that each failure gets its own refusal code. The order
 * and meaning follow WebAuthn L2 §7.1 (registration) and §7.2 (assertion).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { decodeAttestationObject, isoBase64URL, parseAuthenticatorData, type ParsedAuthenticatorData } from '@simplewebauthn/server/helpers';
import type { Uint8Array_ } from '@simplewebauthn/server';
import { refuse } from './refusals.js';
import type { WebAuthnSettings } from './settings.js';

/** CollectedClientData (L2 §5.8.1): the fields the RP must check. */
const collectedClientData = z.object({
  type: z.string(),
  challenge: z.string().regex(/^[A-Za-z0-9_-]+$/),
  origin: z.string(),
  crossOrigin: z.boolean().optional(),
});
export type CollectedClientData = z.infer<typeof collectedClientData>;

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Decodes clientDataJSON and checks its type (L2 §7.1 steps 5–7, §7.2 steps 9–11). */
export function decodeClientData(clientDataJSON: string, type: 'webauthn.create' | 'webauthn.get'): CollectedClientData {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8'));
  } catch {
    refuse('client_data_invalid');
  }
  const r = collectedClientData.safeParse(parsed);
  if (!r.success || r.data.type !== type) refuse('client_data_invalid');
  // An embedded cross-origin iframe is not a way our apps call WebAuthn (L2 §5.8.1 crossOrigin).
  if (r.data.crossOrigin === true) refuse('origin_mismatch');
  return r.data;
}

/** The origin must be exactly one we serve (L2 §7.1 step 9, §7.2 step 13). */
export function checkOrigin(client: CollectedClientData, settings: WebAuthnSettings): void {
  if (!settings.origins.includes(client.origin)) refuse('origin_mismatch');
}

function safeParseAuthData(bytes: Uint8Array_): ParsedAuthenticatorData {
  try {
    return parseAuthenticatorData(bytes);
  } catch {
    refuse('response_malformed');
  }
}

/** Authenticator data of an assertion (L2 §6.1), from its base64url form. */
export function assertionAuthData(authenticatorData: string): { raw: Uint8Array_; parsed: ParsedAuthenticatorData } {
  if (!isoBase64URL.isBase64URL(authenticatorData)) refuse('response_malformed');
  const raw = isoBase64URL.toBuffer(authenticatorData);
  return { raw, parsed: safeParseAuthData(raw) };
}

/** Authenticator data inside an attestation object (L2 §6.5, CBOR map with fmt/attStmt/authData). */
export function attestationAuthData(attestationObject: string): ParsedAuthenticatorData {
  if (!isoBase64URL.isBase64URL(attestationObject)) refuse('response_malformed');
  let authData: Uint8Array_ | undefined;
  try {
    authData = decodeAttestationObject(isoBase64URL.toBuffer(attestationObject)).get('authData');
  } catch {
    refuse('response_malformed');
  }
  if (!authData) refuse('response_malformed');
  return safeParseAuthData(authData);
}

/**
 * rpIdHash must be SHA-256 of our RP ID (L2 §7.1 step 13, §7.2 step 15); UP must be set (§7.1
 * step 14, §7.2 step 16); UV must be set because the biometric unlock is the whole point
 * (§7.1 step 15, §7.2 step 17 with userVerification "required").
 */
export function checkAuthData(auth: ParsedAuthenticatorData, settings: WebAuthnSettings): void {
  const expected = createHash('sha256').update(settings.rpId).digest();
  if (!Buffer.from(auth.rpIdHash).equals(expected)) refuse('rp_id_mismatch');
  if (!auth.flags.up) refuse('user_presence_required');
  if (!auth.flags.uv) refuse('user_verification_required');
}

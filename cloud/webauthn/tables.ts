/**
 * Kysely types of the WebAuthn tables (migration 003_webauthn). Kept beside the feature and joined
 * onto the core `Database` with `withTables`, so the core schema file stays the core's.
 */
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database } from '../store/schema.js';

export type CredentialStatus = 'active' | 'pending' | 'revoked';

export interface WebAuthnCredentialsTable {
  /** Our own id (UUID), used in URLs; `credential_id` is the authenticator's (base64url). */
  id: string;
  credential_id: string;
  student_id: string;
  /** COSE_Key (WebAuthn L2 §6.5.1.1), base64url. A public key: no secret, no biometric. */
  public_key: string;
  counter: number;
  aaguid: string;
  /** BE flag at registration (L3 §6.1.3): 1 means the key may be synced to other devices. */
  backup_eligible: number;
  /** BS flag as last seen. */
  backed_up: number;
  /** Comma-separated AuthenticatorTransport hints, for allowCredentials. */
  transports: string;
  device_name: string | null;
  status: CredentialStatus;
  decided_by: string | null;
  decided_at: number | null;
  created_at: number;
  last_used_at: number | null;
}

export interface WebAuthnChallengesTable {
  id: string;
  challenge_hash: string;
  purpose: 'register' | 'verify';
  student_id: string;
  session_id: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface VerificationsTable {
  id: string;
  session_id: string;
  student_id: string;
  /** webauthn_credentials.id of the key that signed. */
  credential_id: string;
  at: number;
  uv: number;
  backed_up: number;
  counter: number;
}

// A type alias, not an interface: withTables() wants a plain record type.
export type WebAuthnTables = {
  webauthn_credentials: WebAuthnCredentialsTable;
  webauthn_challenges: WebAuthnChallengesTable;
  verifications: VerificationsTable;
};

export type WebAuthnDb = Kysely<Database & WebAuthnTables>;
export type StoredCredential = Selectable<WebAuthnCredentialsTable>;

/** The core handle (or a transaction of it) seen with the WebAuthn tables added. */
export function withWebAuthn(db: Kysely<Database> | Transaction<Database>): WebAuthnDb {
  return db.withTables<WebAuthnTables>();
}

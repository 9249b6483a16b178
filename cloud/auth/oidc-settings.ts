/**
 * Settings of sign-in through the institution's OpenID provider (docs/operations.md, "Sign-in
 * through the institution"), read from ATTENDANCE_OIDC_* in cloud/config.ts, and the role a
 * person gets from the provider's role claim.
 */
import type { Role } from '../store/schema.js';

export interface OidcSettings {
  /** The provider's issuer identifier; its discovery document is at `<issuer>/.well-known/openid-configuration`. */
  issuer: string;
  clientId: string;
  /** Null: a public client (PKCE only, no client authentication). */
  clientSecret: string | null;
  /** The sign-in button's label: "Sign in with <name>". */
  name: string;
  /** `<ATTENDANCE_PUBLIC_URL>/api/v1/auth/oidc/callback`, registered at the provider. */
  redirectUri: string;
  roleClaim: string;
  teacherValues: string[];
  adminValues: string[];
  /** Redirect URIs of native apps, which receive a one-time code to exchange for a token. */
  appRedirects: string[];
  /** A claim whose value is an imported account's `sourced_id`; null: link imported accounts by verified e-mail. */
  accountClaim: string | null;
}

/** The role the claim gives: admin if any value is an admin value, else teacher if any is a teacher value, else student. */
export function roleFromClaims(settings: OidcSettings, claims: Record<string, unknown>): Role {
  const raw = claims[settings.roleClaim];
  const values = (Array.isArray(raw) ? raw : raw === undefined || raw === null ? [] : [raw]).map(String);
  if (values.some((v) => settings.adminValues.includes(v))) return 'admin';
  if (values.some((v) => settings.teacherValues.includes(v))) return 'teacher';
  return 'student';
}

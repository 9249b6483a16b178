/**
 * Access tokens: HS256 JWTs signed with the instance's key (jose). Every token must carry issuer,
 * audience, subject, issued-at, expiry and the account's token version (`ver`); a token is
 * accepted only while that version is the account's current one and the account is active
 * (docs/api.md, "Access tokens").
 */
import { createSecretKey, type KeyObject } from 'node:crypto';
import { SignJWT, jwtVerify, errors } from 'jose';
import type { Role } from '../store/schema.js';
import type { AccountStandings } from './account-standings.js';

export const ISSUER = 'attendance-cloud';
export const AUDIENCE = 'attendance-api';

export interface Principal {
  id: string;
  role: Role;
}

/** Whom a token is for; `token_version` is the account's current one (0, a new account's, when left out). */
export interface TokenSubject extends Principal {
  token_version?: number;
}

export interface TokenService {
  issue(subject: TokenSubject): Promise<{ token: string; expiresIn: number }>;
  /** Returns the principal, or throws TokenError with a reason safe to show. */
  verify(token: string): Promise<Principal>;
}

export class TokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenError';
  }
}

const ROLES = new Set<Role>(['student', 'teacher', 'admin']);
/** jose checks iss and aud through the options; these must be present too, whatever their value. */
const REQUIRED_CLAIMS = ['sub', 'iat', 'exp', 'ver'];

/**
 * Verified tokens are remembered until they expire (bounded): a student's app sends the same token
 * with every submission, and re-checking its HMAC each time is most of the cost of a request. The
 * account's standing is checked on every use, hit or not (through its own short cache).
 */
const VERIFIED_CACHE_MAX = 10_000;

export function createTokenService(rawKey: Uint8Array, ttlS: number, standings: AccountStandings, now: () => number = Date.now): TokenService {
  const key: KeyObject = createSecretKey(rawKey);
  const verified = new Map<string, { principal: Principal; version: number; expMs: number }>();

  async function verifySignature(token: string) {
    const hit = verified.get(token);
    if (hit && hit.expMs > now()) return hit;
    try {
      const { payload } = await jwtVerify(token, key, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: AUDIENCE,
        requiredClaims: REQUIRED_CLAIMS,
        currentDate: new Date(now()),
      });
      const role = payload.role as Role;
      const version = payload.ver;
      if (typeof payload.sub !== 'string' || !ROLES.has(role)) throw new TokenError('token has no valid subject or role');
      if (!Number.isSafeInteger(version) || (version as number) < 0) throw new TokenError('token has no valid version');
      const entry = { principal: { id: payload.sub, role }, version: version as number, expMs: payload.exp! * 1000 };
      if (verified.size >= VERIFIED_CACHE_MAX) verified.clear();
      verified.set(token, entry);
      return entry;
    } catch (e) {
      if (e instanceof TokenError) throw e;
      if (e instanceof errors.JWTExpired) throw new TokenError('token expired');
      if (e instanceof errors.JWTClaimValidationFailed && e.reason === 'missing') throw new TokenError(`token has no ${e.claim} claim`);
      throw new TokenError('invalid token');
    }
  }

  return {
    async issue(subject) {
      const iat = Math.floor(now() / 1000);
      const token = await new SignJWT({ role: subject.role, ver: subject.token_version ?? 0 })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(subject.id)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt(iat)
        .setExpirationTime(iat + ttlS)
        .sign(key);
      return { token, expiresIn: ttlS };
    },
    async verify(token) {
      const { principal, version } = await verifySignature(token);
      const standing = await standings.of(principal.id);
      if (!standing || !standing.active || standing.tokenVersion !== version) throw new TokenError('token revoked');
      return principal;
    },
  };
}

/** Access tokens: HS256 JWTs signed with the instance's key (jose), with issuer, audience, expiry. */
import { createSecretKey, type KeyObject } from 'node:crypto';
import { SignJWT, jwtVerify, errors } from 'jose';
import type { Role } from '../store/schema.js';

export const ISSUER = 'attendance-cloud';
export const AUDIENCE = 'attendance-api';

export interface Principal {
  id: string;
  role: Role;
}

export interface TokenService {
  issue(p: Principal): Promise<{ token: string; expiresIn: number }>;
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

/**
 * Verified tokens are remembered until they expire (bounded): a student's app sends the same token
 * with every submission, and re-checking its HMAC each time is most of the cost of a request.
 */
const VERIFIED_CACHE_MAX = 10_000;

export function createTokenService(rawKey: Uint8Array, ttlS: number, now: () => number = Date.now): TokenService {
  const key: KeyObject = createSecretKey(rawKey);
  const verified = new Map<string, { principal: Principal; expMs: number }>();
  return {
    async issue(p) {
      const iat = Math.floor(now() / 1000);
      const token = await new SignJWT({ role: p.role })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(p.id)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt(iat)
        .setExpirationTime(iat + ttlS)
        .sign(key);
      return { token, expiresIn: ttlS };
    },
    async verify(token) {
      const hit = verified.get(token);
      if (hit && hit.expMs > now()) return hit.principal;
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          issuer: ISSUER,
          audience: AUDIENCE,
          currentDate: new Date(now()),
        });
        const role = payload.role as Role;
        if (typeof payload.sub !== 'string' || !ROLES.has(role)) throw new TokenError('token has no valid subject or role');
        const principal = { id: payload.sub, role };
        if (verified.size >= VERIFIED_CACHE_MAX) verified.clear();
        verified.set(token, { principal, expMs: (payload.exp ?? 0) * 1000 });
        return principal;
      } catch (e) {
        if (e instanceof TokenError) throw e;
        if (e instanceof errors.JWTExpired) throw new TokenError('token expired');
        throw new TokenError('invalid token');
      }
    },
  };
}

/** Access tokens: HS256 JWTs signed with the instance's key (jose), with issuer, audience, expiry. */
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

export function createTokenService(key: Uint8Array, ttlS: number, now: () => number = Date.now): TokenService {
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
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          issuer: ISSUER,
          audience: AUDIENCE,
          currentDate: new Date(now()),
        });
        const role = payload.role as Role;
        if (typeof payload.sub !== 'string' || !ROLES.has(role)) throw new TokenError('token has no valid subject or role');
        return { id: payload.sub, role };
      } catch (e) {
        if (e instanceof TokenError) throw e;
        if (e instanceof errors.JWTExpired) throw new TokenError('token expired');
        throw new TokenError('invalid token');
      }
    },
  };
}

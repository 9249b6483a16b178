/** Bearer-token authentication and role checks (RFC 6750 error signalling on 401). */
import type { Context } from 'koa';
import { HttpError } from '../errors.js';
import { TokenError, type Principal, type TokenService } from '../../auth/jwt.js';
import type { Role } from '../../store/schema.js';

const REALM = 'attendance';

export async function authenticate(ctx: Context, tokens: TokenService): Promise<Principal> {
  const header = ctx.get('Authorization');
  const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(header);
  if (!match) {
    throw new HttpError(401, 'unauthenticated', 'a bearer token is required', undefined, { 'WWW-Authenticate': `Bearer realm="${REALM}"` });
  }
  try {
    return await tokens.verify(match[1]!);
  } catch (e) {
    // Only a token found wanting is the client's fault; a database that cannot be asked about the
    // account's standing (503) or a bug (500) must not read as "log in again".
    if (!(e instanceof TokenError)) throw e;
    const reason = e.message;
    throw new HttpError(401, 'invalid_token', reason, undefined, {
      'WWW-Authenticate': `Bearer realm="${REALM}", error="invalid_token", error_description="${reason}"`,
    });
  }
}

export function assertRole(principal: Principal, roles: readonly Role[]): void {
  if (!roles.includes(principal.role)) {
    throw new HttpError(403, 'forbidden', `this route is for ${roles.join(' or ')} accounts`);
  }
}

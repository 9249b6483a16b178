/** /api/v1/auth: self-registration (students only), login (JSON or OAuth2 password form), me. */
import { z } from 'zod';
import { HttpError, conflict, notFound, tooManyAttempts } from '../errors.js';
import type { RouteTable } from '../route.js';
import type { AppDeps } from '../deps.js';
import { DuplicateEmailError, publicUser } from '../../store/accounts.js';
import { DUMMY_HASH_PROMISE, verifyPassword } from '../../auth/passwords.js';
import { email, fullName, password, userOut } from '../schemas.js';

// Unknown keys (role, is_teacher, ...) are stripped: self-registration never grants a role.
const registerBody = z.object({ email, full_name: fullName, password });

const tokenBody = z.union([
  z.object({ email, password: z.string().min(1).max(256) }),
  // OAuth2 password grant form (RFC 6749 §4.3), as the original FastAPI service accepted.
  z.object({ username: email, password: z.string().min(1).max(256), grant_type: z.literal('password').optional() }).transform((b) => ({ email: b.username, password: b.password })),
]);

export const tokenOut = z.object({ access_token: z.string(), token_type: z.literal('bearer'), expires_in: z.number().int() });

export function authRoutes(routes: RouteTable, deps: AppDeps): void {
  const { store, clock, tokens, loginLimiter } = deps;

  routes.add(
    {
      method: 'post', path: '/api/v1/auth/register', tag: 'auth', auth: 'public', status: 201,
      summary: 'Register a student account',
      description: 'Creates a **student** account. Any role or is_teacher field is ignored: teachers and admins are created by an admin.',
      body: registerBody, response: userOut,
      errors: [[400, 'validation_error'], [403, 'registration_closed'], [409, 'email_taken'], [429, 'too_many_attempts']],
    },
    async ({ body, ctx }) => {
      if (!deps.settings.openRegistration) throw new HttpError(403, 'registration_closed', 'self-registration is disabled; ask an administrator');
      const registerWait = deps.registrationLimiter.attempt(ctx.ip);
      if (registerWait > 0) throw tooManyAttempts('too many registrations from this address; try again later', registerWait);
      try {
        return await store.accounts.create({ ...body, role: 'student' }, clock());
      } catch (e) {
        if (e instanceof DuplicateEmailError) throw conflict('email_taken', 'an account with this e-mail exists');
        throw e;
      }
    },
  );

  routes.add(
    {
      method: 'post', path: '/api/v1/auth/token', tag: 'auth', auth: 'public',
      summary: 'Log in and get an access token',
      description: 'Accepts JSON `{email, password}` or the OAuth2 password form (`username`, `password`). Repeated failures for an account, from an address, or both, are answered 429 with Retry-After.',
      body: tokenBody, bodyMediaTypes: ['application/x-www-form-urlencoded'], response: tokenOut,
      errors: [[400, 'validation_error'], [401, 'invalid_credentials'], [429, 'too_many_attempts']],
    },
    async ({ body, ctx }) => {
      const attempt = { account: body.email, address: ctx.ip };
      const wait = loginLimiter.attempt(attempt);
      if (wait > 0) throw tooManyAttempts('too many failed logins; try again later', wait);
      const user = await store.accounts.findByEmail(body.email);
      // Verify against a dummy hash for unknown accounts so timing does not reveal which exist.
      const ok = await verifyPassword(body.password, user?.password_hash ?? (await DUMMY_HASH_PROMISE));
      // A deactivated account is refused like a wrong password.
      if (!user || !ok || user.deactivated_at !== null) {
        loginLimiter.failed(attempt);
        throw new HttpError(401, 'invalid_credentials', 'e-mail or password is wrong', undefined, { 'WWW-Authenticate': 'Bearer realm="attendance"' });
      }
      loginLimiter.succeeded(attempt);
      const { token, expiresIn } = await tokens.issue(user);
      ctx.set('Cache-Control', 'no-store');
      return { access_token: token, token_type: 'bearer' as const, expires_in: expiresIn };
    },
  );

  routes.add(
    { method: 'get', path: '/api/v1/auth/me', tag: 'auth', auth: ['student', 'teacher', 'admin'], summary: 'The logged-in account', response: userOut },
    async ({ user }) => {
      const u = await store.accounts.get(user.id);
      if (!u) throw notFound('account');
      return publicUser(u);
    },
  );
}

/** /api/v1/auth: self-registration (students only) with e-mail verification, login (JSON or OAuth2 password form), me. */
import { z } from 'zod';
import { HttpError, badRequest, notFound, tooManyAttempts } from '../errors.js';
import type { RouteTable } from '../route.js';
import type { AppDeps } from '../deps.js';
import { publicUser } from '../../store/accounts.js';
import { DUMMY_HASH_PROMISE, verifyPassword } from '../../auth/passwords.js';
import { email, fullName, password, userOut } from '../schemas.js';
import { VERIFICATION_TTL_MS, registerStudent, verifyEmail } from '../../mail/email-verification.js';

// Unknown keys (role, is_teacher, ...) are stripped: self-registration never grants a role.
const registerBody = z.object({ email, full_name: fullName, password });
const registerOut = z.object({ status: z.literal('verification_sent') });
const verifyBody = z.object({ token: z.string().min(16).max(128) });
const verifyOut = z.object({ status: z.literal('verified') });

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
      method: 'post', path: '/api/v1/auth/register', tag: 'auth', auth: 'public', status: 202,
      summary: 'Register a student account',
      description: `Registers a **student** account and mails a one-time link (valid ${VERIFICATION_TTL_MS / 3_600_000} h) to the address; the account can log in and be enrolled once the link is used (POST /auth/verify-email). Any role or is_teacher field is ignored: teachers and admins are created by an admin. The answer is the same whether or not the address already has an account, so it does not tell which addresses exist: the owner of a confirmed address gets a mail saying someone tried to register with it, and registering an unconfirmed address again mails a new link that, when used, sets this registration's name and password.`,
      body: registerBody, response: registerOut,
      errors: [[400, 'validation_error'], [403, 'registration_closed'], [429, 'too_many_attempts']],
    },
    async ({ body, ctx }) => {
      const mailer = deps.mailer;
      if (!deps.settings.openRegistration || !mailer) throw new HttpError(403, 'registration_closed', 'self-registration is disabled; ask an administrator');
      const registerWait = deps.registrationLimiter.attempt(ctx.ip);
      if (registerWait > 0) throw tooManyAttempts('too many registrations from this address; try again later', registerWait);
      await registerStudent(store, mailer, body, clock());
      return { status: 'verification_sent' as const };
    },
  );

  routes.add(
    {
      method: 'post', path: '/api/v1/auth/verify-email', tag: 'auth', auth: 'public',
      summary: "Confirm an account's e-mail address",
      description: 'Uses the token from the mailed link (the part after `#token=`) or code. A token works once and expires; using it retires the account\'s other links.',
      body: verifyBody, response: verifyOut,
      errors: [[400, 'validation_error'], [400, 'invalid_verification']],
    },
    async ({ body }) => {
      if (!(await verifyEmail(store, body.token, clock()))) throw badRequest('invalid_verification', 'this link is unknown, used or expired; register again to get a new one');
      return { status: 'verified' as const };
    },
  );

  routes.add(
    {
      method: 'post', path: '/api/v1/auth/token', tag: 'auth', auth: 'public',
      summary: 'Log in and get an access token',
      description: 'Accepts JSON `{email, password}` or the OAuth2 password form (`username`, `password`). A self-registered account logs in once its address is confirmed; until then it is refused like a wrong password. Repeated failures for an account, from an address, or both, are answered 429 with Retry-After.',
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
      // A deactivated account, or one whose address is not confirmed, is refused like a wrong password.
      // An account linked to the institution's OpenID provider signs in there, never with a password.
      if (!user || !ok || user.deactivated_at !== null || user.email_verified_at === null || (await store.identityLinks.isLinked(user.id))) {
        loginLimiter.failed(attempt);
        throw new HttpError(401, 'invalid_credentials', 'e-mail or password is wrong, or the address is not confirmed yet', undefined, { 'WWW-Authenticate': 'Bearer realm="attendance"' });
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

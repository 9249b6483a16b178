/**
 * /api/v1/auth/password and /api/v1/auth/logout-all: the signed-in account changes its password
 * or ends all its sessions. Both raise the account's token version, so every token issued before
 * stops working at once (docs/api.md, "Access tokens").
 */
import { z } from 'zod';
import { HttpError, notFound, tooManyAttempts } from '../errors.js';
import type { RouteTable } from '../route.js';
import type { AppDeps } from '../deps.js';
import { verifyPassword } from '../../auth/passwords.js';
import { password } from '../schemas.js';
import { tokenOut } from './auth.js';

const ANY_ACCOUNT = ['student', 'teacher', 'admin'] as const;

const passwordBody = z.object({ current_password: z.string().min(1).max(256), new_password: password });

export function authPasswordRoutes(routes: RouteTable, deps: AppDeps): void {
  const { store, clock, tokens, events, loginLimiter } = deps;

  routes.add(
    {
      method: 'post', path: '/api/v1/auth/password', tag: 'auth', auth: ANY_ACCOUNT,
      summary: 'Change my password',
      description: 'Checks the current password and sets the new one (the rules of registration). Every token issued to the account before stops working at once; the answer is a fresh token, so the caller stays signed in. Wrong current passwords count towards the login limits.',
      body: passwordBody, response: tokenOut,
      errors: [[400, 'validation_error'], [403, 'wrong_password'], [429, 'too_many_attempts']],
    },
    async ({ body, user, ctx }) => {
      const account = await store.accounts.get(user.id);
      if (!account) throw notFound('account');
      const attempt = { account: account.email, address: ctx.ip };
      const wait = loginLimiter.attempt(attempt);
      if (wait > 0) throw tooManyAttempts('too many failed password checks; try again later', wait);
      if (!(await verifyPassword(body.current_password, account.password_hash))) {
        loginLimiter.failed(attempt);
        throw new HttpError(403, 'wrong_password', 'the current password is wrong');
      }
      loginLimiter.succeeded(attempt);
      const version = await store.accounts.setPassword(account.id, body.new_password);
      if (version === null) throw notFound('account');
      await store.audit.record({ at: clock(), actorId: account.id, action: 'account.password_change', target: account.id });
      events.emit('account.tokens_revoked', { user_id: account.id });
      const { token, expiresIn } = await tokens.issue({ id: account.id, role: account.role, token_version: version });
      ctx.set('Cache-Control', 'no-store');
      return { access_token: token, token_type: 'bearer' as const, expires_in: expiresIn };
    },
  );

  routes.add(
    {
      method: 'post', path: '/api/v1/auth/logout-all', tag: 'auth', auth: ANY_ACCOUNT, status: 204,
      summary: 'Log out everywhere',
      description: 'Ends every session of the account: all its tokens, this one included, stop working at once. Log in again for a new one.',
    },
    async ({ user }) => {
      if ((await store.accounts.revokeTokens(user.id)) === null) throw notFound('account');
      await store.audit.record({ at: clock(), actorId: user.id, action: 'account.logout_all', target: user.id });
      events.emit('account.tokens_revoked', { user_id: user.id });
    },
  );
}

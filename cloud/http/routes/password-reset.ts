/**
 * Password reset: an admin sends an account a one-time link (POST
 * /api/v1/admin/users/:id/password-reset), and the account's owner sets the new password with it
 * (POST /api/v1/auth/password-reset). Neither answer ever holds a password or a hash.
 */
import { z } from 'zod';
import { HttpError, badRequest, conflict, notFound } from '../errors.js';
import type { RouteTable } from '../route.js';
import type { AppDeps } from '../deps.js';
import { PASSWORD_RESET_TTL_MS, mailPasswordReset, resetPassword } from '../../mail/password-reset.js';
import { idParams, password } from '../schemas.js';

const HOURS = PASSWORD_RESET_TTL_MS / 3_600_000;

export function passwordResetRoutes(routes: RouteTable, deps: AppDeps): void {
  const { store, clock, events, mailer } = deps;

  routes.add(
    {
      method: 'post', path: '/api/v1/admin/users/:id/password-reset', tag: 'admin', auth: ['admin'], status: 202,
      summary: 'Mail an account a link to set a new password',
      description: `The account gets a one-time link (valid ${HOURS} h) to choose a new password; its current password works until then. Needs mail (ATTENDANCE_SMTP_URL). Audited as user.password_reset.`,
      params: idParams,
      response: z.object({ status: z.literal('reset_sent'), expires_at: z.string() }),
      errors: [[404, 'not_found'], [409, 'account_deactivated'], [409, 'signs_in_with_institution'], [429, 'too_many_mails'], [409, 'mail_unavailable']],
    },
    async ({ params, user }) => {
      if (!mailer) throw conflict('mail_unavailable', 'this cloud sends no mail (ATTENDANCE_SMTP_URL is not set)');
      const account = await store.accounts.get(params.id);
      if (!account) throw notFound('user');
      if (account.deactivated_at !== null) throw conflict('account_deactivated', 'the account is deactivated; reactivate it first');
      if (await store.identityLinks.isLinked(account.id)) throw conflict('signs_in_with_institution', 'the account signs in through the institution and has no password here');
      const now = clock();
      if (!(await mailPasswordReset(store, mailer, account, now))) throw new HttpError(429, 'too_many_mails', 'this address got too many mails in the last hour; try again later');
      await store.audit.record({ at: now, actorId: user.id, action: 'user.password_reset', target: account.id });
      return { status: 'reset_sent' as const, expires_at: new Date(now + PASSWORD_RESET_TTL_MS).toISOString() };
    },
  );

  routes.add(
    {
      method: 'post', path: '/api/v1/auth/password-reset', tag: 'auth', auth: 'public',
      summary: 'Set a new password with a reset link',
      description: 'The token from the link an admin had mailed, and the new password (the rules of registration). The link works once; every token issued to the account before stops working. Then log in with the new password.',
      body: z.object({ token: z.string().min(16).max(128), new_password: password }),
      response: z.object({ status: z.literal('password_set') }),
      errors: [[400, 'validation_error'], [400, 'invalid_reset']],
    },
    async ({ body }) => {
      const userId = await resetPassword(store, body.token, body.new_password, clock());
      if (!userId) throw badRequest('invalid_reset', 'this link is unknown, used or expired; ask your administrator for a new one');
      events.emit('account.tokens_revoked', { user_id: userId });
      return { status: 'password_set' as const };
    },
  );
}

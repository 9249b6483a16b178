/**
 * A password reset an admin starts (docs/api.md, "Administration: accounts and the audit log"):
 * the account gets a one-time link by mail and chooses its new password on the page it opens;
 * nobody else ever sees that password, and the current one keeps working until the link is used.
 * The link is a row of the e-mail verification links (cloud/store/email-verifications.ts): only
 * the SHA-256 of its token is stored, it expires after PASSWORD_RESET_TTL_MS, works once, and
 * using it proves the address too. Setting the password raises the account's token version, so
 * every session of the account ends.
 */
import { hashSecret, newSecret } from '../auth/secrets.js';
import type { Store } from '../store/db.js';
import type { AccountMail } from './account-mail.js';

export const PASSWORD_RESET_TTL_MS = 24 * 3_600_000;
/** Marks a verification row as a reset link; not a scrypt hash, so nothing verifies against it. */
const RESET_MARK = '!password-reset';

/** Mails the account a reset link; false when the address's hourly mail allowance is spent. */
export async function mailPasswordReset(store: Store, mail: AccountMail, account: { id: string; email: string }, now: number): Promise<boolean> {
  if (!mail.mayMail(account.email)) return false;
  const token = newSecret();
  await store.emailVerifications.insert({
    token_hash: hashSecret(token), user_id: account.id, full_name: null, password_hash: RESET_MARK,
    created_at: now, expires_at: now + PASSWORD_RESET_TTL_MS, used_at: null,
  });
  mail.sendPasswordReset(account.email, token, PASSWORD_RESET_TTL_MS / 3_600_000);
  return true;
}

/** Uses a reset token: sets the password and answers the account's id, or null for an unknown, used or expired token. */
export function resetPassword(store: Store, token: string, password: string, now: number): Promise<string | null> {
  return store.transaction(async (tx) => {
    const userId = await tx.emailVerifications.redeemPasswordReset(hashSecret(token), RESET_MARK, now);
    if (!userId) return null;
    if ((await tx.accounts.setPassword(userId, password)) === null) return null;
    await tx.accounts.markEmailVerified(userId, now, null);
    await tx.audit.record({ at: now, actorId: userId, action: 'account.password_reset', target: userId });
    return userId;
  });
}

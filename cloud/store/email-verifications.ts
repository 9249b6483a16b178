/**
 * One-time e-mail verification links (docs/api.md, "Registration and e-mail verification"): only
 * the SHA-256 of a link's token is stored, with its expiry; a link is used once, and using one
 * retires every other open link of the account.
 */
import { unitOfWork, type Queryable } from './repositories.js';
import type { EmailVerification } from './schema.js';

export class EmailVerificationRepository {
  constructor(private readonly db: Queryable) {}

  async insert(row: EmailVerification): Promise<void> {
    await this.db.insertInto('email_verifications').values(row).execute();
  }

  /** Deletes the links that can no longer be used (used or expired): the nightly purge. */
  async purgeSpent(now: number): Promise<number> {
    const res = await this.db.deleteFrom('email_verifications').where((eb) => eb.or([eb('used_at', 'is not', null), eb('expires_at', '<=', now)])).executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  /**
   * Uses the password-reset link with this token hash (cloud/mail/password-reset.ts: a row whose
   * password_hash is `mark` and name null, which redeem() above only ever verifies with) if it is
   * unused and unexpired, and retires the account's other open links. The account's id, or null.
   */
  redeemPasswordReset(tokenHash: string, mark: string, now: number): Promise<string | null> {
    return unitOfWork(this.db, async (_tx, trx) => {
      const res = await trx.updateTable('email_verifications').set({ used_at: now })
        .where('token_hash', '=', tokenHash).where('password_hash', '=', mark).where('full_name', 'is', null)
        .where('used_at', 'is', null).where('expires_at', '>', now)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1) return null;
      const link = await trx.selectFrom('email_verifications').select('user_id').where('token_hash', '=', tokenHash).executeTakeFirstOrThrow();
      await trx.updateTable('email_verifications').set({ used_at: now }).where('user_id', '=', link.user_id).where('used_at', 'is', null).execute();
      return link.user_id;
    });
  }

  /**
   * Uses the link with this token hash if it is unused and unexpired: marks it and the account's
   * other open links used and verifies the account (applying a re-registration's name and
   * password), in one transaction. The account's id, or null for an unknown, used or expired link;
   * of two concurrent calls for one link exactly one succeeds.
   */
  redeem(tokenHash: string, now: number): Promise<string | null> {
    return unitOfWork(this.db, async (tx, trx) => {
      const res = await trx.updateTable('email_verifications').set({ used_at: now })
        .where('token_hash', '=', tokenHash).where('used_at', 'is', null).where('expires_at', '>', now)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1) return null;
      const link = await trx.selectFrom('email_verifications').selectAll().where('token_hash', '=', tokenHash).executeTakeFirstOrThrow();
      await trx.updateTable('email_verifications').set({ used_at: now }).where('user_id', '=', link.user_id).where('used_at', 'is', null).execute();
      const registration = link.full_name !== null && link.password_hash !== null ? { full_name: link.full_name, password_hash: link.password_hash } : null;
      return (await tx.accounts.markEmailVerified(link.user_id, now, registration)) ? link.user_id : null;
    });
  }
}

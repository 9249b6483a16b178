/**
 * Sign-in through the institution's OpenID provider (docs/api.md, "Sign-in through the
 * institution"): the identity links (issuer, subject) → account, the started sign-ins awaiting
 * their callback, and the one-time codes a finished sign-in hands over. States and codes are
 * stored only as SHA-256 hashes; each is used at most once, also with concurrent requests.
 */
import { unitOfWork, type Queryable } from './repositories.js';
import type { IdentityLinksTable, OidcLogin } from './schema.js';

export class IdentityLinkRepository {
  constructor(private readonly db: Queryable) {}

  findLink(issuer: string, subject: string): Promise<IdentityLinksTable | undefined> {
    return this.db.selectFrom('identity_links').selectAll().where('issuer', '=', issuer).where('subject', '=', subject).executeTakeFirst();
  }

  /** Links (issuer, subject) to the account; a link that already exists (a concurrent first sign-in) is kept. */
  async link(issuer: string, subject: string, userId: string, now: number): Promise<void> {
    await this.db.insertInto('identity_links').values({ issuer, subject, user_id: userId, created_at: now, last_login_at: now })
      .onConflict((oc) => oc.columns(['issuer', 'subject']).doNothing()).execute();
  }

  async touch(issuer: string, subject: string, now: number): Promise<void> {
    await this.db.updateTable('identity_links').set({ last_login_at: now }).where('issuer', '=', issuer).where('subject', '=', subject).execute();
  }

  /** Whether the account signs in through a provider (then it has no password login). */
  async isLinked(userId: string): Promise<boolean> {
    return (await this.db.selectFrom('identity_links').select('user_id').where('user_id', '=', userId).limit(1).executeTakeFirst()) !== undefined;
  }

  /** Records a started sign-in; sign-ins and codes that have expired are deleted on the way. */
  async startLogin(row: OidcLogin): Promise<void> {
    await this.db.deleteFrom('oidc_logins').where('expires_at', '<=', row.created_at).execute();
    await this.db.deleteFrom('oidc_codes').where('expires_at', '<=', row.created_at).execute();
    await this.db.insertInto('oidc_logins').values(row).execute();
  }

  /** Takes the started sign-in with this state hash: it is deleted, so only one callback gets it. Undefined when unknown, taken or expired. */
  takeLogin(stateHash: string, now: number): Promise<OidcLogin | undefined> {
    return unitOfWork(this.db, async (_tx, trx) => {
      const row = await trx.selectFrom('oidc_logins').selectAll().where('state_hash', '=', stateHash).executeTakeFirst();
      if (!row) return undefined;
      const res = await trx.deleteFrom('oidc_logins').where('state_hash', '=', stateHash).executeTakeFirst();
      return Number(res.numDeletedRows) === 1 && Number(row.expires_at) > now ? row : undefined;
    });
  }

  async issueCode(codeHash: string, userId: string, now: number, expiresAt: number): Promise<void> {
    await this.db.insertInto('oidc_codes').values({ code_hash: codeHash, user_id: userId, created_at: now, expires_at: expiresAt, used_at: null }).execute();
  }

  /** Uses the code with this hash if it is unused and unexpired; the account's id, or null. Of two concurrent calls exactly one succeeds. */
  async redeemCode(codeHash: string, now: number): Promise<string | null> {
    return unitOfWork(this.db, async (_tx, trx) => {
      const res = await trx.updateTable('oidc_codes').set({ used_at: now })
        .where('code_hash', '=', codeHash).where('used_at', 'is', null).where('expires_at', '>', now)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1) return null;
      const row = await trx.selectFrom('oidc_codes').select('user_id').where('code_hash', '=', codeHash).executeTakeFirstOrThrow();
      return row.user_id;
    });
  }
}

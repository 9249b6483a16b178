/** Accounts. E-mails are stored lower-cased; the password hash never leaves this module's callers. */
import { sql } from 'kysely';
import { uuidv7 } from '../../shared/ids.js';
import { hashPassword } from '../auth/passwords.js';
import { isUniqueViolation } from './errors.js';
import { preparedQuery } from './prepared.js';
import { unitOfWork, type Queryable } from './repositories.js';
import type { Role, User } from './schema.js';

export type PublicUser = Omit<User, 'password_hash' | 'token_version' | 'sourced_id'>;

export function publicUser(u: User): PublicUser {
  return { id: u.id, email: u.email, full_name: u.full_name, role: u.role, created_at: u.created_at, deactivated_at: u.deactivated_at, email_verified_at: u.email_verified_at };
}

export class DuplicateEmailError extends Error {}

/** The change would leave no active admin account. */
export class LastAdminError extends Error {}

/** What decides whether an account's tokens hold: its current token version, and whether it is active. */
export interface AccountStanding {
  tokenVersion: number;
  active: boolean;
}

/** A role change, or deactivation (a time) and reactivation (null). */
export type AccountChange = { role: Role } | { deactivatedAt: number | null };

// Read on the authentication path (through a short cache, cloud/auth/account-standings.ts).
const standingQuery = preparedQuery(['id'] as const, (db, p) =>
  (db as unknown as Queryable).selectFrom('users').select(['token_version', 'deactivated_at']).where('id', '=', p.id),
);

export interface NewAccount {
  email: string;
  full_name: string;
  password: string;
  role: Role;
  /** False for self-registration: the owner has yet to prove the address. Default true (made by an admin). */
  emailVerified?: boolean;
}

const normalEmail = (email: string) => email.trim().toLowerCase();

/** The password hash of an account without a password: not a scrypt hash, so no password verifies against it. */
const NO_PASSWORD = '!no-password';

export class AccountRepository {
  constructor(private readonly db: Queryable) {}

  /** Creates an account; throws DuplicateEmailError when the address is taken. */
  async create(input: NewAccount, now: number): Promise<PublicUser> {
    const email = normalEmail(input.email);
    if (await this.findByEmail(email)) throw new DuplicateEmailError(email);
    const row: User = { id: uuidv7(now), email, full_name: input.full_name.trim(), role: input.role, password_hash: await hashPassword(input.password), created_at: now, token_version: 0, deactivated_at: null, email_verified_at: input.emailVerified === false ? null : now, sourced_id: null };
    try {
      await this.db.insertInto('users').values(row).execute();
    } catch (e) {
      // Lost a race with a concurrent registration of the same address.
      if (isUniqueViolation(e)) throw new DuplicateEmailError(email);
      throw e;
    }
    return publicUser(row);
  }

  findByEmail(email: string): Promise<User | undefined> {
    return this.db.selectFrom('users').selectAll().where('email', '=', normalEmail(email)).executeTakeFirst();
  }

  get(id: string): Promise<User | undefined> {
    return this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** A page of accounts in e-mail order, optionally of one role. */
  list(opts: { role?: Role; limit: number; offset: number }): Promise<PublicUser[]> {
    let q = this.db.selectFrom('users').select(['id', 'email', 'full_name', 'role', 'created_at', 'deactivated_at', 'email_verified_at']).orderBy('email').limit(opts.limit).offset(opts.offset);
    if (opts.role) q = q.where('role', '=', opts.role);
    return q.execute();
  }

  /**
   * A page of accounts in e-mail order, optionally of one role and matching `q` (a part of the
   * name or e-mail, any case), with how many match in all.
   */
  async search(opts: { role?: Role; q?: string; limit: number; offset: number }): Promise<{ items: PublicUser[]; total: number }> {
    let base = this.db.selectFrom('users');
    if (opts.role) base = base.where('role', '=', opts.role);
    if (opts.q) {
      const pattern = `%${opts.q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      base = base.where((eb) => eb.or([
        eb(sql<string>`lower(email)`, 'like', sql<string>`${pattern} escape '\\'`),
        eb(sql<string>`lower(full_name)`, 'like', sql<string>`${pattern} escape '\\'`),
      ]));
    }
    const items = await base.select(['id', 'email', 'full_name', 'role', 'created_at', 'deactivated_at', 'email_verified_at']).orderBy('email').limit(opts.limit).offset(opts.offset).execute();
    const count = await base.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
    return { items, total: Number(count.n) };
  }

  /** The accounts named by e-mail (already lower-cased) or by id, with their role and whether the address is proved. */
  async identify(emails: readonly string[], ids: readonly string[]): Promise<Array<Pick<User, 'id' | 'email' | 'role' | 'email_verified_at'>>> {
    const columns = ['id', 'email', 'role', 'email_verified_at'] as const;
    return [
      ...(emails.length ? await this.db.selectFrom('users').select(columns).where('email', 'in', emails).execute() : []),
      ...(ids.length ? await this.db.selectFrom('users').select(columns).where('id', 'in', ids).execute() : []),
    ];
  }

  /**
   * Records that the owner proved the address (the first time counts); a re-registration's name
   * and password hash, when given, replace the account's. False if there is no such account.
   */
  async markEmailVerified(id: string, now: number, registration: { full_name: string; password_hash: string } | null): Promise<boolean> {
    const res = await this.db.updateTable('users')
      .set({ email_verified_at: sql`coalesce(email_verified_at, ${now})`, ...(registration ?? {}) })
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  /** The standings of these accounts (one query); an id with no account is absent from the map. */
  async standings(ids: readonly string[]): Promise<Map<string, AccountStanding>> {
    const rows = ids.length === 1
      ? (await standingQuery(this.db, { id: ids[0]! })).rows.map((r) => ({ ...r, id: ids[0]! }))
      : await this.db.selectFrom('users').select(['id', 'token_version', 'deactivated_at']).where('id', 'in', ids).execute();
    return new Map(rows.map((r) => [r.id, { tokenVersion: Number(r.token_version), active: r.deactivated_at === null }]));
  }

  /** Sets a new password and raises the token version (every earlier token dies); the new version, or null if there is no such account. */
  async setPassword(id: string, password: string): Promise<number | null> {
    const hash = await hashPassword(password);
    const row = await this.db.updateTable('users').set({ password_hash: hash, token_version: sql`token_version + 1` }).where('id', '=', id).returning('token_version').executeTakeFirst();
    return row ? row.token_version : null;
  }

  /** Raises the token version: every token issued so far dies. The new version, or null if there is no such account. */
  async revokeTokens(id: string): Promise<number | null> {
    const row = await this.db.updateTable('users').set({ token_version: sql`token_version + 1` }).where('id', '=', id).returning('token_version').executeTakeFirst();
    return row ? row.token_version : null;
  }

  /**
   * Changes the role, or deactivates or reactivates the account, and raises its token version;
   * a change to what the account already is changes nothing (`after` is then `before`). Undefined
   * when there is no such account; throws LastAdminError when no active admin would remain. The
   * active admins' rows are locked first (a no-op update, valid on both backends), so on
   * PostgreSQL two admins demoting each other wait for one another and the second sees the
   * first's commit instead of both succeeding.
   */
  async change(id: string, change: AccountChange): Promise<{ before: User; after: User } | undefined> {
    return unitOfWork(this.db, async (_tx, trx) => {
      await trx.updateTable('users').set({ token_version: sql`token_version` }).where('role', '=', 'admin').where('deactivated_at', 'is', null).execute();
      const before = await trx.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
      if (!before) return undefined;
      const fields = 'role' in change ? { role: change.role } : { deactivated_at: change.deactivatedAt };
      if ('role' in change ? before.role === change.role : (before.deactivated_at === null) === (change.deactivatedAt === null)) return { before, after: before };
      const after = await trx.updateTable('users').set({ ...fields, token_version: sql`token_version + 1` }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
      const admin = await trx.selectFrom('users').select('id').where('role', '=', 'admin').where('deactivated_at', 'is', null).limit(1).executeTakeFirst();
      if (!admin) throw new LastAdminError(id);
      return { before, after };
    });
  }

  /** The account imported with this student-information-system id (OneRoster sourcedId). */
  findBySourcedId(sourcedId: string): Promise<User | undefined> {
    return this.db.selectFrom('users').selectAll().where('sourced_id', '=', sourcedId).executeTakeFirst();
  }

  /**
   * Creates an account that signs in through the institution's OpenID provider: its address is
   * taken as proved and it has no usable password (NO_PASSWORD never verifies). Throws
   * DuplicateEmailError when the address is taken.
   */
  async createWithoutPassword(input: Omit<NewAccount, 'password' | 'emailVerified'>, now: number): Promise<User> {
    const email = normalEmail(input.email);
    const row: User = { id: uuidv7(now), email, full_name: input.full_name.trim(), role: input.role, password_hash: NO_PASSWORD, created_at: now, token_version: 0, deactivated_at: null, email_verified_at: now, sourced_id: null };
    try {
      await this.db.insertInto('users').values(row).execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw new DuplicateEmailError(email);
      throw e;
    }
    return row;
  }

  async hasAdmin(): Promise<boolean> {
    return (await this.db.selectFrom('users').select('id').where('role', '=', 'admin').limit(1).executeTakeFirst()) !== undefined;
  }
}

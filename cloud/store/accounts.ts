/** Accounts. E-mails are stored lower-cased; the password hash never leaves this module's callers. */
import { uuidv7 } from '../../shared/ids.js';
import { hashPassword } from '../auth/passwords.js';
import { isUniqueViolation } from './errors.js';
import type { Queryable } from './repositories.js';
import type { Role, User } from './schema.js';

export type PublicUser = Omit<User, 'password_hash'>;

export function publicUser(u: User): PublicUser {
  return { id: u.id, email: u.email, full_name: u.full_name, role: u.role, created_at: u.created_at };
}

export class DuplicateEmailError extends Error {}

export interface NewAccount {
  email: string;
  full_name: string;
  password: string;
  role: Role;
}

const normalEmail = (email: string) => email.trim().toLowerCase();

export class AccountRepository {
  constructor(private readonly db: Queryable) {}

  /** Creates an account; throws DuplicateEmailError when the address is taken. */
  async create(input: NewAccount, now: number): Promise<PublicUser> {
    const email = normalEmail(input.email);
    if (await this.findByEmail(email)) throw new DuplicateEmailError(email);
    const row: User = { id: uuidv7(now), email, full_name: input.full_name.trim(), role: input.role, password_hash: await hashPassword(input.password), created_at: now };
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
    let q = this.db.selectFrom('users').select(['id', 'email', 'full_name', 'role', 'created_at']).orderBy('email').limit(opts.limit).offset(opts.offset);
    if (opts.role) q = q.where('role', '=', opts.role);
    return q.execute();
  }

  /** The accounts named by e-mail (already lower-cased) or by id, with their role. */
  async identify(emails: readonly string[], ids: readonly string[]): Promise<Array<Pick<User, 'id' | 'email' | 'role'>>> {
    return [
      ...(emails.length ? await this.db.selectFrom('users').select(['id', 'email', 'role']).where('email', 'in', emails).execute() : []),
      ...(ids.length ? await this.db.selectFrom('users').select(['id', 'email', 'role']).where('id', 'in', ids).execute() : []),
    ];
  }

  async hasAdmin(): Promise<boolean> {
    return (await this.db.selectFrom('users').select('id').where('role', '=', 'admin').limit(1).executeTakeFirst()) !== undefined;
  }
}

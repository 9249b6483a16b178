/** Accounts. E-mails are stored lower-cased; the password hash never leaves this module's callers. */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { uuidv7 } from '../../shared/ids.js';
import { hashPassword } from '../auth/passwords.js';
import type { Database, Role, User } from './schema.js';

export type PublicUser = Omit<User, 'password_hash'>;

export function publicUser(u: User): PublicUser {
  return { id: u.id, email: u.email, full_name: u.full_name, role: u.role, created_at: u.created_at };
}

export class DuplicateEmailError extends Error {}

export async function createUser(
  db: Kysely<Database>,
  input: { email: string; full_name: string; password: string; role: Role },
  now: number,
): Promise<PublicUser> {
  const email = input.email.trim().toLowerCase();
  const existing = await db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst();
  if (existing) throw new DuplicateEmailError(email);
  const row: User = { id: uuidv7(now), email, full_name: input.full_name.trim(), role: input.role, password_hash: await hashPassword(input.password), created_at: now };
  try {
    await db.insertInto('users').values(row).execute();
  } catch (e) {
    // Lost a race with a concurrent registration of the same address.
    if (/unique|duplicate/i.test(String((e as Error).message))) throw new DuplicateEmailError(email);
    throw e;
  }
  return publicUser(row);
}

export function findUserByEmail(db: Kysely<Database>, email: string): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where('email', '=', email.trim().toLowerCase()).executeTakeFirst();
}

export function getUser(db: Kysely<Database>, id: string): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Creates the first admin from ATTENDANCE_ADMIN_EMAIL/PASSWORD when no admin exists yet. */
export async function ensureFirstAdmin(db: Kysely<Database>, admin: { email: string; password: string } | null, now: number, log: Logger): Promise<void> {
  const any = await db.selectFrom('users').select('id').where('role', '=', 'admin').limit(1).executeTakeFirst();
  if (any) return;
  if (!admin) {
    log.warn('no admin account exists; set ATTENDANCE_ADMIN_EMAIL and ATTENDANCE_ADMIN_PASSWORD to create one');
    return;
  }
  const existing = await findUserByEmail(db, admin.email);
  if (existing) {
    log.warn({ email: admin.email }, 'ATTENDANCE_ADMIN_EMAIL belongs to a non-admin account; no admin created');
    return;
  }
  await createUser(db, { email: admin.email, full_name: 'Administrator', password: admin.password, role: 'admin' }, now);
  log.info({ email: admin.email }, 'created the first admin account');
}

/** Accounts. E-mails are stored lower-cased; the password hash never leaves this module's callers. */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
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

/**
 * Creates the first admin when no admin exists: from ATTENDANCE_ADMIN_EMAIL/PASSWORD, or else
 * `admin@localhost` with a random password written to a 0600 file in the data dir (never logged),
 * so `npm start` on a fresh machine is usable without any secret in code or docs.
 */
export async function ensureFirstAdmin(
  db: Kysely<Database>,
  admin: { email: string; password: string } | null,
  now: number,
  log: Logger,
  passwordFile: string,
): Promise<void> {
  const any = await db.selectFrom('users').select('id').where('role', '=', 'admin').limit(1).executeTakeFirst();
  if (any) return;
  let account = admin;
  if (!account) {
    account = { email: 'admin@localhost', password: randomBytes(18).toString('base64url') };
    fs.mkdirSync(path.dirname(passwordFile), { recursive: true, mode: 0o700 });
    fs.writeFileSync(passwordFile, `${account.email}\n${account.password}\n`, { mode: 0o600 });
  }
  const existing = await findUserByEmail(db, account.email);
  if (existing) {
    log.warn({ email: account.email }, 'the first-admin e-mail belongs to a non-admin account; no admin created');
    return;
  }
  await createUser(db, { email: account.email, full_name: 'Administrator', password: account.password, role: 'admin' }, now);
  if (admin) log.info({ email: account.email }, 'created the first admin account');
  else log.warn({ email: account.email, password_file: passwordFile }, 'created the first admin account with a generated password; read it from the file, then change it');
}

/**
 * E-mail ownership (docs/api.md, "Registration and e-mail verification"): `users.email_verified_at`
 * is set once the account's owner has proved the address, and only such an account takes a seat in
 * a course. Accounts made by an admin are verified when they are made; accounts that existed before
 * this migration are taken as verified (their addresses were trusted until now). A self-registered
 * account proves its address with a one-time link whose token is stored here only as its SHA-256,
 * with an expiry and the time it was used. A link sent to re-register an unconfirmed address
 * carries the new registration's name and password hash, applied only when that link is used.
 */
import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

export async function up(db: AnyDb, _dialect: Dialect): Promise<void> {
  await db.schema.alterTable('users').addColumn('email_verified_at', 'bigint').execute();
  await db.updateTable('users').set({ email_verified_at: sql`created_at` }).execute();
  await db.schema
    .createTable('email_verifications')
    .addColumn('token_hash', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('user_id', 'varchar(36)', (c) => c.notNull().references('users.id'))
    .addColumn('full_name', 'text')
    .addColumn('password_hash', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .execute();
  await db.schema.createIndex('email_verifications_user').on('email_verifications').columns(['user_id', 'created_at']).execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable('email_verifications').execute();
  await db.schema.alterTable('users').dropColumn('email_verified_at').execute();
}

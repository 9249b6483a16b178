/**
 * Access tokens that can be revoked (docs/api.md, "Access tokens"): each account has a token
 * version, carried by every token issued to it as the `ver` claim, and a token whose version is
 * not the account's current one is refused. Changing the password, the role, deactivating or
 * reactivating the account, or logging out everywhere raises the version. A deactivated account
 * (`deactivated_at` set) can neither log in nor use a token.
 */
import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

export async function up(db: AnyDb, _dialect: Dialect): Promise<void> {
  await db.schema.alterTable('users').addColumn('token_version', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('users').addColumn('deactivated_at', 'bigint').execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.alterTable('users').dropColumn('deactivated_at').execute();
  await db.schema.alterTable('users').dropColumn('token_version').execute();
}

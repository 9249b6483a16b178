/**
 * Erasure of a person's data (docs/privacy.md, "Erasure"): when an admin erases an account, its
 * identity is replaced by a pseudonym in `users` and this table records that it happened, when
 * and by whom, so that erasing again answers the same and changes nothing. It holds no identity:
 * only the (now pseudonymous) account's id and the admin's id.
 */
import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

export async function up(db: AnyDb, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('account_erasures')
    .addColumn('user_id', 'varchar(36)', (c) => c.primaryKey().references('users.id'))
    .addColumn('erased_at', 'bigint', (c) => c.notNull())
    .addColumn('erased_by', 'varchar(36)')
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable('account_erasures').execute();
}

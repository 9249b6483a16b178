/**
 * People from the institution (docs/architecture.md, "Persistence"): an account may carry the
 * `sourced_id` its student information system gave it (OneRoster `users.csv`), by which imports
 * find it again, and any number of identity links, the (issuer, subject) pairs with which an
 * OpenID provider signs it in. An account is found by its link, never by its e-mail alone.
 */
import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

export async function up(db: AnyDb, _dialect: Dialect): Promise<void> {
  await db.schema.alterTable('users').addColumn('sourced_id', 'text').execute();
  await db.schema.createIndex('users_sourced_id').unique().on('users').column('sourced_id').execute();
  await db.schema
    .createTable('identity_links')
    .addColumn('issuer', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_login_at', 'bigint')
    .addPrimaryKeyConstraint('identity_links_pk', ['issuer', 'subject'])
    .execute();
  await db.schema.createIndex('identity_links_user').on('identity_links').column('user_id').execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable('identity_links').execute();
  await db.schema.dropIndex('users_sourced_id').execute();
  await db.schema.alterTable('users').dropColumn('sourced_id').execute();
}

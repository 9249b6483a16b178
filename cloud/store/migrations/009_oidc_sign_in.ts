/**
 * Sign-in through the institution's OpenID provider (docs/api.md, "Sign-in through the
 * institution"). `oidc_logins` holds a started sign-in until its callback: the SHA-256 of its
 * `state`, of the browser cookie it is bound to, the nonce and PKCE verifier, where it returns
 * and when it expires; it is used once. `oidc_codes` holds the one-time codes a finished sign-in
 * hands to the dashboard or a native app, only as their SHA-256. An account made by the provider
 * has no usable password (an unusable marker in `password_hash`; the login refuses linked accounts).
 */
import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

export async function up(db: AnyDb, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('oidc_logins')
    .addColumn('state_hash', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('browser_hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('nonce', 'text', (c) => c.notNull())
    .addColumn('code_verifier', 'text', (c) => c.notNull())
    .addColumn('return_to', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('oidc_logins_expiry').on('oidc_logins').column('expires_at').execute();
  await db.schema
    .createTable('oidc_codes')
    .addColumn('code_hash', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .execute();
  await db.schema.createIndex('oidc_codes_expiry').on('oidc_codes').column('expires_at').execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable('oidc_codes').execute();
  await db.schema.dropTable('oidc_logins').execute();
}

/**
 * WebAuthn (docs/privacy.md): enrolled credentials, single-use challenges, verification verdicts, and the
 * course policy column for device-bound keys. Nothing here can hold biometric data: the server
 * only ever sees public keys, counters, flags and signatures.
 */
import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

export async function up(db: AnyDb, _dialect: Dialect): Promise<void> {
  await db.schema.alterTable('courses').addColumn('require_device_bound', 'integer', (c) => c.notNull().defaultTo(0)).execute();

  await db.schema
    .createTable('webauthn_credentials')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    // Credential IDs are at most 1023 bytes (WebAuthn L2 §5.8.3), i.e. 1364 base64url characters.
    // Unique across all students: one credential can only ever belong to one account.
    .addColumn('credential_id', 'varchar(1400)', (c) => c.notNull().unique())
    .addColumn('student_id', 'varchar(36)', (c) => c.notNull().references('users.id'))
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('counter', 'bigint', (c) => c.notNull())
    .addColumn('aaguid', 'varchar(36)', (c) => c.notNull())
    .addColumn('backup_eligible', 'integer', (c) => c.notNull())
    .addColumn('backed_up', 'integer', (c) => c.notNull())
    .addColumn('transports', 'varchar(200)', (c) => c.notNull())
    .addColumn('device_name', 'varchar(100)')
    .addColumn('status', 'varchar(8)', (c) => c.notNull().check(sql`status in ('active', 'pending', 'revoked')`))
    .addColumn('decided_by', 'varchar(36)')
    .addColumn('decided_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .execute();
  await db.schema.createIndex('webauthn_credentials_student').on('webauthn_credentials').column('student_id').execute();
  await db.schema.createIndex('webauthn_credentials_status').on('webauthn_credentials').column('status').execute();

  await db.schema
    .createTable('webauthn_challenges')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    // SHA-256 of the challenge, hex: the row finds the challenge a client echoes back without the
    // database holding a replayable value.
    .addColumn('challenge_hash', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('purpose', 'varchar(8)', (c) => c.notNull().check(sql`purpose in ('register', 'verify')`))
    .addColumn('student_id', 'varchar(36)', (c) => c.notNull().references('users.id'))
    .addColumn('session_id', 'varchar(36)', (c) => c.references('sessions.id'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .execute();
  await db.schema.createIndex('webauthn_challenges_expires').on('webauthn_challenges').column('expires_at').execute();

  await db.schema
    .createTable('verifications')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('session_id', 'varchar(36)', (c) => c.notNull().references('sessions.id'))
    .addColumn('student_id', 'varchar(36)', (c) => c.notNull().references('users.id'))
    .addColumn('credential_id', 'varchar(36)', (c) => c.notNull().references('webauthn_credentials.id'))
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('uv', 'integer', (c) => c.notNull())
    .addColumn('backed_up', 'integer', (c) => c.notNull())
    .addColumn('counter', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('verifications_session_student').on('verifications').columns(['session_id', 'student_id', 'at']).execute();
}

export async function down(db: AnyDb): Promise<void> {
  for (const t of ['verifications', 'webauthn_challenges', 'webauthn_credentials']) await db.schema.dropTable(t).execute();
  await db.schema.alterTable('courses').dropColumn('require_device_bound').execute();
}

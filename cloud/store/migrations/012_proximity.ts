/**
 * Proof of proximity over GATT (docs/api.md, "Proof of proximity"): the device-bound check-in key
 * enrolled with a passkey, the windows a room's gateway witnessed a phone in, the check-ins the
 * cloud refused, the course policy `require_proximity` and the count of witnessed windows in each
 * attendance record. A check-in key is a public key: nothing stored here is secret.
 */
import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

export async function up(db: AnyDb, dialect: Dialect): Promise<void> {
  // On the credential row, so revoking or erasing the device takes its check-in key with it.
  // SPKI DER of a P-256 key is 91 bytes (122 base64url characters); key_id is 16 bytes, hex.
  await db.schema.alterTable('webauthn_credentials').addColumn('checkin_key', 'varchar(200)').execute();
  await db.schema.alterTable('webauthn_credentials').addColumn('checkin_key_id', 'varchar(32)').execute();
  // Unique among the keys that are set (both backends allow many NULLs under a unique index).
  await db.schema.createIndex('webauthn_credentials_checkin_key_id').on('webauthn_credentials').column('checkin_key_id').unique().execute();

  // Null: on when the session's room has an active gateway that serves the check-in; 1 on; 0 off.
  await db.schema.alterTable('courses').addColumn('require_proximity', 'integer').execute();
  // What the gateway's latest online status said: 1 when it serves the GATT check-in.
  await db.schema.alterTable('gateways').addColumn('checkin_service', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('attendance').addColumn('witnessed_windows', 'integer', (c) => c.notNull().defaultTo(0)).execute();

  await db.schema
    .createTable('witnessed_windows')
    .addColumn('session_id', 'varchar(36)', (c) => c.notNull().references('sessions.id'))
    .addColumn('student_id', 'varchar(36)', (c) => c.notNull().references('users.id'))
    .addColumn('w', 'bigint', (c) => c.notNull())
    .addColumn('key_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('gateway_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('event_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('rssi', 'integer')
    .addColumn('peer', 'varchar(17)', (c) => c.notNull())
    .addColumn('latency_ms', 'bigint', (c) => c.notNull())
    // When the gateway received the write (the envelope's `at`) and when the cloud did.
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('witnessed_windows_pk', ['session_id', 'student_id', 'w'])
    .execute();
  await db.schema.createIndex('witnessed_windows_key').on('witnessed_windows').columns(['key_id', 'at']).execute();

  await db.schema
    .createTable('checkin_refusals')
    .addColumn('id', 'integer', (c) => dialect.identity(c))
    .addColumn('event_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('gateway_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('session_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('key_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('w', 'bigint', (c) => c.notNull())
    .addColumn('reason', 'varchar(32)', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('checkin_refusals_session').on('checkin_refusals').column('session_id').execute();
}

export async function down(db: AnyDb): Promise<void> {
  for (const t of ['checkin_refusals', 'witnessed_windows']) await db.schema.dropTable(t).execute();
  await db.schema.alterTable('attendance').dropColumn('witnessed_windows').execute();
  await db.schema.alterTable('courses').dropColumn('require_proximity').execute();
  await db.schema.alterTable('gateways').dropColumn('checkin_service').execute();
  await db.schema.dropIndex('webauthn_credentials_checkin_key_id').execute();
  await db.schema.alterTable('webauthn_credentials').dropColumn('checkin_key_id').execute();
  await db.schema.alterTable('webauthn_credentials').dropColumn('checkin_key').execute();
}

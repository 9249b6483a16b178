/**
 * Gateways and the MQTT bridge (docs/operations.md): provisioned gateways with their credential hash and
 * last reported state, one-time provisioning codes, the cloud → gateway command table (the
 * cloud-side outbox), ingested event ids (exactly-once in effect, docs/protocol.md §MQTT), the token log and
 * the courses' recurring timetable slots.
 */
import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

export async function up(db: AnyDb, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('gateways')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('room_id', 'varchar(36)', (c) => c.notNull().references('rooms.id'))
    // sha256 of the 32-byte gateway secret; null until a provisioning code was exchanged.
    .addColumn('secret_hash', 'varchar(64)')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('created_by', 'varchar(36)')
    .addColumn('revoked_at', 'bigint')
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('state_at', 'bigint')
    .addColumn('online_since', 'bigint')
    .addColumn('last_heartbeat_at', 'bigint')
    .addColumn('clock_skew_ms', 'bigint')
    .addColumn('outbox_depth', 'integer')
    .addColumn('version', 'varchar(64)')
    .addColumn('radio', 'varchar(32)')
    .addColumn('uptime_s', 'bigint')
    .addColumn('live_session_id', 'varchar(36)')
    .addColumn('rejected_events', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_rejection', 'varchar(200)')
    .execute();
  // One active gateway per room: re-provisioning revokes the previous one first.
  await db.schema.createIndex('gateways_one_active_per_room').on('gateways').column('room_id').unique().where(sql.ref('revoked_at'), 'is', null).execute();

  await db.schema
    .createTable('gateway_provisioning_codes')
    .addColumn('code_hash', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('gateway_id', 'varchar(64)', (c) => c.notNull().references('gateways.id'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .execute();

  await db.schema
    .createTable('gateway_commands')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    // Publication order: commands created in the same millisecond must still go out in order.
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('room_id', 'varchar(36)', (c) => c.notNull().references('rooms.id'))
    .addColumn('type', 'varchar(32)', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('session_id', 'varchar(36)')
    .addColumn('state', 'varchar(16)', (c) => c.notNull().check(sql`state in ('pending', 'confirmed', 'failed', 'cancelled')`))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('sent_at', 'bigint')
    .addColumn('sent_to', 'varchar(64)')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('result_at', 'bigint')
    .addColumn('error_code', 'varchar(64)')
    .addColumn('error_message', 'varchar(500)')
    .execute();
  await db.schema.createIndex('gateway_commands_room_state').on('gateway_commands').columns(['room_id', 'state', 'seq']).execute();
  await db.schema.createIndex('gateway_commands_session').on('gateway_commands').columns(['session_id', 'type']).execute();

  await db.schema
    .createTable('ingested_events')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('gateway_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('type', 'varchar(32)', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('token_log')
    .addColumn('session_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('w', 'bigint', (c) => c.notNull())
    .addColumn('advertised_at', 'bigint', (c) => c.notNull())
    .addColumn('gateway_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('token_log_pk', ['session_id', 'w', 'advertised_at'])
    .execute();

  await db.schema
    .createTable('course_slots')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('course_id', 'varchar(36)', (c) => c.notNull().references('courses.id'))
    .addColumn('room_id', 'varchar(36)', (c) => c.notNull().references('rooms.id'))
    .addColumn('weekday', 'integer', (c) => c.notNull().check(sql`weekday between 0 and 6`))
    .addColumn('start_time', 'varchar(5)', (c) => c.notNull())
    .addColumn('end_time', 'varchar(5)', (c) => c.notNull())
    .addColumn('period_s', 'integer')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('course_slots_room').on('course_slots').column('room_id').execute();
  await db.schema.createIndex('course_slots_course').on('course_slots').column('course_id').execute();
}

export async function down(db: AnyDb): Promise<void> {
  for (const t of ['course_slots', 'token_log', 'ingested_events', 'gateway_commands', 'gateway_provisioning_codes', 'gateways']) {
    await db.schema.dropTable(t).execute();
  }
}

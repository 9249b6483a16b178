/** Core tables: accounts, terms, courses, rooms, sessions, submissions, attendance, audit. */
import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

// Migrations are written against Kysely<any>: they describe the schema at their own point in time.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

export async function up(db: AnyDb, dialect: Dialect): Promise<void> {
  const float = dialect.floatType;
  await db.schema
    .createTable('users')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('email', 'varchar(254)', (c) => c.notNull().unique())
    .addColumn('full_name', 'varchar(200)', (c) => c.notNull())
    .addColumn('role', 'varchar(16)', (c) => c.notNull().check(sql`role in ('student', 'teacher', 'admin')`))
    .addColumn('password_hash', 'varchar(255)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('terms')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('name', 'varchar(100)', (c) => c.notNull().unique())
    .addColumn('starts_on', 'varchar(10)', (c) => c.notNull())
    .addColumn('ends_on', 'varchar(10)', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('courses')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('code', 'varchar(32)', (c) => c.notNull().unique())
    .addColumn('name', 'varchar(200)', (c) => c.notNull())
    .addColumn('teacher_id', 'varchar(36)', (c) => c.notNull().references('users.id'))
    .addColumn('term_id', 'varchar(36)', (c) => c.references('terms.id'))
    .addColumn('min_presence', float, (c) => c.notNull())
    .addColumn('late_after_s', 'integer', (c) => c.notNull())
    .addColumn('require_biometric', 'integer', (c) => c.notNull())
    .addColumn('min_attendance_pct', float, (c) => c.notNull())
    .addColumn('grace_s', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('courses_teacher').on('courses').column('teacher_id').execute();

  await db.schema
    .createTable('enrollments')
    .addColumn('course_id', 'varchar(36)', (c) => c.notNull().references('courses.id'))
    .addColumn('student_id', 'varchar(36)', (c) => c.notNull().references('users.id'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('enrollments_pk', ['course_id', 'student_id'])
    .execute();
  await db.schema.createIndex('enrollments_student').on('enrollments').column('student_id').execute();

  await db.schema
    .createTable('rooms')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('name', 'varchar(100)', (c) => c.notNull().unique())
    .addColumn('room_code', 'bigint', (c) => c.notNull().unique())
    .addColumn('secret', 'varchar(64)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('sessions')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('course_id', 'varchar(36)', (c) => c.notNull().references('courses.id'))
    .addColumn('room_id', 'varchar(36)', (c) => c.notNull().references('rooms.id'))
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('ended_at', 'bigint')
    .addColumn('period_s', 'integer', (c) => c.notNull())
    .addColumn('source', 'varchar(16)', (c) => c.notNull())
    .addColumn('state', 'varchar(8)', (c) => c.notNull().check(sql`state in ('live', 'ended')`))
    .addColumn('started_by', 'varchar(36)')
    .execute();
  // One live session per room, enforced by the database so two concurrent starts cannot both win.
  await db.schema.createIndex('sessions_one_live_per_room').on('sessions').column('room_id').unique().where(sql.ref('state'), '=', 'live').execute();
  await db.schema.createIndex('sessions_course_started').on('sessions').columns(['course_id', 'started_at']).execute();
  await db.schema.createIndex('sessions_started').on('sessions').column('started_at').execute();

  await db.schema
    .createTable('submissions')
    .addColumn('session_id', 'varchar(36)', (c) => c.notNull().references('sessions.id'))
    .addColumn('student_id', 'varchar(36)', (c) => c.notNull().references('users.id'))
    .addColumn('w', 'bigint', (c) => c.notNull())
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .addColumn('rssi', 'integer')
    .addColumn('via', 'varchar(16)', (c) => c.notNull())
    .addPrimaryKeyConstraint('submissions_pk', ['session_id', 'student_id', 'w'])
    .execute();

  await db.schema
    .createTable('attendance')
    .addColumn('session_id', 'varchar(36)', (c) => c.notNull().references('sessions.id'))
    .addColumn('student_id', 'varchar(36)', (c) => c.notNull().references('users.id'))
    .addColumn('status', 'varchar(8)', (c) => c.notNull())
    .addColumn('presence', float, (c) => c.notNull())
    .addColumn('windows_seen', 'integer', (c) => c.notNull())
    .addColumn('windows_total', 'integer', (c) => c.notNull())
    .addColumn('first_seen', 'bigint')
    .addColumn('last_seen', 'bigint')
    .addColumn('verified', 'integer', (c) => c.notNull())
    .addColumn('reasons', 'varchar(200)', (c) => c.notNull())
    .addColumn('decided_at', 'bigint', (c) => c.notNull())
    .addColumn('override_status', 'varchar(8)')
    .addColumn('override_reason', 'varchar(500)')
    .addColumn('override_by', 'varchar(36)')
    .addColumn('override_at', 'bigint')
    .addPrimaryKeyConstraint('attendance_pk', ['session_id', 'student_id'])
    .execute();
  await db.schema.createIndex('attendance_student').on('attendance').column('student_id').execute();

  await db.schema
    .createTable('audit_log')
    .addColumn('id', 'integer', (c) => dialect.identity(c))
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('actor_id', 'varchar(36)')
    .addColumn('action', 'varchar(64)', (c) => c.notNull())
    .addColumn('target', 'varchar(200)', (c) => c.notNull())
    .addColumn('details', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  for (const t of ['audit_log', 'attendance', 'submissions', 'sessions', 'rooms', 'enrollments', 'courses', 'terms', 'users']) {
    await db.schema.dropTable(t).execute();
  }
}

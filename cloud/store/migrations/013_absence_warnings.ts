/**
 * Absence warnings (docs/operations.md, "Absence warnings"): per course, the thresholds its
 * teacher set (an attendance percentage to stay at or above, a number of absences in a row), and
 * each crossing the warning job found, with when the student's mail and the teacher's digest
 * were accepted by the mail server. A crossing is deleted when the student is back on the right
 * side of the threshold, so a later fall warns again. Nothing here is secret.
 */
import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

export async function up(db: AnyDb, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('absence_warning_settings')
    .addColumn('course_id', 'varchar(36)', (c) => c.primaryKey().references('courses.id'))
    // Null: that rule is off.
    .addColumn('min_percent', 'integer')
    .addColumn('max_consecutive', 'integer')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_by', 'varchar(36)', (c) => c.notNull().references('users.id'))
    .execute();

  await db.schema
    .createTable('absence_warnings')
    .addColumn('course_id', 'varchar(36)', (c) => c.notNull().references('courses.id'))
    .addColumn('student_id', 'varchar(36)', (c) => c.notNull().references('users.id'))
    // 'percentage' or 'consecutive'.
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    // The percentage, or the number of absences in a row, when the crossing was found.
    .addColumn('value', dialect.floatType, (c) => c.notNull())
    .addColumn('crossed_at', 'bigint', (c) => c.notNull())
    .addColumn('student_mailed_at', 'bigint')
    .addColumn('teacher_mailed_at', 'bigint')
    .addPrimaryKeyConstraint('absence_warnings_pk', ['course_id', 'student_id', 'kind'])
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable('absence_warnings').execute();
  await db.schema.dropTable('absence_warning_settings').execute();
}

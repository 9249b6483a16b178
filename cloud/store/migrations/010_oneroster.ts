/**
 * Rosters imported from the student information system (docs/operations.md, "Rosters from the
 * student information system"): the OneRoster sourcedId of a term (academic session), of a course
 * (a OneRoster class) and of an enrolment, by which the next import finds each again. Rows made in
 * the cloud keep a null sourced_id and are never touched by an import.
 */
import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

const TABLES = ['terms', 'courses', 'enrollments'] as const;

export async function up(db: AnyDb, _dialect: Dialect): Promise<void> {
  for (const table of TABLES) {
    await db.schema.alterTable(table).addColumn('sourced_id', 'text').execute();
    await db.schema.createIndex(`${table}_sourced_id`).unique().on(table).column('sourced_id').execute();
  }
}

export async function down(db: AnyDb): Promise<void> {
  for (const table of TABLES) {
    await db.schema.dropIndex(`${table}_sourced_id`).execute();
    await db.schema.alterTable(table).dropColumn('sourced_id').execute();
  }
}

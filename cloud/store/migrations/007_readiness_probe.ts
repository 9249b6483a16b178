/**
 * One row that readiness rewrites (GET /readyz, docs/operations.md "Readiness"): a committed write
 * is the only proof that the database still takes writes — a full disk or a read-only file lets
 * every read through while every write fails.
 */
import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

export async function up(db: AnyDb, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('readiness_probe')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('written_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.insertInto('readiness_probe').values({ id: 1, written_at: 0 }).execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable('readiness_probe').execute();
}

/**
 * Drops the cloud's token log. Ingest wrote a row for every `token.rotated` event but nothing ever
 * read them: the gateway records what it advertised itself (docs/gateway.md), and the
 * cloud still validates each `token.rotated` and records its id in `ingested_events`.
 */
import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

export async function up(db: AnyDb, _dialect: Dialect): Promise<void> {
  await db.schema.dropTable('token_log').ifExists().execute();
}

/** Recreates the table as 002_gateways made it (empty: its rows are gone). */
export async function down(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('token_log')
    .addColumn('session_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('w', 'bigint', (c) => c.notNull())
    .addColumn('advertised_at', 'bigint', (c) => c.notNull())
    .addColumn('gateway_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('token_log_pk', ['session_id', 'w', 'advertised_at'])
    .execute();
}

/**
 * PostgreSQL for bench/analytics.ts (`--database postgres://…`): the faculty data is generated
 * into SQLite as always (analytics-data.ts), then copied into a fresh, migrated schema of that
 * PostgreSQL database with multi-row inserts, so both backends measure the same rows.
 */
import type SqliteDatabase from 'better-sqlite3';
import pg from 'pg';

/** The tables analytics-data.ts writes, parents first (foreign keys). */
const TABLES = ['terms', 'users', 'rooms', 'courses', 'enrollments', 'sessions', 'attendance'] as const;
/** PostgreSQL takes at most 65,535 parameters per statement. */
const MAX_PARAMS = 60_000;

/** Copies every row of the generated tables from `native` into the schema `url` names, then ANALYZE. */
export async function copyToPostgres(native: SqliteDatabase.Database, url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('begin');
    for (const table of TABLES) {
      const stmt = native.prepare(`select * from ${table}`).raw(true);
      const columns = stmt.columns().map((c) => c.name);
      const perInsert = Math.floor(MAX_PARAMS / columns.length);
      let rows: unknown[][] = [];
      const flush = async () => {
        if (!rows.length) return;
        const values = rows.map((_, r) => `(${columns.map((_c, k) => `$${r * columns.length + k + 1}`).join(', ')})`).join(', ');
        await client.query(`insert into ${table} (${columns.join(', ')}) values ${values}`, rows.flat());
        rows = [];
      };
      for (const row of stmt.iterate() as Iterable<unknown[]>) {
        rows.push(row);
        if (rows.length >= perInsert) await flush();
      }
      await flush();
    }
    await client.query('commit');
    await client.query('analyze');
  } finally {
    await client.end();
  }
}

/** PostgreSQL's plan for a compiled query, on one line. */
export async function explainPostgres(url: string, compiled: { sql: string; parameters: readonly unknown[] }): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const res = await client.query<{ 'QUERY PLAN': string }>(`explain ${compiled.sql}`, [...compiled.parameters]);
    return res.rows.map((r) => r['QUERY PLAN'].trim()).join(' | ');
  } finally {
    await client.end();
  }
}

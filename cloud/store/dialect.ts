/**
 * The few places where SQLite and PostgreSQL differ, kept in one module so the rest of the
 * store is portable SQL through Kysely: column types, identity columns, job locks.
 * Upserts and insert-or-ignore use `onConflict`, which Kysely compiles for both.
 */
import { sql, type ColumnDefinitionBuilder, type Kysely } from 'kysely';

export type DialectKind = 'sqlite' | 'postgres';

export interface Dialect {
  kind: DialectKind;
  /** Column type for fractional numbers (float8 on PostgreSQL: `real` there is only 4 bytes). */
  floatType: 'real' | 'double precision';
  /** An auto-incrementing integer primary key. */
  identity(col: ColumnDefinitionBuilder): ColumnDefinitionBuilder;
  /**
   * Runs `fn` only if no other instance holds the named job lock (PostgreSQL advisory lock;
   * SQLite has one process, so it always runs). Returns whether it ran.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any database schema
  withJobLock<T>(db: Kysely<any>, name: string, fn: () => Promise<T>): Promise<{ ran: boolean; result?: T }>;
}

/** Stable 31-bit hash of a lock name for pg_try_advisory_lock. */
function lockKey(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h & 0x7fffffff;
}

export function dialectFor(kind: DialectKind): Dialect {
  if (kind === 'sqlite') {
    return {
      kind,
      floatType: 'real',
      identity: (c) => c.primaryKey().autoIncrement(),
      withJobLock: async (_db, _name, fn) => ({ ran: true, result: await fn() }),
    };
  }
  return {
    kind,
    floatType: 'double precision',
    identity: (c) => c.primaryKey().generatedByDefaultAsIdentity(),
    withJobLock: async (db, name, fn) => {
      // A transaction-scoped advisory lock is released by COMMIT even if this process dies.
      return db.transaction().execute(async (trx) => {
        const key = lockKey(name);
        const got = await sql<{ locked: boolean }>`select pg_try_advisory_xact_lock(${key}) as locked`.execute(trx);
        if (!got.rows[0]?.locked) return { ran: false };
        return { ran: true, result: await fn() };
      });
    },
  };
}

/**
 * Synchronous access to the SQLite connection behind a Kysely instance, for the submission hot
 * path (cloud/store/prepared.ts, cloud/store/submission-writer.ts; bench/README.md, "Submit").
 */
import type SqliteDatabase from 'better-sqlite3';

export interface SqliteSyncHandle {
  prepare(sqlText: string): SqliteDatabase.Statement;
  inTransaction(): boolean;
  /** Runs `fn` in one native transaction (committed when it returns, rolled back if it throws). */
  transaction<T>(fn: () => T): T;
}

const syncHandles = new WeakMap<object, SqliteSyncHandle>();

export function registerSqliteSyncHandle(db: object, handle: SqliteSyncHandle): void {
  syncHandles.set(db, handle);
}

/**
 * The better-sqlite3 connection behind `db` when it is SQLite, else null (also for a Kysely
 * transaction). Only for statements compiled by Kysely itself, and only while no transaction is
 * open: Kysely serialises transactions with a mutex that a direct call would bypass.
 */
export function sqliteSyncHandle(db: object): SqliteSyncHandle | null {
  return syncHandles.get(db) ?? null;
}

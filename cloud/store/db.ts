/**
 * Opens the database named by DATABASE_URL: SQLite (better-sqlite3, WAL) by default, or
 * PostgreSQL (pg pool). The store is the repositories on the pool, plus transactions that hand
 * the same repositories bound to one transaction.
 */
import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect, sql, type SqliteDatabase as SqliteDatabaseLike } from 'kysely';
import type { Database } from './schema.js';
import { dialectFor, type Dialect } from './dialect.js';
import { createRepositories, unitOfWork, type Repositories } from './repositories.js';
import { registerSqliteSyncHandle } from './sqlite-sync.js';
import { openPgPool } from './pg-pool.js';

export interface Store extends Repositories {
  readonly dialect: Dialect;
  /** Cheap liveness query for /readyz. */
  ping(): Promise<void>;
  /** Commits one write (the readiness_probe row): fails when the database reads but refuses writes (disk full, read-only). */
  probeWrite(now: number): Promise<void>;
  close(): Promise<void>;
  /** Runs `fn` in one transaction: everything it does through `tx` commits or rolls back together. */
  transaction<T>(fn: (tx: Repositories) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` only if no other cloud instance holds the named job lock (an advisory lock on
   * PostgreSQL; SQLite has one instance, so always).
   */
  withJobLock<T>(name: string, fn: () => Promise<T>): Promise<{ ran: boolean; result?: T }>;
  /** For migrations, tests and benchmarks only; product code goes through the repositories. */
  readonly db: Kysely<Database>;
}

export function sqlitePath(url: string): string | null {
  if (url.startsWith('sqlite:')) return url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
  if (url.startsWith('file:')) return url.slice('file:'.length);
  return null;
}

export function openStore(url: string): Store {
  const file = sqlitePath(url);
  if (file !== null) return openSqlite(file);
  return openPostgres(url);
}

function storeOn(db: Kysely<Database>, dialect: Dialect, ping: () => Promise<void>): Store {
  return {
    ...createRepositories(db),
    db,
    dialect,
    ping,
    probeWrite: async (now) => {
      await sql`update readiness_probe set written_at = ${now} where id = 1`.execute(db);
    },
    close: () => db.destroy(),
    transaction: (fn) => unitOfWork(db, (tx) => fn(tx)),
    withJobLock: (name, fn) => dialect.withJobLock(db, name, fn),
  };
}

/**
 * The database holds room secrets: a directory the cloud creates is 0700 and a database file it
 * creates is 0600, whatever the umask. SQLite gives the -wal and -shm files the mode of the
 * database file, so they are 0600 too. Existing files keep the mode their owner chose.
 */
function createPrivately(file: string): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
  try {
    fs.closeSync(fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

function openSqlite(file: string): Store {
  if (file !== ':memory:') createPrivately(file);
  const native = new SqliteDatabase(file);
  native.pragma('journal_mode = WAL');
  native.pragma('synchronous = NORMAL');
  native.pragma('foreign_keys = ON');
  native.pragma('busy_timeout = 5000');
  const cached = withStatementCache(native);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cached }) });
  registerSqliteSyncHandle(db, {
    prepare: (sqlText) => cached.prepare(sqlText) as SqliteDatabase.Statement,
    inTransaction: () => native.inTransaction,
    transaction: (fn) => native.transaction(fn)(),
  });
  return storeOn(db, dialectFor('sqlite'), async () => {
    native.prepare('select 1').get();
  });
}

/**
 * Kysely prepares every query anew; with better-sqlite3 that compile step costs as much as the
 * query itself. Queries are parameterised, so their SQL text is a good cache key (bounded LRU).
 */
function withStatementCache(native: SqliteDatabase.Database, max = 500): SqliteDatabaseLike {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => native.close(),
    prepare(sqlText: string) {
      let stmt = cache.get(sqlText);
      if (stmt) {
        cache.delete(sqlText);
      } else {
        stmt = native.prepare(sqlText);
        if (cache.size >= max) cache.delete(cache.keys().next().value!);
      }
      cache.set(sqlText, stmt);
      return stmt;
    },
  };
}

// int8 (bigint) columns hold millisecond timestamps and room codes: all fit in a double.
pg.types.setTypeParser(20, (v) => Number(v));

function openPostgres(url: string): Store {
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: openPgPool(url) }) });
  return storeOn(db, dialectFor('postgres'), async () => {
    await sql`select 1`.execute(db);
  });
}

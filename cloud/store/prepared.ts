/**
 * Compile-once queries for the hottest paths. Kysely builds and compiles a query on every call,
 * which costs more than running it on SQLite; here the query is compiled once with sentinel
 * values and each call only fills in the parameters. Sentinels locate each named parameter in
 * the compiled parameter list, so the order never has to be assumed.
 */
import { CompiledQuery, type Compilable, type Kysely, type QueryResult } from 'kysely';
import { sqliteSyncHandle, type SqliteSyncHandle } from './sqlite-sync.js';

const sentinel = (name: string) => `\u0000param:${name}`;

export interface PreparedQuery<K extends string, R> {
  /** Runs the query through Kysely, or synchronously on SQLite when no transaction is open. */
  <DB>(db: Kysely<DB>, values: Record<K, unknown>): Promise<QueryResult<R>>;
  /** Runs it synchronously on an SQLite handle, e.g. inside the caller's own native transaction. */
  runSync<DB>(db: Kysely<DB>, sync: SqliteSyncHandle, values: Record<K, unknown>): QueryResult<R>;
}

export function preparedQuery<K extends string, R>(keys: readonly K[], build: (db: Kysely<never>, p: Record<K, string>) => Compilable<R>): PreparedQuery<K, R> {
  const compiled = new WeakMap<object, { query: CompiledQuery<R>; slots: K[] }>();

  function compiledFor(db: object) {
    let entry = compiled.get(db);
    if (!entry) {
      const params = Object.fromEntries(keys.map((k) => [k, sentinel(k)])) as Record<K, string>;
      const query = build(db as unknown as Kysely<never>, params).compile();
      const slots = query.parameters.map((p) => {
        const key = keys.find((k) => sentinel(k) === p);
        if (!key) throw new Error('prepared query has a parameter that is not one of its named keys');
        return key;
      });
      entry = { query, slots };
      compiled.set(db, entry);
    }
    return entry;
  }

  function runSync<DB>(db: Kysely<DB>, sync: SqliteSyncHandle, values: Record<K, unknown>): QueryResult<R> {
    const { query, slots } = compiledFor(db);
    const stmt = sync.prepare(query.sql);
    const params = slots.map((k) => values[k]);
    if (stmt.reader) return { rows: stmt.all(...params) as R[] };
    const info = stmt.run(...params);
    return { rows: [], numAffectedRows: BigInt(info.changes), insertId: BigInt(info.lastInsertRowid) };
  }

  const run = async <DB>(db: Kysely<DB>, values: Record<K, unknown>): Promise<QueryResult<R>> => {
    // On SQLite, run the statement synchronously when no transaction is open: it skips Kysely's
    // async connection hand-off. Inside a transaction the normal path waits its turn, so a
    // statement never lands in someone else's transaction.
    const sync = sqliteSyncHandle(db);
    if (sync && !sync.inTransaction()) return runSync(db, sync, values);
    const { query, slots } = compiledFor(db);
    return db.executeQuery<R>(CompiledQuery.raw(query.sql, slots.map((k) => values[k])) as CompiledQuery<R>);
  };
  return Object.assign(run, { runSync });
}

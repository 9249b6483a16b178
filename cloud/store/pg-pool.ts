/**
 * The PostgreSQL pool, with bounds on every wait so that a request never hangs on a database that
 * is gone: opening a connection (or waiting for a free one), a statement on the server, and a
 * reply on the wire each have a limit. A connection that breaks while idle is dropped by the pool
 * and the next query opens a new one, so the cloud reconnects by itself once the database is back.
 * Failures to reach the database leave the pool as `DatabaseUnavailableError`.
 */
import pg from 'pg';
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import { DatabaseUnavailableError, isDatabaseUnavailable } from './errors.js';

/** Opening a connection, or waiting for a free one when all are busy. */
export const CONNECT_TIMEOUT_MS = 5_000;
/** The server cancels a statement that runs longer (SQLSTATE 57014). */
export const STATEMENT_TIMEOUT_MS = 15_000;
/** The client gives up on a reply that does not arrive (a link that silently drops everything). */
export const QUERY_TIMEOUT_MS = 20_000;

function translated(err: unknown): unknown {
  return isDatabaseUnavailable(err) ? new DatabaseUnavailableError(err) : err;
}

export function openPgPool(url: string): PostgresPool {
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    query_timeout: QUERY_TIMEOUT_MS,
    keepAlive: true,
  });
  // An idle connection that breaks is removed from the pool; without a listener the 'error' event
  // would be thrown and end the process.
  pool.on('error', () => {});
  return {
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect().catch((err: unknown) => {
        throw translated(err);
      });
      let broken = false;
      return {
        // Kysely sends text and parameters (no cursor is configured, so never a cursor).
        query: (async (text: string, params: readonly unknown[]) => {
          try {
            return await client.query(text, [...params]);
          } catch (err) {
            const out = translated(err);
            broken ||= out instanceof DatabaseUnavailableError;
            throw out;
          }
        }) as unknown as PostgresPoolClient['query'],
        // A connection that failed for want of the database (a reply that never came among them)
        // is closed, never handed out again.
        release: (destroy?: boolean) => client.release(destroy || broken),
      };
    },
    end: () => pool.end(),
  };
}

/** Constraint errors of both backends, recognised in one place for every repository. */

/** A unique-key violation: SQLite's SQLITE_CONSTRAINT_UNIQUE/PRIMARYKEY, PostgreSQL's 23505. */
export function isUniqueViolation(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/**
 * The database cannot be reached right now: a transient condition, not a bug. The PostgreSQL pool
 * (`pg-pool.ts`) throws it in place of the driver's error, which stays its `cause`; the API answers
 * it with 503 and Retry-After.
 */
export class DatabaseUnavailableError extends Error {
  constructor(cause: unknown) {
    super('database unavailable', { cause });
    this.name = 'DatabaseUnavailableError';
  }
}

/** Socket-level errors of a database connection that is gone or cannot be opened. */
const CONNECTION_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** pg's own messages when a connection breaks, times out or cannot be checked out of the pool. */
const CONNECTION_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Client was closed and is not queryable)/;

/**
 * A driver error that means the database cannot be reached right now: the connection was
 * refused, reset or timed out, PostgreSQL is shutting down or starting (SQLSTATE class 08, 57P01–
 * 57P03), out of connections (53300), or cancelled the statement at `statement_timeout` (57014).
 */
export function isDatabaseUnavailable(e: unknown): boolean {
  if (e instanceof AggregateError) return e.errors.some(isDatabaseUnavailable);
  const { code, message } = (e ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (CONNECTION_ERRNOS.has(code) || code.startsWith('08') || /^57P0[123]$/.test(code) || code === '53300' || code === '57014')) return true;
  return typeof message === 'string' && CONNECTION_MESSAGES.test(message);
}

/**
 * Opens the gateway database. A file that is not a SQLite database (or is corrupt, or was written
 * by a newer version) is never moved, truncated or recreated: the daemon stops with a message
 * saying which file and what to do, and exits with EXIT_CONFIG so systemd does not restart it in
 * a loop (RestartPreventExitStatus in systemd/attendance-gateway.service).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { StoreOpenError } from './errors.js';
import { migrate } from './migrations.js';

export { StoreOpenError };

export type Db = Database.Database;

function sqliteCode(err: unknown): string | undefined {
  return typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : undefined;
}

export interface OpenOptions {
  readonly?: boolean;
}

export function openDatabase(path: string, opts: OpenOptions = {}): Db {
  let db: Db;
  try {
    if (!opts.readonly && path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    db = new Database(path, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  } catch (err) {
    throw new StoreOpenError(`cannot open database ${path}: ${(err as Error).message}`, 'cannot_open');
  }
  try {
    // The first statement reads the header: this is where a non-database file is detected.
    db.pragma('busy_timeout = 5000');
    if (!opts.readonly) {
      db.pragma('journal_mode = WAL');
      // NORMAL in WAL mode: a power cut may lose the last transactions but never corrupts the file;
      // the outbox tolerates that (the cloud deduplicates, at-least-once).
      db.pragma('synchronous = NORMAL');
      // better-sqlite3 builds with a 16 MB page cache; this database is tiny and a Pi's RAM is
      // not, so 2 MB (measured: keeps the daemon's RSS flat, bench/README.md "Gateway").
      db.pragma('cache_size = -2000');
      db.pragma('foreign_keys = ON');
      migrate(db);
    } else {
      db.prepare('SELECT count(*) FROM sqlite_master').get();
    }
    return db;
  } catch (err) {
    db.close();
    const code = sqliteCode(err);
    if (code === 'SQLITE_NOTADB') {
      throw new StoreOpenError(
        `database ${path} is not a SQLite database; it was left untouched. Move it aside (or restore a backup) and start again`,
        'not_a_database',
      );
    }
    if (code === 'SQLITE_CORRUPT') {
      throw new StoreOpenError(`database ${path} is corrupt; it was left untouched. Copy it for analysis, move it aside and start again`, 'corrupt');
    }
    if (err instanceof StoreOpenError) throw err;
    throw new StoreOpenError(`cannot open database ${path}: ${(err as Error).message}`, 'cannot_open');
  }
}

/**
 * Schema migrations, numbered by SQLite's user_version. Each runs in one transaction with its
 * version bump, so a power cut leaves either the old or the new schema. Times are unix ms.
 */
import type Database from 'better-sqlite3';
import { StoreOpenError } from './errors.js';

const MIGRATIONS: readonly string[] = [
  // 1: the initial schema.
  `
  CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    course_id TEXT,
    period_s INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    ends_at INTEGER,
    ended_at INTEGER,
    end_reason TEXT,
    source TEXT NOT NULL
  );
  -- At most one live session per room: the partial unique index makes a second one impossible.
  CREATE UNIQUE INDEX sessions_one_live ON sessions ((1)) WHERE ended_at IS NULL;

  CREATE TABLE token_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL REFERENCES sessions(id),
    w INTEGER NOT NULL,
    token TEXT NOT NULL,
    advertised_from INTEGER NOT NULL,
    advertised_to INTEGER
  );
  CREATE INDEX token_log_session ON token_log (session_id, w);

  CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    topic TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );

  CREATE TABLE processed_commands (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    result TEXT NOT NULL,
    processed_at INTEGER NOT NULL
  );

  CREATE TABLE kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  // 2: finding the open token-log row must not scan a log that grows for years.
  `
  CREATE INDEX token_log_open ON token_log (id) WHERE advertised_to IS NULL;
  `,
  // 3: the table is named for what it holds (the cloud has an unrelated table once called token_log).
  // RENAME keeps the rows; SQLite cannot rename an index, so those are rebuilt.
  `
  ALTER TABLE token_log RENAME TO advertised_windows;
  DROP INDEX token_log_session;
  DROP INDEX token_log_open;
  CREATE INDEX advertised_windows_session ON advertised_windows (session_id, w);
  CREATE INDEX advertised_windows_open ON advertised_windows (id) WHERE advertised_to IS NULL;
  `,
  // 4: the check-in keys the cloud sent for a session (checkin_keys.set, gateway/checkin-keys.ts):
  // the set in use (a row in checkin_key_sets, even for an empty set) and the parts of a set still
  // arriving. All three are emptied for a session when it ends.
  `
  CREATE TABLE checkin_key_sets (
    session_id TEXT PRIMARY KEY REFERENCES sessions(id),
    digest TEXT NOT NULL,
    received_at INTEGER NOT NULL
  );
  CREATE TABLE checkin_keys (
    session_id TEXT NOT NULL REFERENCES checkin_key_sets(session_id),
    key_id TEXT NOT NULL,
    spki TEXT NOT NULL,
    PRIMARY KEY (session_id, key_id)
  ) WITHOUT ROWID;
  CREATE TABLE checkin_key_parts (
    session_id TEXT NOT NULL REFERENCES sessions(id),
    digest TEXT NOT NULL,
    part INTEGER NOT NULL,
    parts INTEGER NOT NULL,
    keys TEXT NOT NULL,
    PRIMARY KEY (session_id, digest, part)
  ) WITHOUT ROWID;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    // Written by a newer release: running old code on it could misread or damage it.
    throw new StoreOpenError(`database schema version ${current} is newer than this release supports (${SCHEMA_VERSION}); upgrade the gateway`, 'newer_schema');
  }
  for (let v = current; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

import { readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayEvents } from '../../gateway/events.js';
import { SessionManager } from '../../gateway/sessions.js';
import { StoreOpenError } from '../../gateway/store/errors.js';
import { SCHEMA_VERSION } from '../../gateway/store/migrations.js';
import { openStore } from '../../gateway/store/store.js';
import { memoryLogger } from '../fakes/memory-logger.js';
import { ROOM_CODE, SESSION_ID, outboxEvents, tempDir } from './classroom.js';

const T0 = Date.parse('2026-01-01T08:00:00Z');

describe('gateway store', () => {
  const dirs: Array<() => void> = [];
  afterEach(() => dirs.splice(0).forEach((c) => c()));

  function fileStore() {
    const { dir, cleanup } = tempDir();
    dirs.push(cleanup);
    const path = join(dir, 'state', 'gateway.db');
    return { path, dir, store: openStore(path, 'room-101', 'att/v1') };
  }

  it('creates the schema in WAL mode and records its version', () => {
    const { store } = fileStore();
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    store.close();
  });

  it('keeps a started session and its session.started event together across a reopen', () => {
    const { path, store } = fileStore();
    const sessions = new SessionManager({ store, events: new GatewayEvents(memoryLogger().log), roomCode: ROOM_CODE, log: memoryLogger().log });
    sessions.start({ id: SESSION_ID, courseId: 'CS101', periodS: 300, endsAt: null, source: 'cloud' }, T0);
    store.close();
    const again = openStore(path, 'room-101', 'att/v1');
    expect(again.sessions.live()?.id).toBe(SESSION_ID);
    const events = outboxEvents(again);
    expect(events.map((e) => e.type)).toEqual(['session.started']);
    expect(events[0]!.data).toMatchObject({ session_id: SESSION_ID, room_code: ROOM_CODE, course_id: 'CS101', source: 'cloud' });
    again.close();
  });

  it('rolls back the state change when its event cannot be written (nothing half-done)', () => {
    const { store } = fileStore();
    expect(() =>
      store.transaction(() => {
        store.sessions.insert({ id: SESSION_ID, courseId: null, periodS: 300, startedAt: T0, endsAt: null, source: 'gateway' });
        // An event that violates the contract schema throws inside the transaction.
        store.outbox.append('token.rotated', { session_id: 'not-a-uuid', w: 1, advertised_at: 'x' }, T0);
      }),
    ).toThrow();
    expect(store.sessions.live()).toBeNull();
    expect(store.outbox.depth()).toBe(0);
    store.close();
  });

  it('allows one live session per room: a new start replaces the old one, reported as such', () => {
    const { store } = fileStore();
    const sessions = new SessionManager({ store, events: new GatewayEvents(memoryLogger().log), roomCode: ROOM_CODE, log: memoryLogger().log });
    const second = '0192f3a0-7c00-7000-8000-000000000002';
    sessions.start({ id: SESSION_ID, courseId: 'CS101', periodS: 300, endsAt: null, source: 'cloud' }, T0);
    sessions.start({ id: second, courseId: 'CS102', periodS: 300, endsAt: null, source: 'cloud' }, T0 + 1000);
    expect(store.sessions.live()?.id).toBe(second);
    expect(store.sessions.get(SESSION_ID)).toMatchObject({ endedAt: T0 + 1000, endReason: 'replaced' });
    expect(outboxEvents(store).map((e) => [e.type, e.data.session_id])).toEqual([
      ['session.started', SESSION_ID],
      ['session.ended', SESSION_ID],
      ['session.started', second],
    ]);
    // The database itself refuses a second live row, whatever the code does.
    expect(() => store.sessions.insert({ id: '0192f3a0-7c00-7000-8000-000000000003', courseId: null, periodS: 300, startedAt: T0, endsAt: null, source: 'gateway' })).toThrow(
      /UNIQUE/,
    );
    store.close();
  });

  it('refuses a file that is not a database with a clear message and leaves it untouched', () => {
    const { dir, cleanup } = tempDir();
    dirs.push(cleanup);
    const path = join(dir, 'gateway.db');
    const junk = 'these are the minutes of the staff meeting, not a database\n'.repeat(100);
    writeFileSync(path, junk);
    let error: unknown;
    try {
      openStore(path, 'room-101', 'att/v1');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(StoreOpenError);
    expect((error as StoreOpenError).code).toBe('not_a_database');
    expect((error as Error).message).toBe(`database ${path} is not a SQLite database; it was left untouched. Move it aside (or restore a backup) and start again`);
    expect(readFileSync(path, 'utf8')).toBe(junk);
    expect(readdirSync(dir)).toEqual(['gateway.db']);
  });

  it('refuses a database written by a newer release instead of guessing', () => {
    const { dir, cleanup } = tempDir();
    dirs.push(cleanup);
    const path = join(dir, 'gateway.db');
    const db = new Database(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => openStore(path, 'room-101', 'att/v1')).toThrow(/schema version .* is newer than this release supports/);
    expect(existsSync(path)).toBe(true);
  });

  it('keeps the rows of a database written before the token log was renamed advertised_windows', () => {
    const { dir, cleanup } = tempDir();
    dirs.push(cleanup);
    const path = join(dir, 'gateway.db');
    // Schema version 2, as the previous release left it.
    const old = new Database(path);
    old.exec(`
      CREATE TABLE sessions (id TEXT PRIMARY KEY, course_id TEXT, period_s INTEGER NOT NULL, started_at INTEGER NOT NULL, ends_at INTEGER, ended_at INTEGER, end_reason TEXT, source TEXT NOT NULL);
      CREATE UNIQUE INDEX sessions_one_live ON sessions ((1)) WHERE ended_at IS NULL;
      CREATE TABLE token_log (id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL REFERENCES sessions(id), w INTEGER NOT NULL, token TEXT NOT NULL, advertised_from INTEGER NOT NULL, advertised_to INTEGER);
      CREATE INDEX token_log_session ON token_log (session_id, w);
      CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, topic TEXT NOT NULL, payload TEXT NOT NULL, created_at INTEGER NOT NULL);
      CREATE TABLE processed_commands (id TEXT PRIMARY KEY, type TEXT NOT NULL, result TEXT NOT NULL, processed_at INTEGER NOT NULL);
      CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE INDEX token_log_open ON token_log (id) WHERE advertised_to IS NULL;
      PRAGMA user_version = 2;
    `);
    old.prepare("INSERT INTO sessions (id, period_s, started_at, source) VALUES (?, 300, ?, 'cloud')").run(SESSION_ID, T0);
    old.prepare('INSERT INTO token_log (session_id, w, token, advertised_from, advertised_to) VALUES (?, ?, ?, ?, ?)').run(SESSION_ID, 1, 'aa'.repeat(8), T0, T0 + 300_000);
    old.prepare('INSERT INTO token_log (session_id, w, token, advertised_from) VALUES (?, ?, ?, ?)').run(SESSION_ID, 2, 'bb'.repeat(8), T0 + 300_000);
    old.close();
    const store = openStore(path, 'room-101', 'att/v1');
    expect(store.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(store.advertisedWindows.forSession(SESSION_ID)).toEqual([
      { sessionId: SESSION_ID, w: 1, token: 'aa'.repeat(8), advertisedFrom: T0, advertisedTo: T0 + 300_000 },
      { sessionId: SESSION_ID, w: 2, token: 'bb'.repeat(8), advertisedFrom: T0 + 300_000, advertisedTo: null },
    ]);
    expect(store.advertisedWindows.current()?.w).toBe(2);
    store.close();
  });

  it('lets a second, read-only connection see committed state while the daemon holds the file (WAL)', () => {
    const { path, store } = fileStore();
    store.transaction(() => store.kv.set('last_sync_at', T0));
    const reader = openStore(path, 'room-101', 'att/v1', { readonly: true });
    expect(reader.kv.get('last_sync_at')).toBe(T0);
    store.transaction(() => store.kv.set('last_sync_at', T0 + 5));
    expect(reader.kv.get('last_sync_at')).toBe(T0 + 5);
    reader.close();
    store.close();
  });
});

describe('gateway store housekeeping', () => {
  it('finds the open advertised-windows row through an index, not a scan of years of history', () => {
    const store = openStore(':memory:', 'room-101', 'att/v1');
    const plan = store.db.prepare('EXPLAIN QUERY PLAN UPDATE advertised_windows SET advertised_to = 1 WHERE advertised_to IS NULL').all() as Array<{ detail: string }>;
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/USING (COVERING )?INDEX advertised_windows_open/);
    store.close();
  });

  it('prunes closed advertised-windows rows and command ids older than the retention, keeping the open row and the sessions', () => {
    const store = openStore(':memory:', 'room-101', 'att/v1');
    const day = 24 * 3600 * 1000;
    store.transaction(() => {
      store.sessions.insert({ id: SESSION_ID, courseId: null, periodS: 300, startedAt: T0, endsAt: null, source: 'gateway' });
      store.advertisedWindows.open(SESSION_ID, 1, 'aa'.repeat(8), T0);
      store.advertisedWindows.closeOpen(T0 + 300_000);
      store.advertisedWindows.open(SESSION_ID, 2, 'bb'.repeat(8), T0 + 300_000);
      store.commands.record('old-command', 'ping', { command_id: 'old-command', ok: true }, T0);
      store.commands.record('new-command', 'ping', { command_id: 'new-command', ok: true }, T0 + 91 * day);
    });
    expect(store.prune(T0 + 91 * day)).toEqual({ advertisedWindows: 1, commands: 1 });
    expect(store.advertisedWindows.forSession(SESSION_ID).map((e) => e.w)).toEqual([2]);
    expect(store.commands.get('old-command')).toBeNull();
    expect(store.commands.get('new-command')).not.toBeNull();
    expect(store.sessions.get(SESSION_ID)).not.toBeNull();
    store.close();
  });
});

describe('after-commit hook', () => {
  function busStore() {
    const logs = memoryLogger();
    const events = new GatewayEvents(logs.log);
    const store = openStore(':memory:', 'room-101', 'att/v1', { events });
    const sessions = new SessionManager({ store, events, roomCode: ROOM_CODE, log: logs.log });
    // What a listener sees when it hears the event: the data must already be committed.
    const heard: Array<{ event: string; live: string | null; depth: number; inTx: boolean }> = [];
    const seen = (event: string) => () => heard.push({ event, live: store.sessions.live()?.id ?? null, depth: store.outbox.depth(), inTx: store.db.inTransaction });
    events.on('session.changed', {}, seen('session.changed'));
    events.on('outbox.appended', {}, seen('outbox.appended'));
    return { store, sessions, heard };
  }

  it('a committed transaction announces each fact once, after the commit, with the data visible', () => {
    const { store, sessions, heard } = busStore();
    const second = '0192f3a0-7c00-7000-8000-000000000002';
    sessions.start({ id: SESSION_ID, courseId: null, periodS: 300, endsAt: null, source: 'cloud' }, T0);
    expect(heard).toEqual([
      { event: 'outbox.appended', live: SESSION_ID, depth: 1, inTx: false },
      { event: 'session.changed', live: SESSION_ID, depth: 1, inTx: false },
    ]);
    heard.length = 0;
    // One transaction ending one session and starting another (three outbox rows): one of each.
    sessions.start({ id: second, courseId: null, periodS: 300, endsAt: null, source: 'cloud' }, T0 + 1000);
    expect(heard).toEqual([
      { event: 'outbox.appended', live: second, depth: 3, inTx: false },
      { event: 'session.changed', live: second, depth: 3, inTx: false },
    ]);
    store.close();
  });

  it('a rolled-back transaction announces nothing', () => {
    const { store, sessions, heard } = busStore();
    expect(() =>
      store.transaction((tx) => {
        sessions.startInTx(tx, { id: SESSION_ID, courseId: null, periodS: 300, endsAt: null, source: 'cloud' }, T0);
        throw new Error('disk full');
      }),
    ).toThrow('disk full');
    expect(store.sessions.live()).toBeNull();
    expect(heard).toEqual([]);
    store.close();
  });

  it('a nested transaction that rolls back drops only its own callbacks; the rest run after the outer commit', () => {
    const { store } = busStore();
    const ran: string[] = [];
    store.transaction((outer) => {
      outer.afterCommit(() => ran.push('outer'));
      expect(() =>
        store.transaction((inner) => {
          inner.afterCommit(() => ran.push('rolled back'));
          throw new Error('no');
        }),
      ).toThrow('no');
      store.transaction((inner) => inner.afterCommit(() => ran.push('inner')));
      expect(ran).toEqual([]);
    });
    expect(ran).toEqual(['outer', 'inner']);
    store.close();
  });
});

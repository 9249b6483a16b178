/**
 * Starting and ending sessions. Every change is one transaction with its session.started /
 * session.ended event; listeners (rotation, status) hear about it only after the commit.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { GatewayStore } from './store/store.js';
import type { EndReason, SessionRecord, SessionSource } from './store/sessions.js';

export class SessionError extends Error {
  constructor(
    readonly code: 'session_already_ended' | 'unknown_session' | 'session_not_live' | 'ends_in_past',
    message: string,
  ) {
    super(message);
    this.name = 'SessionError';
  }
}

export interface StartRequest {
  id: string;
  courseId: string | null;
  periodS: number;
  endsAt: number | null;
  source: SessionSource;
}

export interface SessionManagerDeps {
  store: GatewayStore;
  roomCode: number;
  log: Logger;
}

/** Emits 'changed' (live session or null) after a commit that started or ended a session. */
export class SessionManager extends EventEmitter {
  constructor(private readonly deps: SessionManagerDeps) {
    super();
  }

  live(): SessionRecord | null {
    return this.deps.store.sessions.live();
  }

  /**
   * Starts a session, ending (reason 'replaced') any other live one: a room advertises one session.
   * Must be called inside a store transaction; call notify() after it commits.
   * Starting the session that is already live is a no-op, so a resent command is harmless.
   */
  startInTx(req: StartRequest, nowMs: number): SessionRecord {
    const { store, roomCode } = this.deps;
    const existing = store.sessions.get(req.id);
    if (existing) {
      if (existing.endedAt === null) return existing;
      throw new SessionError('session_already_ended', `session ${req.id} already ended`);
    }
    if (req.endsAt !== null && req.endsAt <= nowMs) {
      throw new SessionError('ends_in_past', `ends_at ${new Date(req.endsAt).toISOString()} is not in the future`);
    }
    const current = store.sessions.live();
    if (current) this.endInTx(current.id, 'replaced', nowMs);
    const record: SessionRecord = { ...req, startedAt: nowMs, endedAt: null, endReason: null };
    store.sessions.insert(record);
    store.outbox.append(
      'session.started',
      {
        session_id: req.id,
        room_code: roomCode,
        course_id: req.courseId,
        period_s: req.periodS,
        started_at: new Date(nowMs).toISOString(),
        ends_at: req.endsAt === null ? null : new Date(req.endsAt).toISOString(),
        source: req.source,
      },
      nowMs,
    );
    return record;
  }

  /** Ends a live session (inside a transaction). Ending an already ended session is a no-op. */
  endInTx(id: string, reason: EndReason, nowMs: number): void {
    const { store } = this.deps;
    const existing = store.sessions.get(id);
    if (!existing) throw new SessionError('unknown_session', `unknown session ${id}`);
    if (existing.endedAt !== null) return;
    // A scheduled end is reported at the time it was due, even when noticed late (suspension).
    const scheduled = (reason === 'scheduled_end' || reason === 'timetable') && existing.endsAt !== null;
    const endedAt = scheduled ? Math.min(nowMs, existing.endsAt!) : nowMs;
    store.sessions.end(id, endedAt, reason);
    store.tokenLog.closeOpen(endedAt);
    store.outbox.append('session.ended', { session_id: id, ended_at: new Date(endedAt).toISOString(), reason }, nowMs);
  }

  /** Ends the live session if its ends_at has passed. Returns true when it ended one. */
  endExpired(nowMs: number): boolean {
    const live = this.live();
    if (!live || live.endsAt === null || live.endsAt > nowMs) return false;
    const reason: EndReason = live.source === 'timetable' ? 'timetable' : 'scheduled_end';
    this.deps.store.transaction(() => this.endInTx(live.id, reason, nowMs));
    this.deps.log.info({ sessionId: live.id, reason }, 'session ended at its scheduled end');
    this.notify();
    return true;
  }

  start(req: StartRequest, nowMs: number): SessionRecord {
    const record = this.deps.store.transaction(() => this.startInTx(req, nowMs));
    this.notify();
    return record;
  }

  end(id: string, reason: EndReason, nowMs: number): void {
    this.deps.store.transaction(() => this.endInTx(id, reason, nowMs));
    this.notify();
  }

  notify(): void {
    this.emit('changed', this.live());
  }
}

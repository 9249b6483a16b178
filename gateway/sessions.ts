/**
 * Starting and ending sessions. Every change is one transaction with its session.started /
 * session.ended outbox event; the bus hears `session.changed` only after the commit. An end
 * also drops the session's check-in keys in that transaction.
 */
import type { Logger } from 'pino';
import type { GatewayEvents } from './events.js';
import type { GatewayStore, Tx } from './store/store.js';
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
  events: GatewayEvents;
  roomCode: number;
  log: Logger;
}

/** Announces `session.changed` (live session or null) after a commit that started or ended a session. */
export class SessionManager {
  constructor(private readonly deps: SessionManagerDeps) {}

  live(): SessionRecord | null {
    return this.deps.store.sessions.live();
  }

  /**
   * Starts a session, ending (reason 'replaced') any other live one: a room advertises one session.
   * Part of the caller's transaction `tx`; `session.changed` follows its commit.
   * Starting the session that is already live is a no-op, so a resent command is harmless.
   */
  startInTx(tx: Tx, req: StartRequest, nowMs: number): SessionRecord {
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
    if (current) this.endInTx(tx, current.id, 'replaced', nowMs);
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
    tx.afterCommit(this.announce);
    return record;
  }

  /** Ends a live session, as part of `tx`. Ending an already ended session is a no-op. */
  endInTx(tx: Tx, id: string, reason: EndReason, nowMs: number): void {
    const { store } = this.deps;
    const existing = store.sessions.get(id);
    if (!existing) throw new SessionError('unknown_session', `unknown session ${id}`);
    if (existing.endedAt !== null) return;
    // A scheduled end is reported at the time it was due, even when noticed late (suspension).
    const scheduled = (reason === 'scheduled_end' || reason === 'timetable') && existing.endsAt !== null;
    const endedAt = scheduled ? Math.min(nowMs, existing.endsAt!) : nowMs;
    store.sessions.end(id, endedAt, reason);
    store.checkinKeys.drop(id); // the session's check-in keys (gateway/checkin-keys.ts) go with it
    store.advertisedWindows.closeOpen(endedAt);
    store.outbox.append('session.ended', { session_id: id, ended_at: new Date(endedAt).toISOString(), reason }, nowMs);
    tx.afterCommit(this.announce);
  }

  /** Ends the live session if its ends_at has passed. Returns true when it ended one. */
  endExpired(nowMs: number): boolean {
    const live = this.live();
    if (!live || live.endsAt === null || live.endsAt > nowMs) return false;
    const reason: EndReason = live.source === 'timetable' ? 'timetable' : 'scheduled_end';
    this.deps.store.transaction((tx) => this.endInTx(tx, live.id, reason, nowMs));
    this.deps.log.info({ sessionId: live.id, reason }, 'session ended at its scheduled end');
    return true;
  }

  start(req: StartRequest, nowMs: number): SessionRecord {
    return this.deps.store.transaction((tx) => this.startInTx(tx, req, nowMs));
  }

  end(id: string, reason: EndReason, nowMs: number): void {
    this.deps.store.transaction((tx) => this.endInTx(tx, id, reason, nowMs));
  }

  /** One function, so that a transaction replacing one session by another announces once. */
  private readonly announce = (): void => this.deps.events.emit('session.changed', this.live());
}

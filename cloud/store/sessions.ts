/**
 * Session lifecycle. One live session per room is enforced by a partial unique index, so two
 * concurrent starts cannot both succeed; ending a session writes every enrolled student's record.
 */
import { sql } from 'kysely';
import { uuidv7 } from '../../shared/ids.js';
import type { Course, Room, Session, SessionSource } from './schema.js';
import type { VerifiedLookup } from './attendance.js';
import { isUniqueViolation } from './errors.js';
import { unitOfWork, type Queryable } from './repositories.js';

export class RoomBusyError extends Error {
  constructor(readonly sessionId: string) {
    super('the room already has a live session');
  }
}

export interface StartSessionInput {
  id?: string;
  course: Course;
  room: Room;
  periodS: number;
  startedAt: number;
  source: SessionSource;
  startedBy: string | null;
}

/** A session with the room and course a submission is checked against. */
export interface SessionForRoom {
  session: Session;
  room: Room;
  course: Course;
}

/** How long after its end a session is still looked at for late tokens (every course's grace is shorter). */
const ENDED_LOOKBACK_MS = 3_600_000;

export interface EndSessionInput {
  session: Session;
  course: Course;
  endedAt: number;
  actorId: string | null;
  verifiedLookup: VerifiedLookup;
}

export class SessionRepository {
  constructor(private readonly db: Queryable) {}

  get(id: string): Promise<Session | undefined> {
    return this.db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
  }

  liveInRoom(roomId: string): Promise<Session | undefined> {
    return this.db.selectFrom('sessions').selectAll().where('room_id', '=', roomId).where('state', '=', 'live').executeTakeFirst();
  }

  /**
   * The session a token for `roomCode` belongs to at `now`: the room's live session, whatever other
   * sessions started after it, or else the last one to end, while its course's grace period lasts
   * (a student who heard the last window just before the end).
   */
  async forRoomCode(roomCode: number, now: number): Promise<SessionForRoom | null> {
    // Room by code and its live (or else latest ended) session in one indexed query, then the course by key.
    const row = await this.db
      .selectFrom('rooms')
      .innerJoin('sessions', 'sessions.room_id', 'rooms.id')
      .select([
        'rooms.id as room_id', 'rooms.name as room_name', 'rooms.room_code', 'rooms.secret', 'rooms.created_at as room_created_at',
        'sessions.id', 'sessions.course_id', 'sessions.started_at', 'sessions.ended_at', 'sessions.period_s', 'sessions.source', 'sessions.state', 'sessions.started_by',
      ])
      .where('rooms.room_code', '=', roomCode)
      .where((eb) => eb.or([eb('sessions.state', '=', 'live'), eb('sessions.ended_at', '>=', now - ENDED_LOOKBACK_MS)]))
      .orderBy(sql`case when sessions.state = 'live' then 0 else 1 end`)
      .orderBy('sessions.ended_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!row) return null;
    const room: Room = { id: row.room_id, name: row.room_name, room_code: row.room_code, secret: row.secret, created_at: row.room_created_at };
    const session: Session = {
      id: row.id, course_id: row.course_id, room_id: row.room_id, started_at: row.started_at, ended_at: row.ended_at,
      period_s: row.period_s, source: row.source, state: row.state, started_by: row.started_by,
    };
    const course = await this.db.selectFrom('courses').selectAll().where('id', '=', row.course_id).executeTakeFirstOrThrow();
    if (session.state === 'ended' && (session.ended_at ?? 0) + course.grace_s * 1000 <= now) return null;
    return { session, room, course };
  }

  /** A course's sessions with their room code, newest first. */
  ofCourse(courseId: string, limit: number): Promise<Array<Session & { room_code: number }>> {
    return this.db.selectFrom('sessions').innerJoin('rooms', 'rooms.id', 'sessions.room_id').selectAll('sessions').select('rooms.room_code')
      .where('course_id', '=', courseId).orderBy('started_at', 'desc').limit(limit).execute();
  }

  /** A course's live sessions with their room name, oldest first. */
  liveOfCourse(courseId: string): Promise<Array<Session & { room_name: string }>> {
    return this.db.selectFrom('sessions').innerJoin('rooms', 'rooms.id', 'sessions.room_id').selectAll('sessions').select('rooms.name as room_name')
      .where('sessions.course_id', '=', courseId).where('sessions.state', '=', 'live').orderBy('sessions.started_at').execute();
  }

  /** Records a live session; throws RoomBusyError when the room already has one. */
  async start(input: StartSessionInput): Promise<Session> {
    const row: Session = {
      id: input.id ?? uuidv7(input.startedAt),
      course_id: input.course.id,
      room_id: input.room.id,
      started_at: input.startedAt,
      ended_at: null,
      period_s: input.periodS,
      source: input.source,
      state: 'live',
      started_by: input.startedBy,
    };
    try {
      await this.db.insertInto('sessions').values(row).execute();
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      const live = await this.liveInRoom(input.room.id);
      throw new RoomBusyError(live?.id ?? '');
    }
    return row;
  }

  /**
   * Ends a live session and records the decision of every enrolled student and the audit row in
   * one transaction. Returns null when the session was not live (already ended by someone else).
   */
  end(input: EndSessionInput): Promise<Session | null> {
    const { session, course, endedAt } = input;
    return unitOfWork(this.db, async (tx, trx) => {
      const res = await trx.updateTable('sessions').set({ state: 'ended', ended_at: endedAt }).where('id', '=', session.id).where('state', '=', 'live').executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1) return null;
      const ended: Session = { ...session, state: 'ended', ended_at: endedAt };
      const entries = await tx.attendance.decide(ended, course, endedAt, input.verifiedLookup(tx, ended));
      await tx.attendance.writeDecisions(session.id, entries, endedAt);
      await tx.audit.record({ at: endedAt, actorId: input.actorId, action: 'session.end', target: session.id, details: { students: entries.length } });
      return ended;
    });
  }
}

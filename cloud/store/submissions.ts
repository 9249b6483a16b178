/**
 * Accepted token submissions. The primary key (session, student, w) makes a replay a no-op, so
 * the same window can never count twice however often it is sent.
 */
import type { Course, Room, Session } from './schema.js';
import type { Queryable } from './repositories.js';
import { createSubmissionWriter, type SubmissionWriter } from './submission-writer.js';

export interface SessionForRoom {
  session: Session;
  room: Room;
  course: Course;
}

export class SubmissionRepository {
  constructor(private readonly db: Queryable) {}

  /** Deletes the raw submissions of sessions that ended before `endedBefore`; returns how many. */
  async purgeEndedBefore(endedBefore: number): Promise<number> {
    const oldSessions = this.db.selectFrom('sessions').select('id').where('state', '=', 'ended').where('ended_at', '<', endedBefore);
    const res = await this.db.deleteFrom('submissions').where('session_id', 'in', oldSessions).executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  /**
   * The session a token for `roomCode` belongs to at `now`: the live one, or one that ended less
   * than its course's grace period ago (a student who heard the last window just before the end).
   */
  async sessionForRoomCode(roomCode: number, now: number): Promise<SessionForRoom | null> {
    // Room by code and its newest live or just-ended session in one indexed query, then the course by key.
    const row = await this.db
      .selectFrom('rooms')
      .innerJoin('sessions', 'sessions.room_id', 'rooms.id')
      .select([
        'rooms.id as room_id', 'rooms.name as room_name', 'rooms.room_code', 'rooms.secret', 'rooms.created_at as room_created_at',
        'sessions.id', 'sessions.course_id', 'sessions.started_at', 'sessions.ended_at', 'sessions.period_s', 'sessions.source', 'sessions.state', 'sessions.started_by',
      ])
      .where('rooms.room_code', '=', roomCode)
      .where((eb) => eb.or([eb('sessions.state', '=', 'live'), eb('sessions.ended_at', '>=', now - 3_600_000)]))
      .orderBy('sessions.started_at', 'desc')
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

  /** A writer that group-commits the submissions of one event-loop turn (on the pool's SQLite). */
  writer(): SubmissionWriter {
    return createSubmissionWriter(this.db);
  }
}

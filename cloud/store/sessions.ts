/**
 * Session lifecycle. One live session per room is enforced by a partial unique index, so two
 * concurrent starts cannot both succeed; ending a session writes every enrolled student's record.
 */
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

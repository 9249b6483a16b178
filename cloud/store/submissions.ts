/**
 * Accepted token submissions. The primary key (session, student, w) makes a replay a no-op, so
 * the same window can never count twice however often it is sent.
 */
import type { Kysely } from 'kysely';
import type { Course, Database, Room, Session } from './schema.js';

export interface SessionForRoom {
  session: Session;
  room: Room;
  course: Course;
}

/**
 * The session a token for `roomCode` belongs to at `now`: the live one, or one that ended less
 * than its course's grace period ago (a student who heard the last window just before the end).
 */
export async function sessionForRoomCode(db: Kysely<Database>, roomCode: number, now: number): Promise<SessionForRoom | null> {
  const room = await db.selectFrom('rooms').selectAll().where('room_code', '=', roomCode).executeTakeFirst();
  if (!room) return null;
  const session = await db
    .selectFrom('sessions')
    .selectAll()
    .where('room_id', '=', room.id)
    .where((eb) => eb.or([eb('state', '=', 'live'), eb('ended_at', '>=', now - 3_600_000)]))
    .orderBy('started_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!session) return null;
  const course = await db.selectFrom('courses').selectAll().where('id', '=', session.course_id).executeTakeFirstOrThrow();
  if (session.state === 'ended' && (session.ended_at ?? 0) + course.grace_s * 1000 <= now) return null;
  return { session, room, course };
}

/** Inserts the submission unless that window was already counted; returns whether it was new. */
export async function recordSubmission(
  db: Kysely<Database>,
  s: { sessionId: string; studentId: string; w: number; receivedAt: number; rssi: number | null; via: string },
): Promise<boolean> {
  const res = await db
    .insertInto('submissions')
    .values({ session_id: s.sessionId, student_id: s.studentId, w: s.w, received_at: s.receivedAt, rssi: s.rssi, via: s.via })
    .onConflict((oc) => oc.columns(['session_id', 'student_id', 'w']).doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0) === 1;
}

export async function windowsSeen(db: Kysely<Database>, sessionId: string, studentId: string): Promise<number> {
  const row = await db
    .selectFrom('submissions')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('session_id', '=', sessionId)
    .where('student_id', '=', studentId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

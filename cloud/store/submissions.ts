/**
 * Accepted token submissions. The primary key (session, student, w) makes a replay a no-op, so
 * the same window can never count twice however often it is sent.
 */
import type { Kysely } from 'kysely';
import type { Course, Database, Room, Session } from './schema.js';
import { preparedQuery } from './prepared.js';

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
  // Room by code and its newest live or just-ended session in one indexed query, then the course by key.
  const row = await db
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
  const course = await db.selectFrom('courses').selectAll().where('id', '=', row.course_id).executeTakeFirstOrThrow();
  if (session.state === 'ended' && (session.ended_at ?? 0) + course.grace_s * 1000 <= now) return null;
  return { session, room, course };
}

export const insertSubmission = preparedQuery(['session_id', 'student_id', 'w', 'received_at', 'rssi', 'via'] as const, (db, p) =>
  (db as unknown as Kysely<Database>)
    .insertInto('submissions')
    .values({ session_id: p.session_id, student_id: p.student_id, w: p.w as unknown as number, received_at: p.received_at as unknown as number, rssi: p.rssi as unknown as number, via: p.via })
    .onConflict((oc) => oc.columns(['session_id', 'student_id', 'w']).doNothing()),
);

export const countWindows = preparedQuery(['session_id', 'student_id'] as const, (db, p) =>
  (db as unknown as Kysely<Database>)
    .selectFrom('submissions')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('session_id', '=', p.session_id)
    .where('student_id', '=', p.student_id),
);

/** Inserts the submission unless that window was already counted; returns whether it was new. */
export async function recordSubmission(
  db: Kysely<Database>,
  s: { sessionId: string; studentId: string; w: number; receivedAt: number; rssi: number | null; via: string },
): Promise<boolean> {
  const res = await insertSubmission(db, { session_id: s.sessionId, student_id: s.studentId, w: s.w, received_at: s.receivedAt, rssi: s.rssi, via: s.via });
  return Number(res.numAffectedRows ?? 0) === 1;
}

export async function windowsSeen(db: Kysely<Database>, sessionId: string, studentId: string): Promise<number> {
  const res = await countWindows(db, { session_id: sessionId, student_id: studentId });
  return Number((res.rows[0] as { n: number | string } | undefined)?.n ?? 0);
}

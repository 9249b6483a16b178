/**
 * Session lifecycle. One live session per room is enforced by a partial unique index, so two
 * concurrent starts cannot both succeed; ending a session writes every enrolled student's record.
 */
import type { Kysely } from 'kysely';
import { uuidv7 } from '../../shared/ids.js';
import type { Course, Database, Room, Session, SessionSource } from './schema.js';
import { decideFromSubmissions, writeAttendance, type VerifiedLookup } from './attendance.js';
import { audit } from './audit.js';

export class RoomBusyError extends Error {
  constructor(readonly sessionId: string) {
    super('the room already has a live session');
  }
}

export function getSession(db: Kysely<Database>, id: string): Promise<Session | undefined> {
  return db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
}

export function liveSessionInRoom(db: Kysely<Database>, roomId: string): Promise<Session | undefined> {
  return db.selectFrom('sessions').selectAll().where('room_id', '=', roomId).where('state', '=', 'live').executeTakeFirst();
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

export async function startSession(db: Kysely<Database>, input: StartSessionInput): Promise<Session> {
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
    await db.insertInto('sessions').values(row).execute();
  } catch (e) {
    if (!/unique|duplicate/i.test(String((e as Error).message))) throw e;
    const live = await liveSessionInRoom(db, input.room.id);
    throw new RoomBusyError(live?.id ?? '');
  }
  return row;
}

/**
 * Ends a live session and records the decision of every enrolled student in one transaction.
 * Returns null when the session was not live (already ended by someone else).
 */
export async function endSession(
  db: Kysely<Database>,
  session: Session,
  course: Course,
  endedAt: number,
  actorId: string | null,
  verifiedLookup: VerifiedLookup,
): Promise<Session | null> {
  return db.transaction().execute(async (trx) => {
    const res = await trx.updateTable('sessions').set({ state: 'ended', ended_at: endedAt }).where('id', '=', session.id).where('state', '=', 'live').executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) return null;
    const ended: Session = { ...session, state: 'ended', ended_at: endedAt };
    const entries = await decideFromSubmissions(trx, ended, course, endedAt, verifiedLookup);
    await writeAttendance(trx, session.id, entries, endedAt);
    await audit(trx, { at: endedAt, actorId, action: 'session.end', target: session.id, details: { students: entries.length } });
    return ended;
  });
}

/**
 * Attendance records: computed provisionally from submissions while a session is live, written
 * for every enrolled student when it ends. Overrides (excused, or any status) survive recomputation.
 */
import type { Kysely, Transaction } from 'kysely';
import { decide, type DecisionReason } from '../domain/policy.js';
import type { AttendanceStatus, Course, Database, NewAttendance, Session } from './schema.js';
import { enrolledStudents, policyOf } from './courses.js';

export interface AttendanceEntry {
  student_id: string;
  email: string;
  full_name: string;
  status: AttendanceStatus;
  decided_status: Exclude<AttendanceStatus, 'excused'>;
  presence: number;
  windows_seen: number;
  windows_total: number;
  first_seen: number | null;
  last_seen: number | null;
  verified: boolean;
  reasons: DecisionReason[];
  override: { status: AttendanceStatus; reason: string; by: string; at: number } | null;
  provisional: boolean;
}

type Db = Kysely<Database> | Transaction<Database>;

/** Hook for the biometric module: which students hold a valid verification for a session. */
export type VerifiedLookup = (db: Db, session: Session) => Promise<Set<string>>;
export const noVerifications: VerifiedLookup = async () => new Set();

/**
 * The attendance of a session as teachers and students see it: decided from the submissions while
 * it is live, read from the stored decisions once it has ended (raw submissions may since have
 * been deleted by the retention job; the decisions are the record).
 */
export async function computeAttendance(db: Db, session: Session, course: Course, now: number, verifiedLookup: VerifiedLookup): Promise<AttendanceEntry[]> {
  if (session.state === 'ended') return storedAttendance(db, session);
  return decideFromSubmissions(db, session, course, now, verifiedLookup);
}

async function storedAttendance(db: Db, session: Session): Promise<AttendanceEntry[]> {
  const rows = await db
    .selectFrom('attendance')
    .innerJoin('users', 'users.id', 'attendance.student_id')
    .selectAll('attendance')
    .select(['users.email', 'users.full_name'])
    .where('attendance.session_id', '=', session.id)
    .orderBy('users.full_name')
    .orderBy('users.id')
    .execute();
  return rows.map((r) => {
    const override = r.override_status ? { status: r.override_status, reason: r.override_reason ?? '', by: r.override_by ?? '', at: r.override_at ?? 0 } : null;
    return {
      student_id: r.student_id,
      email: r.email,
      full_name: r.full_name,
      status: override?.status ?? r.status,
      decided_status: r.status === 'excused' ? 'absent' : r.status,
      presence: r.presence,
      windows_seen: r.windows_seen,
      windows_total: r.windows_total,
      first_seen: r.first_seen,
      last_seen: r.last_seen,
      verified: r.verified === 1,
      reasons: (r.reasons ? r.reasons.split(',') : []) as DecisionReason[],
      override,
      provisional: false,
    };
  });
}

/** Decides every enrolled student's record from the raw submissions (live view and session end). */
export async function decideFromSubmissions(db: Db, session: Session, course: Course, now: number, verifiedLookup: VerifiedLookup): Promise<AttendanceEntry[]> {
  const [students, subs, overrides, verified] = await Promise.all([
    enrolledStudents(db as Kysely<Database>, session.course_id),
    db.selectFrom('submissions').select(['student_id', 'w', 'received_at']).where('session_id', '=', session.id).execute(),
    db.selectFrom('attendance').select(['student_id', 'override_status', 'override_reason', 'override_by', 'override_at']).where('session_id', '=', session.id).where('override_status', 'is not', null).execute(),
    verifiedLookup(db, session),
  ]);
  const byStudent = new Map<string, { windows: number[]; first: number; last: number }>();
  for (const s of subs) {
    const e = byStudent.get(s.student_id) ?? { windows: [], first: s.received_at, last: s.received_at };
    e.windows.push(s.w);
    e.first = Math.min(e.first, s.received_at);
    e.last = Math.max(e.last, s.received_at);
    byStudent.set(s.student_id, e);
  }
  const overrideBy = new Map(overrides.map((o) => [o.student_id, o]));
  const policy = policyOf(course);
  // A live session is judged up to and including the window that contains `now`.
  const until = session.ended_at ?? now + 1;
  return students.map((st) => {
    const seen = byStudent.get(st.id);
    const d = decide({ startedAt: session.started_at, until, periodS: session.period_s, acceptedWindows: seen?.windows ?? [], verified: verified.has(st.id), policy });
    const o = overrideBy.get(st.id);
    const override = o && o.override_status ? { status: o.override_status, reason: o.override_reason ?? '', by: o.override_by ?? '', at: o.override_at ?? 0 } : null;
    return {
      student_id: st.id,
      email: st.email,
      full_name: st.full_name,
      status: override?.status ?? d.status,
      decided_status: d.status,
      presence: d.presence,
      windows_seen: d.windowsSeen,
      windows_total: d.windowsTotal,
      first_seen: seen?.first ?? null,
      last_seen: seen?.last ?? null,
      verified: verified.has(st.id),
      reasons: d.reasons,
      override,
      provisional: session.state === 'live',
    };
  });
}

/** Writes the final decision for every enrolled student (inside the session-end transaction). */
export async function writeAttendance(trx: Transaction<Database>, sessionId: string, entries: AttendanceEntry[], now: number): Promise<void> {
  for (const e of entries) {
    const row: NewAttendance = {
      session_id: sessionId,
      student_id: e.student_id,
      status: e.decided_status,
      presence: e.presence,
      windows_seen: e.windows_seen,
      windows_total: e.windows_total,
      first_seen: e.first_seen,
      last_seen: e.last_seen,
      verified: e.verified ? 1 : 0,
      reasons: e.reasons.join(','),
      decided_at: now,
      override_status: e.override?.status ?? null,
      override_reason: e.override?.reason ?? null,
      override_by: e.override?.by ?? null,
      override_at: e.override?.at ?? null,
    };
    await trx
      .insertInto('attendance')
      .values(row)
      .onConflict((oc) =>
        oc.columns(['session_id', 'student_id']).doUpdateSet({
          status: row.status,
          presence: row.presence,
          windows_seen: row.windows_seen,
          windows_total: row.windows_total,
          first_seen: row.first_seen,
          last_seen: row.last_seen,
          verified: row.verified,
          reasons: row.reasons,
          decided_at: row.decided_at,
        }),
      )
      .execute();
  }
}

/**
 * Attendance records: computed provisionally from submissions and witnessed windows while a
 * session is live, written for every enrolled student when it ends. Overrides (excused, or any
 * status) survive recomputation.
 */
import { decide, type DecisionReason } from '../domain/policy.js';
import type { AttendanceRow, AttendanceStatus, Course, NewAttendance, Session } from './schema.js';
import { CourseRepository, policyOf } from './courses.js';
import { CheckinRepository } from './checkins.js';
import { GatewayRepository } from './gateways.js';
import type { Queryable, Repositories } from './repositories.js';

export interface AttendanceOverride {
  status: AttendanceStatus;
  reason: string;
  by: string;
  at: number;
}

/** A student's record as every reader sees it: the effective status is the override, if any. */
interface RecordView {
  status: AttendanceStatus;
  decided_status: Exclude<AttendanceStatus, 'excused'>;
  verified: boolean;
  reasons: DecisionReason[];
  override: AttendanceOverride | null;
}

export interface AttendanceEntry extends RecordView {
  student_id: string;
  email: string;
  full_name: string;
  presence: number;
  windows_seen: number;
  windows_total: number;
  /** Windows the room's gateway witnessed the student in (docs/api.md, "Proof of proximity"). */
  witnessed_windows: number;
  first_seen: number | null;
  last_seen: number | null;
  provisional: boolean;
}

/** One ended session's record of one student, with its course (the student's own history). */
export interface StudentRecord extends RecordView {
  session_id: string;
  course_id: string;
  course_code: string;
  course_name: string;
  started_at: number;
  ended_at: number | null;
  presence: number;
  witnessed_windows: number;
}

/** Hook for the biometric module: which students hold a valid verification for a session. */
export type VerifiedLookup = (repos: Repositories, session: Session) => Promise<Set<string>>;
export const noVerifications: VerifiedLookup = async () => new Set();

type OverrideColumns = Pick<AttendanceRow, 'override_status' | 'override_reason' | 'override_by' | 'override_at'>;

function overrideOf(r: OverrideColumns): AttendanceOverride | null {
  return r.override_status ? { status: r.override_status, reason: r.override_reason ?? '', by: r.override_by ?? '', at: r.override_at ?? 0 } : null;
}

/** The one mapping of a stored attendance row to what readers see. */
function recordOf(r: OverrideColumns & Pick<AttendanceRow, 'status' | 'verified' | 'reasons'>): RecordView {
  const override = overrideOf(r);
  return {
    status: override?.status ?? r.status,
    decided_status: r.status === 'excused' ? 'absent' : r.status,
    verified: r.verified === 1,
    reasons: (r.reasons ? r.reasons.split(',') : []) as DecisionReason[],
    override,
  };
}

/**
 * The attendance of a session as teachers and students see it: decided from the submissions while
 * it is live, read from the stored decisions once it has ended (raw submissions may since have
 * been deleted by the retention job; the decisions are the record).
 */
export function computeAttendance(repos: Repositories, session: Session, course: Course, now: number, verifiedLookup: VerifiedLookup): Promise<AttendanceEntry[]> {
  if (session.state === 'ended') return repos.attendance.stored(session);
  return repos.attendance.decide(session, course, now, verifiedLookup(repos, session));
}

/**
 * Whether only witnessed windows count for this session: the course's require_proximity, or, when
 * that is null, whether the session's room has an active gateway that serves the GATT check-in
 * (docs/api.md, "Proof of proximity"): a room whose gateway cannot witness anyone must not mark
 * everyone absent.
 */
async function proximityRequired(db: Queryable, course: Course, session: Session): Promise<boolean> {
  const policy = policyOf(course).requireProximity;
  return policy ?? (await new GatewayRepository(db).activeForRoom(session.room_id))?.checkin_service === 1;
}

/** Rows per multi-row upsert: 16 parameters each, well within SQLite's and PostgreSQL's limits. */
const DECISIONS_PER_STATEMENT = 500;

export class AttendanceRepository {
  constructor(private readonly db: Queryable) {}

  /** The decisions written when the session ended, by student name. */
  async stored(session: Session): Promise<AttendanceEntry[]> {
    const rows = await this.db
      .selectFrom('attendance')
      .innerJoin('users', 'users.id', 'attendance.student_id')
      .selectAll('attendance')
      .select(['users.email', 'users.full_name'])
      .where('attendance.session_id', '=', session.id)
      .orderBy('users.full_name')
      .orderBy('users.id')
      .execute();
    return rows.map((r) => ({
      student_id: r.student_id,
      email: r.email,
      full_name: r.full_name,
      presence: r.presence,
      windows_seen: r.windows_seen,
      windows_total: r.windows_total,
      witnessed_windows: r.witnessed_windows,
      first_seen: r.first_seen,
      last_seen: r.last_seen,
      ...recordOf(r),
      provisional: false,
    }));
  }

  /**
   * Decides every enrolled student's record from the raw submissions and the witnessed windows
   * (live view and session end). `verified` is the biometric lookup's answer, awaited beside the reads.
   */
  async decide(session: Session, course: Course, now: number, verified: Promise<Set<string>> | Set<string>): Promise<AttendanceEntry[]> {
    const [students, subs, witnessedRows, proximity, overrides, verifiedIds] = await Promise.all([
      new CourseRepository(this.db).enrolledStudents(session.course_id),
      this.db.selectFrom('submissions').select(['student_id', 'w', 'received_at']).where('session_id', '=', session.id).execute(),
      new CheckinRepository(this.db).witnessedOf(session.id),
      proximityRequired(this.db, course, session),
      this.db.selectFrom('attendance').select(['student_id', 'override_status', 'override_reason', 'override_by', 'override_at']).where('session_id', '=', session.id).where('override_status', 'is not', null).execute(),
      verified,
    ]);
    const witnessedBy = new Map<string, number[]>();
    for (const r of witnessedRows) {
      const list = witnessedBy.get(r.student_id);
      if (list) list.push(r.w);
      else witnessedBy.set(r.student_id, [r.w]);
    }
    const byStudent = new Map<string, { windows: number[]; first: number; last: number }>();
    for (const s of subs) {
      const e = byStudent.get(s.student_id) ?? { windows: [], first: s.received_at, last: s.received_at };
      e.windows.push(s.w);
      e.first = Math.min(e.first, s.received_at);
      e.last = Math.max(e.last, s.received_at);
      byStudent.set(s.student_id, e);
    }
    const overrideBy = new Map(overrides.map((o) => [o.student_id, overrideOf(o)]));
    const policy = policyOf(course);
    // A live session is judged up to and including the window that contains `now`.
    const until = session.ended_at ?? now + 1;
    return students.map((st) => {
      const seen = byStudent.get(st.id);
      const d = decide({
        startedAt: session.started_at, until, periodS: session.period_s, acceptedWindows: seen?.windows ?? [],
        witnessedWindows: witnessedBy.get(st.id) ?? [], proximityRequired: proximity, verified: verifiedIds.has(st.id), policy,
      });
      const override = overrideBy.get(st.id) ?? null;
      return {
        student_id: st.id,
        email: st.email,
        full_name: st.full_name,
        status: override?.status ?? d.status,
        decided_status: d.status,
        presence: d.presence,
        windows_seen: d.windowsSeen,
        windows_total: d.windowsTotal,
        witnessed_windows: d.witnessedWindows,
        first_seen: seen?.first ?? null,
        last_seen: seen?.last ?? null,
        verified: verifiedIds.has(st.id),
        reasons: d.reasons,
        override,
        provisional: session.state === 'live',
      };
    });
  }

  /** Writes the final decision for every enrolled student (inside the session-end transaction). */
  async writeDecisions(sessionId: string, entries: AttendanceEntry[], now: number): Promise<void> {
    const rows: NewAttendance[] = entries.map((e) => ({
      session_id: sessionId,
      student_id: e.student_id,
      status: e.decided_status,
      presence: e.presence,
      windows_seen: e.windows_seen,
      windows_total: e.windows_total,
      witnessed_windows: e.witnessed_windows,
      first_seen: e.first_seen,
      last_seen: e.last_seen,
      verified: e.verified ? 1 : 0,
      reasons: e.reasons.join(','),
      decided_at: now,
      override_status: e.override?.status ?? null,
      override_reason: e.override?.reason ?? null,
      override_by: e.override?.by ?? null,
      override_at: e.override?.at ?? null,
    }));
    // A class in a few statements, not one per student; a record that exists keeps its override.
    for (let i = 0; i < rows.length; i += DECISIONS_PER_STATEMENT) {
      await this.db
        .insertInto('attendance')
        .values(rows.slice(i, i + DECISIONS_PER_STATEMENT))
        .onConflict((oc) =>
          oc.columns(['session_id', 'student_id']).doUpdateSet((eb) => ({
            status: eb.ref('excluded.status'),
            presence: eb.ref('excluded.presence'),
            windows_seen: eb.ref('excluded.windows_seen'),
            windows_total: eb.ref('excluded.windows_total'),
            witnessed_windows: eb.ref('excluded.witnessed_windows'),
            first_seen: eb.ref('excluded.first_seen'),
            last_seen: eb.ref('excluded.last_seen'),
            verified: eb.ref('excluded.verified'),
            reasons: eb.ref('excluded.reasons'),
            decided_at: eb.ref('excluded.decided_at'),
          })),
        )
        .execute();
    }
  }

  /**
   * Sets a student's override. A student without a record yet (live session) gets a placeholder
   * decision, replaced by the real one when the session ends; the override is kept.
   */
  async override(sessionId: string, studentId: string, o: AttendanceOverride): Promise<void> {
    const cols = { override_status: o.status, override_reason: o.reason, override_by: o.by, override_at: o.at };
    await this.db
      .insertInto('attendance')
      .values({ session_id: sessionId, student_id: studentId, status: 'absent', presence: 0, windows_seen: 0, windows_total: 0, first_seen: null, last_seen: null, verified: 0, reasons: '', decided_at: o.at, ...cols })
      .onConflict((oc) => oc.columns(['session_id', 'student_id']).doUpdateSet(cols))
      .execute();
  }

  /** A student's records of ended sessions, newest first. */
  async ofStudent(studentId: string, opts: { courseId?: string; limit: number }): Promise<StudentRecord[]> {
    let q = this.db
      .selectFrom('attendance')
      .innerJoin('sessions', 'sessions.id', 'attendance.session_id')
      .innerJoin('courses', 'courses.id', 'sessions.course_id')
      .select([
        'attendance.session_id', 'sessions.course_id', 'courses.code', 'courses.name', 'sessions.started_at', 'sessions.ended_at', 'attendance.status',
        'attendance.override_status', 'attendance.override_reason', 'attendance.override_by', 'attendance.override_at', 'attendance.presence', 'attendance.verified', 'attendance.reasons', 'attendance.witnessed_windows',
      ])
      .where('attendance.student_id', '=', studentId)
      .where('sessions.state', '=', 'ended')
      .orderBy('sessions.started_at', 'desc')
      .limit(opts.limit);
    if (opts.courseId) q = q.where('sessions.course_id', '=', opts.courseId);
    return (await q.execute()).map((r) => ({
      session_id: r.session_id, course_id: r.course_id, course_code: r.code, course_name: r.name,
      started_at: r.started_at, ended_at: r.ended_at, presence: r.presence, witnessed_windows: r.witnessed_windows, ...recordOf(r),
    }));
  }
}

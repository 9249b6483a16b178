/**
 * Analytics reads. Every query starts from the sessions of named courses through the
 * (course_id, started_at) index and reaches attendance through its (session_id, student_id)
 * primary key, so its cost follows the course's sessions × students, not the database size.
 * Only ended sessions count; the effective status is the override if any, else the decision.
 */
import { sql, type Kysely, type QueryCreator, type RawBuilder } from 'kysely';
import type { StatusCounts } from '../domain/analytics.js';
import type { AttendanceStatus, Database } from './schema.js';
import type { Queryable } from './repositories.js';

const effective = sql`coalesce(attendance.override_status, attendance.status)`;
const countWhere = (status: AttendanceStatus): RawBuilder<number> => sql<number>`sum(case when ${effective} = ${status} then 1 else 0 end)`;

function toCounts(r: { present: unknown; late: unknown; absent: unknown; excused: unknown }): StatusCounts {
  // SUM over no rows is NULL; PostgreSQL returns bigint sums, parsed to numbers by the store.
  return { present: Number(r.present ?? 0), late: Number(r.late ?? 0), absent: Number(r.absent ?? 0), excused: Number(r.excused ?? 0) };
}

export interface TimeRange {
  startMs: number;
  endMs: number;
}

/** The sessions that count: ended, of the given courses ('all': of every course), started in the range. */
function countedSessions(qb: QueryCreator<Database>, courseIds: readonly string[] | 'all', range: TimeRange) {
  let q = qb
    .selectFrom('sessions')
    .where('sessions.started_at', '>=', range.startMs)
    .where('sessions.started_at', '<', range.endMs)
    .where('sessions.state', '=', 'ended');
  // 'all' (an admin's whole-institution day) walks the sessions_started index instead.
  if (courseIds !== 'all') q = q.where('sessions.course_id', 'in', courseIds);
  return q;
}

// Both queries find the sessions in a MATERIALIZED common table expression and join attendance
// to that. PostgreSQL never runs a CTE scan in a parallel worker, so the sessions are found on
// their own, through sessions_course_started (sessions_started for 'all'), and attendance is
// reached from that short list through attendance_pk. Written as one join, PostgreSQL, once the
// sessions table outgrows min_parallel_table_scan_size (8 MB), took a Parallel Seq Scan on
// sessions so as to split the per-session attendance lookups (which it overestimates) between
// workers: a scan of the whole table, whose cost grew with the database instead of the course.
// SQLite takes the same indexes in both forms (MATERIALIZE, then SCAN of the short list).

/** The query behind studentStatusCounts, exported so its plan can be checked (bench, tests). */
export function studentStatusCountsQuery(db: Kysely<Database>, courseId: string, range: TimeRange) {
  return db
    .with((cte) => cte('counted').materialized(), (qb) => countedSessions(qb, [courseId], range).select('sessions.id'))
    .selectFrom('counted')
    .innerJoin('attendance', 'attendance.session_id', 'counted.id')
    .select(['attendance.student_id'])
    .select([countWhere('present').as('present'), countWhere('late').as('late'), countWhere('absent').as('absent'), countWhere('excused').as('excused')])
    .groupBy('attendance.student_id');
}

export interface SessionReportRow extends StatusCounts {
  session_id: string;
  course_id: string;
  course_code: string;
  course_name: string;
  room_id: string;
  room_name: string;
  started_at: number;
  ended_at: number;
  /** Attendance records of the session: the students enrolled when it ended. */
  enrolled: number;
  /** Records with at least one window the room's gateway witnessed (proof of proximity). */
  witnessed: number;
}

/** The query behind sessionStatusCounts, exported so its plan can be checked (bench, tests). */
export function sessionStatusCountsQuery(db: Kysely<Database>, courseIds: readonly string[] | 'all', range: TimeRange) {
  // Courses and rooms are joined inside the CTE, where the course ids still reach courses_pkey.
  const columns = ['counted.session_id', 'counted.course_id', 'counted.course_code', 'counted.course_name', 'counted.room_id', 'counted.room_name', 'counted.started_at', 'counted.ended_at'] as const;
  return db
    .with((cte) => cte('counted').materialized(), (qb) => countedSessions(qb, courseIds, range)
      .innerJoin('courses', 'courses.id', 'sessions.course_id')
      .innerJoin('rooms', 'rooms.id', 'sessions.room_id')
      .select([
        'sessions.id as session_id', 'sessions.course_id', 'courses.code as course_code', 'courses.name as course_name',
        'sessions.room_id', 'rooms.name as room_name', 'sessions.started_at', 'sessions.ended_at',
      ]))
    .selectFrom('counted')
    .leftJoin('attendance', 'attendance.session_id', 'counted.session_id')
    .select(columns)
    .select((eb) => [eb.fn.count<number>('attendance.student_id').as('enrolled'), countWhere('present').as('present'), countWhere('late').as('late'), countWhere('absent').as('absent'), countWhere('excused').as('excused')])
    .select(sql<number>`sum(case when attendance.witnessed_windows > 0 then 1 else 0 end)`.as('witnessed'))
    .groupBy([...columns])
    .orderBy('counted.started_at')
    .orderBy('counted.session_id');
}

export class AnalyticsQueries {
  constructor(private readonly db: Queryable) {}

  /** Per student: effective status counts over the course's ended sessions started in the range. */
  async studentStatusCounts(courseId: string, range: TimeRange): Promise<Map<string, StatusCounts>> {
    const rows = await studentStatusCountsQuery(this.db, courseId, range).execute();
    return new Map(rows.map((r) => [r.student_id, toCounts(r)]));
  }

  /** Number of ended sessions of the course started in the range. */
  async endedSessionCount(courseId: string, range: TimeRange): Promise<number> {
    const row = await this.db
      .selectFrom('sessions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('course_id', '=', courseId)
      .where('started_at', '>=', range.startMs)
      .where('started_at', '<', range.endMs)
      .where('state', '=', 'ended')
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /**
   * Per ended session of the given courses started in the range, with its status counts, oldest
   * first. A session without records (nobody enrolled) still appears, with zeros.
   */
  async sessionStatusCounts(courseIds: readonly string[] | 'all', range: TimeRange): Promise<SessionReportRow[]> {
    if (courseIds !== 'all' && courseIds.length === 0) return [];
    const rows = await sessionStatusCountsQuery(this.db, courseIds, range).execute();
    return rows.map((r) => ({
      session_id: r.session_id, course_id: r.course_id, course_code: r.course_code, course_name: r.course_name,
      room_id: r.room_id, room_name: r.room_name, started_at: Number(r.started_at), ended_at: Number(r.ended_at ?? r.started_at),
      enrolled: Number(r.enrolled), witnessed: Number(r.witnessed ?? 0), ...toCounts(r),
    }));
  }
}

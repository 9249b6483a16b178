/**
 * Bulk data for bench/analytics.ts: one faculty's semester written straight into SQLite with
 * prepared statements in one transaction (the API would take hours for 672,000 records).
 * Deterministic: a seeded generator, so every run measures the same data.
 */
import type SqliteDatabase from 'better-sqlite3';
import { uuidv7 } from '../shared/ids.js';
import { addDays, startOfLocalDay } from '../cloud/domain/analytics-calendar.js';

export const FACULTY = { students: 10_000, teachers: 100, courses: 400, perCourse: 60, rooms: 200, weeks: 14 };
/** Monday 7 September to Sunday 13 December 2026: 14 weeks. */
export const TERM = { from: '2026-09-07', to: '2026-12-13' };
const SESSION_MS = 90 * 60_000;

export interface FacultyIds {
  courseIds: string[];
  teacherOfFirstCourse: string;
  /** A day on which the first course holds a class. */
  firstClassDay: string;
}

/** mulberry32: small, fast, good enough to spread statuses. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function termId(native: SqliteDatabase.Database): string {
  const existing = native.prepare('select id from terms where name = ?').get('Bench autumn') as { id: string } | undefined;
  if (existing) return existing.id;
  const id = uuidv7();
  native.prepare('insert into terms (id, name, starts_on, ends_on) values (?, ?, ?, ?)').run(id, 'Bench autumn', TERM.from, TERM.to);
  return id;
}

/** Writes faculty number `f` (students, teachers, rooms, courses, enrolments, ended sessions, records). */
export function generateFaculty(native: SqliteDatabase.Database, f: number, timeZone: string): FacultyIds {
  const rnd = random(0xa77e + f);
  const now = Date.UTC(2026, 11, 20);
  const insertUser = native.prepare('insert into users (id, email, full_name, role, password_hash, created_at) values (?, ?, ?, ?, ?, ?)');
  const insertRoom = native.prepare('insert into rooms (id, name, room_code, secret, created_at) values (?, ?, ?, ?, ?)');
  const insertCourse = native.prepare(`insert into courses (id, code, name, teacher_id, term_id, min_presence, late_after_s, require_biometric, min_attendance_pct, grace_s, created_at)
    values (?, ?, ?, ?, ?, 0.75, 600, 0, 75, 60, ?)`);
  const insertEnrollment = native.prepare('insert into enrollments (course_id, student_id, created_at) values (?, ?, ?)');
  const insertSession = native.prepare(`insert into sessions (id, course_id, room_id, started_at, ended_at, period_s, source, state, started_by)
    values (?, ?, ?, ?, ?, 300, 'cloud', 'ended', ?)`);
  const insertRecord = native.prepare(`insert into attendance (session_id, student_id, status, presence, windows_seen, windows_total, first_seen, last_seen, verified, reasons, decided_at, override_status, override_reason, override_by, override_at)
    values (?, ?, ?, ?, ?, 18, ?, ?, 0, ?, ?, ?, ?, ?, ?)`);

  const ids: FacultyIds = { courseIds: [], teacherOfFirstCourse: '', firstClassDay: '' };
  native.transaction(() => {
    const term = termId(native);
    const students = Array.from({ length: FACULTY.students }, (_, i) => {
      const id = uuidv7(now);
      insertUser.run(id, `f${f}s${i}@bench.example`, `Student ${f}-${i}`, 'student', 'x', now);
      return id;
    });
    const teachers = Array.from({ length: FACULTY.teachers }, (_, i) => {
      const id = uuidv7(now);
      insertUser.run(id, `f${f}t${i}@bench.example`, `Teacher ${f}-${i}`, 'teacher', 'x', now);
      return id;
    });
    const rooms = Array.from({ length: FACULTY.rooms }, (_, i) => {
      const id = uuidv7(now);
      insertRoom.run(id, `F${f} room ${i}`, f * 10_000 + i + 1, '00'.repeat(32), now);
      return id;
    });
    for (let k = 0; k < FACULTY.courses; k++) {
      const courseId = uuidv7(now);
      const teacher = teachers[k % FACULTY.teachers]!;
      insertCourse.run(courseId, `F${f}-C${k}`, `Course ${k}`, teacher, term, now);
      ids.courseIds.push(courseId);
      const enrolled = Array.from({ length: FACULTY.perCourse }, (_, j) => students[(k * FACULTY.perCourse + j) % FACULTY.students]!);
      for (const s of enrolled) insertEnrollment.run(courseId, s, now);
      // Two classes a week: Mon+Wed, Tue+Thu or Wed+Fri, between 08:00 and 17:00 local time.
      const firstDay = k % 3;
      const hour = 8 + (k % 10);
      const room = rooms[k % FACULTY.rooms]!;
      for (let week = 0; week < FACULTY.weeks; week++) {
        for (const day of [firstDay, firstDay + 2]) {
          const date = addDays(TERM.from, week * 7 + day);
          if (k === 0 && !ids.firstClassDay) ids.firstClassDay = date;
          const start = startOfLocalDay(date, timeZone) + hour * 3_600_000;
          const sessionId = uuidv7(start);
          insertSession.run(sessionId, courseId, room, start, start + SESSION_MS, teacher);
          for (const s of enrolled) {
            const r = rnd();
            const status = r < 0.75 ? 'present' : r < 0.83 ? 'late' : 'absent';
            const excused = r >= 0.97;
            const seen = status === 'absent' ? Math.floor(rnd() * 5) : 14 + Math.floor(rnd() * 5);
            insertRecord.run(sessionId, s, status, seen / 18, seen, seen ? start + 60_000 : null, seen ? start + SESSION_MS - 60_000 : null,
              status === 'absent' ? 'presence_low' : 'presence_ok', start + SESSION_MS,
              excused ? 'excused' : null, excused ? 'medical certificate' : null, excused ? teacher : null, excused ? start + SESSION_MS + 3_600_000 : null);
          }
        }
      }
    }
    ids.teacherOfFirstCourse = teachers[0]!;
  })();
  return ids;
}

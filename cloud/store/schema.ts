/**
 * Table types for Kysely. Times are integer milliseconds since the Unix epoch (UTC); calendar
 * dates (terms) are 'YYYY-MM-DD' strings. Booleans are 0/1 integers on both backends.
 */
import type { Generated, Insertable, Selectable } from 'kysely';

export type Role = 'student' | 'teacher' | 'admin';
export type AttendanceStatus = 'present' | 'late' | 'absent' | 'excused';
export type SessionSource = 'cloud' | 'timetable' | 'gateway';

export interface UsersTable {
  id: string;
  email: string;
  full_name: string;
  role: Role;
  password_hash: string;
  created_at: number;
}

export interface TermsTable {
  id: string;
  name: string;
  starts_on: string;
  ends_on: string;
}

export interface CoursesTable {
  id: string;
  code: string;
  name: string;
  teacher_id: string;
  term_id: string | null;
  min_presence: number;
  late_after_s: number;
  require_biometric: number;
  /** Added by migration 003_webauthn. */
  require_device_bound: number;
  min_attendance_pct: number;
  grace_s: number;
  created_at: number;
}

export interface EnrollmentsTable {
  course_id: string;
  student_id: string;
  created_at: number;
}

export interface RoomsTable {
  id: string;
  name: string;
  room_code: number;
  secret: string;
  created_at: number;
}

export interface SessionsTable {
  id: string;
  course_id: string;
  room_id: string;
  started_at: number;
  ended_at: number | null;
  period_s: number;
  source: SessionSource;
  state: 'live' | 'ended';
  started_by: string | null;
}

export interface SubmissionsTable {
  session_id: string;
  student_id: string;
  w: number;
  received_at: number;
  rssi: number | null;
  via: string;
}

export interface AttendanceTable {
  session_id: string;
  student_id: string;
  status: AttendanceStatus;
  presence: number;
  windows_seen: number;
  windows_total: number;
  first_seen: number | null;
  last_seen: number | null;
  verified: number;
  reasons: string;
  decided_at: number;
  override_status: AttendanceStatus | null;
  override_reason: string | null;
  override_by: string | null;
  override_at: number | null;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: number;
  actor_id: string | null;
  action: string;
  target: string;
  details: string;
}

export interface Database {
  users: UsersTable;
  terms: TermsTable;
  courses: CoursesTable;
  enrollments: EnrollmentsTable;
  rooms: RoomsTable;
  sessions: SessionsTable;
  submissions: SubmissionsTable;
  attendance: AttendanceTable;
  audit_log: AuditLogTable;
}

export type User = Selectable<UsersTable>;
export type Course = Selectable<CoursesTable>;
export type Room = Selectable<RoomsTable>;
export type Session = Selectable<SessionsTable>;
export type AttendanceRow = Selectable<AttendanceTable>;
export type NewAttendance = Insertable<AttendanceTable>;

/** JSON views of stored rows: times as ISO-8601 UTC strings, ids as stored. */
import type { AttendanceEntry } from '../store/attendance.js';
import type { Room, Session } from '../store/schema.js';

export const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function sessionView(s: Session, room: Pick<Room, 'room_code'> | null) {
  return {
    session_id: s.id,
    course_id: s.course_id,
    room_id: s.room_id,
    room_code: room?.room_code ?? null,
    started_at: iso(s.started_at)!,
    ended_at: iso(s.ended_at),
    period_s: s.period_s,
    state: s.state,
    source: s.source,
  };
}

export function attendanceView(e: AttendanceEntry) {
  return {
    student_id: e.student_id,
    email: e.email,
    full_name: e.full_name,
    status: e.status,
    presence: Math.round(e.presence * 10_000) / 10_000,
    windows_seen: e.windows_seen,
    windows_total: e.windows_total,
    witnessed_windows: e.witnessed_windows,
    first_seen: iso(e.first_seen),
    last_seen: iso(e.last_seen),
    verified: e.verified,
    reasons: e.reasons,
    override: e.override ? { status: e.override.status, reason: e.override.reason, by: e.override.by, at: iso(e.override.at) } : null,
    provisional: e.provisional,
  };
}

export function countByStatus(entries: AttendanceEntry[]) {
  const counts = { enrolled: entries.length, present: 0, late: 0, absent: 0, excused: 0 };
  for (const e of entries) counts[e.status]++;
  return counts;
}

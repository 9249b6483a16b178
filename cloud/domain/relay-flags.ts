/**
 * Relay flags for the teacher (docs/api.md, "Proof of proximity"): patterns in a session's
 * witnessed windows that a relay between the room and an absent student's phone would leave.
 * They decide nothing; they point a person at records worth a look. Pure: computed when the
 * attendance is read, from the witnessed windows of the session and those of its keys elsewhere.
 */
import { windowEndMs, windowStartMs } from '../../shared/token.js';

/**
 * A phone answers a GATT challenge within a few hundred milliseconds of reading it; forwarding the
 * challenge over the internet to a phone elsewhere and its answer back adds round trips and app
 * hops. 1,500 ms lies well above the first and below what such a relay typically needs.
 */
export const RELAY_LATENCY_MS = 1500;

export type RelayFlag =
  | { kind: 'shared_peer'; evidence: { peer: string; student_ids: string[] } }
  | { kind: 'slow_checkin'; evidence: { windows: number[]; max_latency_ms: number; threshold_ms: number } }
  | { kind: 'two_rooms'; evidence: { key_id: string; w: number; other_room_id: string; other_session_id: string; other_w: number } };

export interface WitnessedInSession {
  student_id: string;
  w: number;
  key_id: string;
  peer: string;
  latency_ms: number;
}

/** A witnessed window of one of the session's keys in a session of another room. */
export interface WitnessedElsewhere {
  key_id: string;
  w: number;
  period_s: number;
  room_id: string;
  session_id: string;
}

/** The flags of each student of the session who has any. */
export function relayFlags(periodS: number, own: readonly WitnessedInSession[], elsewhere: readonly WitnessedElsewhere[]): Map<string, RelayFlag[]> {
  const flags = new Map<string, RelayFlag[]>();
  const add = (studentId: string, flag: RelayFlag) => {
    const list = flags.get(studentId);
    if (list) list.push(flag);
    else flags.set(studentId, [flag]);
  };

  const studentsByPeer = new Map<string, Set<string>>();
  for (const r of own) studentsByPeer.set(r.peer, (studentsByPeer.get(r.peer) ?? new Set()).add(r.student_id));
  for (const [peer, students] of studentsByPeer) {
    if (students.size < 2) continue;
    const ids = [...students].sort();
    for (const s of ids) add(s, { kind: 'shared_peer', evidence: { peer, student_ids: ids } });
  }

  const slowByStudent = new Map<string, WitnessedInSession[]>();
  for (const r of own) if (r.latency_ms > RELAY_LATENCY_MS) slowByStudent.set(r.student_id, (slowByStudent.get(r.student_id) ?? []).concat(r));
  for (const [s, rows] of slowByStudent) {
    add(s, { kind: 'slow_checkin', evidence: { windows: rows.map((r) => r.w).sort((a, b) => a - b), max_latency_ms: Math.max(...rows.map((r) => r.latency_ms)), threshold_ms: RELAY_LATENCY_MS } });
  }

  for (const r of own) {
    const from = windowStartMs(r.w, periodS);
    const to = windowEndMs(r.w, periodS);
    const clash = elsewhere.find((e) => e.key_id === r.key_id && windowStartMs(e.w, e.period_s) < to && windowEndMs(e.w, e.period_s) > from);
    if (clash) add(r.student_id, { kind: 'two_rooms', evidence: { key_id: r.key_id, w: r.w, other_room_id: clash.room_id, other_session_id: clash.session_id, other_w: clash.w } });
  }
  return flags;
}

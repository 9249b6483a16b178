/**
 * A `checkin.received` event (docs/api.md, "Proof of proximity"): the room's gateway forwards a
 * phone's signed answer to its GATT challenge. The check-in is verified here against the key the
 * phone enrolled with its passkey and the token the gateway had on air, and becomes a witnessed
 * window of that student; or it is refused with a reason, recorded in `checkin_refusals` beside
 * the event's id. A refusal is the phone's failure, not the gateway's: the event is still applied,
 * so it is not counted against the gateway, and a redelivery changes nothing. A window witnessed
 * after its session ended (the gateway's outbox drained late) re-decides that student's record.
 */
import { checkinMessage, parseCheckinKey, verifyCheckin } from '../../shared/checkin.js';
import type { EventData } from '../../shared/mqtt/messages.js';
import { deriveSessionKey, tokenForWindow } from '../../shared/token.js';
import { windowsOverlapping } from '../domain/submission.js';
import type { VerifiedLookup } from '../store/attendance.js';
import type { Repositories } from '../store/repositories.js';
import type { Gateway, Session } from '../store/schema.js';

export type CheckinRefusalReason =
  | 'unknown_session' | 'wrong_room' | 'window_outside_session' | 'key_unknown' | 'device_pending' | 'device_revoked' | 'not_enrolled' | 'signature_invalid';

export type CheckinOutcome =
  | { ok: true; studentId: string; sessionId: string; w: number; counted: boolean }
  | { ok: false; reason: CheckinRefusalReason; sessionId: string; w: number };

/** The envelope around the data: its id, and `at`, when the gateway received the write. */
export interface CheckinEnvelope {
  id: string;
  at: number;
}

/** Checks and records one check-in inside the ingest's transaction; never throws for a bad check-in. */
export async function applyCheckin(
  tx: Repositories, gateway: Gateway, d: EventData<'checkin.received'>, env: CheckinEnvelope, receivedAt: number, verifiedLookup: VerifiedLookup,
): Promise<CheckinOutcome> {
  const verdict = await verify(tx, gateway, d, receivedAt);
  if (!verdict.ok) {
    await tx.checkins.recordRefusal({ event_id: env.id, gateway_id: gateway.id, session_id: d.session_id, key_id: d.key_id, w: d.w, reason: verdict.reason, at: env.at, received_at: receivedAt });
    return { ok: false, reason: verdict.reason, sessionId: d.session_id, w: d.w };
  }
  const counted = await tx.checkins.recordWitnessed({
    session_id: d.session_id, student_id: verdict.studentId, w: d.w, key_id: d.key_id, gateway_id: gateway.id, event_id: env.id,
    rssi: d.rssi, peer: d.peer, latency_ms: d.latency_ms, at: env.at, received_at: receivedAt,
  });
  if (counted && verdict.session.state === 'ended') {
    const course = await tx.courses.get(verdict.session.course_id);
    if (!course) throw new Error(`session ${verdict.session.id} names no course`);
    const entries = await tx.attendance.decide(verdict.session, course, receivedAt, verifiedLookup(tx, verdict.session));
    await tx.attendance.writeDecisions(verdict.session.id, entries.filter((e) => e.student_id === verdict.studentId), receivedAt);
  }
  return { ok: true, studentId: verdict.studentId, sessionId: d.session_id, w: d.w, counted };
}

type Verdict = { ok: true; studentId: string; session: Session } | { ok: false; reason: CheckinRefusalReason };

async function verify(tx: Repositories, gateway: Gateway, d: EventData<'checkin.received'>, receivedAt: number): Promise<Verdict> {
  const session = await tx.sessions.get(d.session_id);
  if (!session) return { ok: false, reason: 'unknown_session' };
  if (session.room_id !== gateway.room_id) return { ok: false, reason: 'wrong_room' };
  // A live session reaches up to the window the cloud's clock is in.
  const { first, last } = windowsOverlapping(session.started_at, session.ended_at ?? receivedAt + 1, session.period_s);
  if (d.w < first || d.w > last) return { ok: false, reason: 'window_outside_session' };

  const holder = await tx.checkins.keyHolder(d.key_id);
  const key = holder && parseCheckinKey(holder.spki);
  if (!holder || !key?.ok) return { ok: false, reason: 'key_unknown' };
  if (holder.status !== 'active') return { ok: false, reason: holder.status === 'pending' ? 'device_pending' : 'device_revoked' };
  if (!(await tx.courses.isEnrolled(session.course_id, holder.studentId))) return { ok: false, reason: 'not_enrolled' };

  const room = await tx.rooms.get(session.room_id);
  if (!room) throw new Error(`session ${session.id} names no room`);
  const token = tokenForWindow(deriveSessionKey(Buffer.from(room.secret, 'hex'), session.id), d.w);
  const message = checkinMessage(room.room_code, d.w, Buffer.from(d.nonce, 'hex'), token);
  if (!verifyCheckin(key.value.key, message, Buffer.from(d.signature, 'hex'))) return { ok: false, reason: 'signature_invalid' };
  return { ok: true, studentId: holder.studentId, session };
}

/**
 * What the cloud believes of a session a gateway reports having started or ended by itself
 * (docs/protocol.md, "Sessions a gateway reports"). A gateway starts a session the cloud did not ask
 * for only because the room's timetable says so, and its times come from its own clock, so both
 * are checked against what the cloud knows: its own clock, the skew the gateway's heartbeats
 * measured, and the room's timetable slots. Pure: the caller reads the rows and the receive time.
 */
import { localTime, minutesOf } from '../../shared/local-time.js';
import type { CourseSlot, Gateway, Session } from '../store/schema.js';

export interface SessionCheckSettings {
  /** The institution's time zone, in which timetable slots are wall-clock times. */
  timezone: string;
  /** How far a reported time may be from the cloud's clock (after the skew is allowed for). */
  toleranceMs: number;
}

export type SessionRefusalCode =
  | 'clock_skewed' | 'start_in_future' | 'start_in_past' | 'not_in_timetable' | 'ends_outside_slot' | 'end_before_start' | 'end_in_future';

export type Checked = { ok: true; at: number } | { ok: false; code: SessionRefusalCode; message: string };

export type GatewayClock = Pick<Gateway, 'clock_skew_ms' | 'online_since' | 'created_at'>;

export interface StartClaim {
  courseId: string;
  startedAt: number;
  endsAt: number | null;
}

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;
const refuse = (code: SessionRefusalCode, message: string): Checked => ({ ok: false, code, message });

/** The gateway's clock minus the cloud's as its heartbeats measured it (0 before the first), or null beyond the tolerance. */
function skewOf(gateway: GatewayClock, toleranceMs: number): number | null {
  const skew = gateway.clock_skew_ms ?? 0;
  return Math.abs(skew) > toleranceMs ? null : skew;
}

/**
 * A start the cloud accepts, and when it was on the cloud's clock: near the receive time, or
 * earlier only when the gateway was offline then (the event waited in its outbox) and not before it
 * was provisioned; inside a slot of the course in this room (a catch-up start may come late in the
 * slot); a scheduled end after the start and not after the slot's end.
 */
export function checkGatewayStart(claim: StartClaim, gateway: GatewayClock, roomSlots: CourseSlot[], receivedAt: number, s: SessionCheckSettings): Checked {
  const tol = s.toleranceMs;
  const skew = skewOf(gateway, tol);
  if (skew === null) return refuse('clock_skewed', `the gateway's clock is ${seconds(gateway.clock_skew_ms!)} off the cloud's, more than the ${seconds(tol)} tolerance`);
  const at = claim.startedAt - skew;
  if (at > receivedAt + tol) return refuse('start_in_future', `started_at ${new Date(claim.startedAt).toISOString()} is ${seconds(at - receivedAt)} ahead of the cloud's clock`);
  const queued = gateway.online_since !== null && at < gateway.online_since && at >= gateway.created_at;
  if (at < receivedAt - tol && !queued) {
    return refuse('start_in_past', `started_at ${new Date(claim.startedAt).toISOString()} is ${seconds(receivedAt - at)} behind the cloud's clock and the gateway was online then`);
  }
  const local = localTime(at, s.timezone);
  const tolS = tol / 1000;
  const slot = roomSlots.find((sl) => sl.course_id === claim.courseId && sl.weekday === local.weekday
    && local.secondOfDay >= minutesOf(sl.start_time) * 60 - tolS && local.secondOfDay < minutesOf(sl.end_time) * 60 + tolS);
  if (!slot) return refuse('not_in_timetable', `course ${claim.courseId} has no slot in this room at ${new Date(at).toISOString()}`);
  if (claim.endsAt !== null) {
    const endsAt = claim.endsAt - skew;
    if (endsAt <= at) return refuse('end_before_start', 'ends_at is not after started_at');
    const slotEnd = at + (minutesOf(slot.end_time) * 60 - local.secondOfDay) * 1000;
    if (endsAt > slotEnd + tol) return refuse('ends_outside_slot', `ends_at ${new Date(claim.endsAt).toISOString()} is after the end of the slot ${slot.start_time}–${slot.end_time}`);
  }
  return { ok: true, at };
}

/** An end the cloud accepts, on its clock and within the session: not well before its start, not in the future. */
export function checkGatewayEnd(endedAt: number, session: Pick<Session, 'started_at'>, gateway: GatewayClock, receivedAt: number, s: SessionCheckSettings): Checked {
  const tol = s.toleranceMs;
  const skew = skewOf(gateway, tol);
  if (skew === null) return refuse('clock_skewed', `the gateway's clock is ${seconds(gateway.clock_skew_ms!)} off the cloud's, more than the ${seconds(tol)} tolerance`);
  const at = endedAt - skew;
  if (at < session.started_at - tol) return refuse('end_before_start', `ended_at ${new Date(endedAt).toISOString()} is before the session started`);
  if (at > receivedAt + tol) return refuse('end_in_future', `ended_at ${new Date(endedAt).toISOString()} is ${seconds(at - receivedAt)} ahead of the cloud's clock`);
  // Within the tolerance: bounded by what the cloud knows to be possible.
  return { ok: true, at: Math.min(Math.max(at, session.started_at), receivedAt) };
}

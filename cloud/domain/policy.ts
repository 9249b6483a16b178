/**
 * The attendance decision (docs/architecture.md). Pure: given a session's windows and one student's accepted
 * and witnessed windows, decide present / late / absent and say why. Excused only comes from a teacher override.
 */
import { windowStartMs } from '../../shared/token.js';
import type { AttendanceStatus } from '../store/schema.js';
import { windowsOverlapping } from './submission.js';

export interface CoursePolicy {
  /** Fraction of the session's windows with an accepted token, 0..1 (default 0.75). */
  minPresence: number;
  /** A first accepted window starting this long after the start or later makes the student late. */
  lateAfterS: number;
  requireBiometric: boolean;
  /** Refuse backup-eligible (syncable) passkeys for this course's verifications (WebAuthn L3 §6.1.3). */
  requireDeviceBound: boolean;
  /** Analytics: students under this attendance percentage are flagged (default 75). */
  minAttendancePct: number;
  /** Seconds after a window's end during which its token is still accepted (default 60). */
  graceS: number;
  /**
   * Only windows the room's gateway witnessed count toward presence (docs/api.md, "Proof of
   * proximity"). Null (the default): on when the session's room has an active gateway.
   */
  requireProximity: boolean | null;
}

// requireBiometric is on by default (a token does not say whose phone sent it); device-bound is off by
// default because iCloud Keychain passkeys are always syncable and would lock out every iPhone.
// Proximity follows the room by default: a token heard over BLE can be forwarded, a gateway's witness cannot.
export const DEFAULT_POLICY: CoursePolicy = { minPresence: 0.75, lateAfterS: 600, requireBiometric: true, requireDeviceBound: false, minAttendancePct: 75, graceS: 60, requireProximity: null };

export type DecisionReason = 'presence_ok' | 'presence_low' | 'not_witnessed' | 'verified' | 'verification_missing' | 'late_arrival';

export interface Decision {
  status: Exclude<AttendanceStatus, 'excused'>;
  presence: number;
  windowsSeen: number;
  windowsTotal: number;
  /** Of the session's windows, those the room's gateway witnessed the student in. */
  witnessedWindows: number;
  reasons: DecisionReason[];
}

export interface DecisionInput {
  startedAt: number;
  /** Session end, or the decision time for a provisional decision on a live session. */
  until: number;
  periodS: number;
  /** Windows of tokens submitted over HTTP. */
  acceptedWindows: readonly number[];
  /** Windows in which the room's gateway witnessed the student's phone (none if omitted). */
  witnessedWindows?: readonly number[];
  /** The course's requireProximity resolved for the session's room (false if omitted). */
  proximityRequired?: boolean;
  verified: boolean;
  policy: CoursePolicy;
}

/** The distinct windows of `ws` within [first, last], ascending. */
function within(ws: readonly number[], first: number, last: number): number[] {
  return [...new Set(ws)].filter((w) => w >= first && w <= last).sort((a, b) => a - b);
}

export function decide(input: DecisionInput): Decision {
  const { first, last, count } = windowsOverlapping(input.startedAt, input.until, input.periodS);
  const witnessed = within(input.witnessedWindows ?? [], first, last);
  // A witnessed window is also seen: the signed check-in covers that window's token.
  const anySeen = within([...input.acceptedWindows, ...witnessed], first, last);
  const seen = input.proximityRequired ? witnessed : anySeen;
  const presence = seen.length / count;
  const reasons: DecisionReason[] = [];
  // Compare in whole windows to keep 3/4 = 0.75 exact against floating-point thresholds.
  const needed = Math.ceil(input.policy.minPresence * count - 1e-9);
  const presenceOk = seen.length > 0 && seen.length >= needed;
  reasons.push(presenceOk ? 'presence_ok' : 'presence_low');
  // Enough windows were submitted, too few witnessed: the case a forwarded token ends in.
  if (!presenceOk && input.proximityRequired && anySeen.length > 0 && anySeen.length >= needed) reasons.push('not_witnessed');
  const verificationOk = !input.policy.requireBiometric || input.verified;
  if (input.policy.requireBiometric) reasons.push(input.verified ? 'verified' : 'verification_missing');
  let status: Decision['status'] = 'absent';
  if (presenceOk && verificationOk) {
    const firstStart = windowStartMs(seen[0]!, input.periodS);
    const late = firstStart - input.startedAt >= input.policy.lateAfterS * 1000;
    if (late) reasons.push('late_arrival');
    status = late ? 'late' : 'present';
  }
  return { status, presence, windowsSeen: seen.length, windowsTotal: count, witnessedWindows: witnessed.length, reasons };
}

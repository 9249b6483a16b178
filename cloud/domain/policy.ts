/**
 * The attendance decision (docs/architecture.md). Pure: given a session's windows and one student's accepted
 * windows, decide present / late / absent and say why. Excused only comes from a teacher override.
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
}

// requireBiometric is on by default (a token does not say whose phone sent it); device-bound is off by
// default because iCloud Keychain passkeys are always syncable and would lock out every iPhone.
export const DEFAULT_POLICY: CoursePolicy = { minPresence: 0.75, lateAfterS: 600, requireBiometric: true, requireDeviceBound: false, minAttendancePct: 75, graceS: 60 };

export type DecisionReason = 'presence_ok' | 'presence_low' | 'verified' | 'verification_missing' | 'late_arrival';

export interface Decision {
  status: Exclude<AttendanceStatus, 'excused'>;
  presence: number;
  windowsSeen: number;
  windowsTotal: number;
  reasons: DecisionReason[];
}

export interface DecisionInput {
  startedAt: number;
  /** Session end, or the decision time for a provisional decision on a live session. */
  until: number;
  periodS: number;
  acceptedWindows: readonly number[];
  verified: boolean;
  policy: CoursePolicy;
}

export function decide(input: DecisionInput): Decision {
  const { first, last, count } = windowsOverlapping(input.startedAt, input.until, input.periodS);
  const seen = [...new Set(input.acceptedWindows)].filter((w) => w >= first && w <= last).sort((a, b) => a - b);
  const presence = seen.length / count;
  const reasons: DecisionReason[] = [];
  // Compare in whole windows to keep 3/4 = 0.75 exact against floating-point thresholds.
  const presenceOk = seen.length > 0 && seen.length >= Math.ceil(input.policy.minPresence * count - 1e-9);
  reasons.push(presenceOk ? 'presence_ok' : 'presence_low');
  const verificationOk = !input.policy.requireBiometric || input.verified;
  if (input.policy.requireBiometric) reasons.push(input.verified ? 'verified' : 'verification_missing');
  let status: Decision['status'] = 'absent';
  if (presenceOk && verificationOk) {
    const firstStart = windowStartMs(seen[0]!, input.periodS);
    const late = firstStart - input.startedAt >= input.policy.lateAfterS * 1000;
    if (late) reasons.push('late_arrival');
    status = late ? 'late' : 'present';
  }
  return { status, presence, windowsSeen: seen.length, windowsTotal: count, reasons };
}

/** The course policy as the API shows it, and its mapping to the stored columns. */
import { z } from 'zod';
import { DEFAULT_POLICY, type CoursePolicy } from '../domain/policy.js';

export const policyIn = z
  .object({
    min_presence: z.number().min(0).max(1).describe('fraction of the session windows a student must be seen in (0..1)'),
    late_after_min: z.number().int().min(0).max(240).describe('minutes after the start from which a first sighting counts as late'),
    require_biometric: z.boolean().describe('present/late also need a biometric verification'),
    require_device_bound: z.boolean().describe('refuse synced (backup-eligible) passkeys for verification'),
    min_attendance_percent: z.number().min(0).max(100).describe('students below this percentage are flagged in analytics'),
    grace_s: z.number().int().min(0).max(300).describe('seconds after a window ends during which its token is still accepted'),
    require_proximity: z.boolean().nullable().describe("only windows the room's gateway witnessed count toward presence; null: on when the session's room has an active gateway"),
  })
  .partial()
  .strict();

export const policyOut = z.object({
  min_presence: z.number(),
  late_after_min: z.number(),
  require_biometric: z.boolean(),
  require_device_bound: z.boolean(),
  min_attendance_percent: z.number(),
  grace_s: z.number(),
  require_proximity: z.boolean().nullable(),
});

export function mergePolicy(base: CoursePolicy, p: z.infer<typeof policyIn> | undefined): CoursePolicy {
  return {
    minPresence: p?.min_presence ?? base.minPresence,
    lateAfterS: p?.late_after_min === undefined ? base.lateAfterS : p.late_after_min * 60,
    requireBiometric: p?.require_biometric ?? base.requireBiometric,
    requireDeviceBound: p?.require_device_bound ?? base.requireDeviceBound,
    minAttendancePct: p?.min_attendance_percent ?? base.minAttendancePct,
    graceS: p?.grace_s ?? base.graceS,
    // null is a value here (back to the room's default), so only an absent field keeps the base.
    requireProximity: p?.require_proximity === undefined ? base.requireProximity : p.require_proximity,
  };
}

export function policyView(p: CoursePolicy): z.infer<typeof policyOut> {
  return {
    min_presence: p.minPresence,
    late_after_min: p.lateAfterS / 60,
    require_biometric: p.requireBiometric,
    require_device_bound: p.requireDeviceBound,
    min_attendance_percent: p.minAttendancePct,
    grace_s: p.graceS,
    require_proximity: p.requireProximity,
  };
}

export { DEFAULT_POLICY };

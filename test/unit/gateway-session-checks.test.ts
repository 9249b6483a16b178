/** The timetable check reads slots as wall-clock times of the institution's time zone (docs/protocol.md, "Sessions a gateway reports"). */
import { describe, expect, it } from 'vitest';
import { checkGatewayStart } from '../../cloud/bridge/gateway-session-checks.js';
import type { CourseSlot } from '../../cloud/store/schema.js';

const slot: CourseSlot = { id: 's', course_id: 'c', room_id: 'r', weekday: 1, start_time: '09:00', end_time: '10:30', period_s: null, created_at: 0 };
const gateway = { clock_skew_ms: null, online_since: null, created_at: 0 };
const check = (at: number, timezone: string) => checkGatewayStart({ courseId: 'c', startedAt: at, endsAt: null }, gateway, [slot], at, { timezone, toleranceMs: 300_000 });

describe('the timetable check', () => {
  it("reads a slot in the institution's time zone", () => {
    const mondayNineBerlin = Date.UTC(2026, 8, 7, 7, 0); // 09:00 CEST
    expect(check(mondayNineBerlin, 'Europe/Berlin')).toEqual({ ok: true, at: mondayNineBerlin });
    expect(check(mondayNineBerlin, 'UTC')).toMatchObject({ ok: false, code: 'not_in_timetable' });
    // A catch-up start late in the slot is fine; after its end (and the tolerance) it is not.
    expect(check(Date.UTC(2026, 8, 7, 8, 20), 'Europe/Berlin').ok).toBe(true);
    expect(check(Date.UTC(2026, 8, 7, 8, 40), 'Europe/Berlin')).toMatchObject({ ok: false, code: 'not_in_timetable' });
  });
});

/**
 * The attendance decision's view of verifications (the `VerifiedLookup` hook of
 * cloud/store/attendance.ts): a student is verified for a session when one of their verifications
 * falls inside the session's verification window around its end. For a live session the decision
 * is provisional "as if it ended now", so the window is taken around now.
 */
import type { VerifiedLookup } from '../store/attendance.js';
import { windowAround, type VerificationWindow } from './settings.js';
import { withWebAuthn } from './tables.js';

export function createVerifiedLookup(window: VerificationWindow, clock: () => number): VerifiedLookup {
  return async (db, session) => {
    const { from, to } = windowAround(session.ended_at ?? clock(), window);
    const rows = await withWebAuthn(db)
      .selectFrom('verifications')
      .select('student_id')
      .distinct()
      .where('session_id', '=', session.id)
      .where('at', '>=', from)
      .where('at', '<=', to)
      .where('uv', '=', 1)
      .execute();
    return new Set(rows.map((r) => r.student_id));
  };
}

/**
 * The attendance decision's view of verifications (the `VerifiedLookup` hook of
 * cloud/store/attendance.ts): a student is verified for a session when one of their verifications
 * falls inside the session's verification window around its end. For a live session the decision
 * is provisional "as if it ended now", so the window is taken around now.
 */
import type { VerifiedLookup } from '../store/attendance.js';
import { windowAround, type VerificationWindow } from './settings.js';

export function createVerifiedLookup(window: VerificationWindow, clock: () => number): VerifiedLookup {
  return (repos, session) => {
    const { from, to } = windowAround(session.ended_at ?? clock(), window);
    return repos.webauthn.verifiedStudents(session.id, from, to);
  };
}

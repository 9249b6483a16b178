/**
 * Validation of a submitted token against a session — docs/protocol.md §Validation at the cloud.
 * Pure: the caller supplies the server's receive time; the client clock is never used.
 */
import { tokenEquals, windowEndMs, windowIndex, windowStartMs } from '../../shared/token.js';

export interface SessionWindowView {
  startedAt: number;
  endedAt: number | null;
  periodS: number;
  graceS: number;
}

export type SubmissionVerdict =
  | { ok: true }
  | { ok: false; code: 'window_in_future' | 'window_expired' | 'window_outside_session' | 'token_invalid'; message: string };

export function checkWindow(session: SessionWindowView, w: number, receivedAt: number): SubmissionVerdict {
  const current = windowIndex(receivedAt, session.periodS);
  if (w > current) return { ok: false, code: 'window_in_future', message: 'the token belongs to a window that has not started' };
  const inGrace = w === current - 1 && receivedAt < windowEndMs(w, session.periodS) + session.graceS * 1000;
  if (w !== current && !inGrace) return { ok: false, code: 'window_expired', message: 'the token belongs to a window that has ended' };
  const overlaps = windowEndMs(w, session.periodS) > session.startedAt && (session.endedAt === null || windowStartMs(w, session.periodS) < session.endedAt);
  if (!overlaps) return { ok: false, code: 'window_outside_session', message: 'the token belongs to a window outside the session' };
  return { ok: true };
}

/**
 * `expectedToken(w)` is token(w) of the session (shared/token.ts); the caller may cache it, since
 * every student in the room presents the same one. Compared in constant time.
 */
export function validateSubmission(session: SessionWindowView, expectedToken: (w: number) => Uint8Array, w: number, token: Uint8Array, receivedAt: number): SubmissionVerdict {
  const window = checkWindow(session, w, receivedAt);
  if (!window.ok) return window;
  if (!tokenEquals(expectedToken(w), token)) {
    return { ok: false, code: 'token_invalid', message: 'the token is not valid for this room and window' };
  }
  return { ok: true };
}

/** Windows overlapping [startedAt, until): the denominator of presence. */
export function windowsOverlapping(startedAt: number, until: number, periodS: number): { first: number; last: number; count: number } {
  const first = windowIndex(startedAt, periodS);
  const last = Math.max(first, windowIndex(Math.max(startedAt, until - 1), periodS));
  return { first, last, count: last - first + 1 };
}

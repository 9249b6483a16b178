/**
 * Short-lived caches for the submission hot path, so a busy class costs one insert per
 * submission instead of five lookups: the room's current session (1 s) and a course's enrolled
 * students (30 s). Every committed change invalidates them at once: this instance's through its
 * events, another instance's through the change feed (change-feed.ts); the TTLs are the safety
 * net should a notification be lost. A course's enrolment set is one query for a whole class and
 * is what every student of that class checks against.
 */
import type { CloudEvents } from '../events.js';
import { onChange } from './change-feed.js';
import { ReadThroughCache } from './read-through-cache.js';
import type { Repositories } from './repositories.js';
import type { SessionForRoom } from './sessions.js';

const SESSION_TTL_MS = 1000;
const ENROLMENT_TTL_MS = 30_000;
const MAX_ENTRIES = 5000;

export interface SubmissionContext {
  sessionForRoomCode(roomCode: number, now: number): Promise<SessionForRoom | null>;
  isEnrolled(courseId: string, studentId: string, now: number): Promise<boolean>;
  /** Removes its event listeners; the caches are not used afterwards. */
  close(): void;
}

export function createSubmissionContext(repos: Pick<Repositories, 'sessions' | 'courses'>, events: CloudEvents): SubmissionContext {
  const sessions = new ReadThroughCache<number, SessionForRoom | null>({ ttlMs: SESSION_TTL_MS, maxEntries: MAX_ENTRIES, load: (roomCode, now) => repos.sessions.forRoomCode(roomCode, now) });
  const enrolments = new ReadThroughCache<string, Set<string>>({ ttlMs: ENROLMENT_TTL_MS, maxEntries: MAX_ENTRIES, load: (courseId) => repos.courses.enrolledIds(courseId) });
  // Any session or course change drops the room lookups, which hold the course's policy (rooms are few; keep it simple).
  const owner = {};
  onChange(events, owner, (change) => {
    if (change.kind === 'session' || change.kind === 'course' || change.kind === 'all') sessions.clear();
    if (change.kind === 'enrolment') enrolments.delete(change.id);
    if (change.kind === 'all') enrolments.clear();
  });

  return {
    sessionForRoomCode(roomCode, now) {
      // A cached ended session is re-read: its grace period is judged against `now`.
      return sessions.get(roomCode, now, (found) => found?.session.state !== 'ended');
    },
    async isEnrolled(courseId, studentId, now) {
      return (await enrolments.get(courseId, now)).has(studentId);
    },
    close: () => events.off(owner),
  };
}

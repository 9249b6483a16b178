/**
 * Short-lived caches for the submission hot path, so a busy class costs one insert per
 * submission instead of five lookups: the room's current session (1 s) and a course's enrolled
 * students (30 s). This instance's own changes invalidate them at once through CloudEvents;
 * changes made by another instance are seen within those TTLs. A course's enrolment set is one
 * query for a whole class and is what every student of that class checks against.
 */
import type { CloudEvents } from '../events.js';
import type { Repositories } from './repositories.js';
import type { SessionForRoom } from './sessions.js';

const SESSION_TTL_MS = 1000;
const ENROLMENT_TTL_MS = 30_000;
const MAX_ENTRIES = 5000;

interface Entry<T> {
  value: T;
  expires: number;
}

function put<K, T>(map: Map<K, Entry<T>>, key: K, value: T, expires: number): T {
  if (map.size >= MAX_ENTRIES) map.clear();
  map.set(key, { value, expires });
  return value;
}

export interface SubmissionContext {
  sessionForRoomCode(roomCode: number, now: number): Promise<SessionForRoom | null>;
  isEnrolled(courseId: string, studentId: string, now: number): Promise<boolean>;
  /** Removes its event listeners; the caches are not used afterwards. */
  close(): void;
}

export function createSubmissionContext(repos: Pick<Repositories, 'sessions' | 'courses'>, events: CloudEvents): SubmissionContext {
  const sessions = new Map<number, Entry<SessionForRoom | null>>();
  const enrolments = new Map<string, Entry<Set<string>>>();
  // Any session change in this instance drops the room lookups (rooms are few; keep it simple).
  const owner = {};
  events.on('session.started', owner, () => sessions.clear());
  events.on('session.ended', owner, () => sessions.clear());
  events.on('enrollment.changed', owner, ({ course_id }) => enrolments.delete(course_id));

  return {
    async sessionForRoomCode(roomCode, now) {
      const hit = sessions.get(roomCode);
      // A cached ended session is re-read: its grace period is judged against `now`.
      if (hit && hit.expires > now && hit.value?.session.state !== 'ended') return hit.value;
      return put(sessions, roomCode, await repos.sessions.forRoomCode(roomCode, now), now + SESSION_TTL_MS);
    },
    async isEnrolled(courseId, studentId, now) {
      let hit = enrolments.get(courseId);
      if (!hit || hit.expires <= now) {
        put(enrolments, courseId, await repos.courses.enrolledIds(courseId), now + ENROLMENT_TTL_MS);
        hit = enrolments.get(courseId)!;
      }
      return hit.value.has(studentId);
    },
    close: () => events.off(owner),
  };
}

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
  // Counts invalidations, so a read that began before one is not cached after it.
  let changes = 0;
  // Any session or course change drops the room lookups, which hold the course's policy (rooms are few; keep it simple).
  const owner = {};
  onChange(events, owner, (change) => {
    if (change.kind === 'command' || change.kind === 'account' || change.kind === 'gateway') return; // not held here
    changes++;
    if (change.kind === 'session' || change.kind === 'course' || change.kind === 'all') sessions.clear();
    if (change.kind === 'enrolment') enrolments.delete(change.id);
    if (change.kind === 'all') enrolments.clear();
  });

  return {
    async sessionForRoomCode(roomCode, now) {
      const hit = sessions.get(roomCode);
      // A cached ended session is re-read: its grace period is judged against `now`.
      if (hit && hit.expires > now && hit.value?.session.state !== 'ended') return hit.value;
      const seen = changes;
      const found = await repos.sessions.forRoomCode(roomCode, now);
      return seen === changes ? put(sessions, roomCode, found, now + SESSION_TTL_MS) : found;
    },
    async isEnrolled(courseId, studentId, now) {
      const hit = enrolments.get(courseId);
      if (hit && hit.expires > now) return hit.value.has(studentId);
      const seen = changes;
      const ids = await repos.courses.enrolledIds(courseId);
      if (seen === changes) put(enrolments, courseId, ids, now + ENROLMENT_TTL_MS);
      return ids.has(studentId);
    },
    close: () => events.off(owner),
  };
}

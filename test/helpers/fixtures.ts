/** Builds a course through the admin API: a teacher, a room, enrolled students. */
import { expect } from 'vitest';
import { deriveSessionKey, tokenForWindow, windowIndex } from '../../shared/token.js';
import { encodeFrame } from '../../shared/frame.js';
import type { CloudHarness } from './cloud.js';

export type TestUser = Awaited<ReturnType<CloudHarness['user']>>;

export interface CourseFixture {
  admin: TestUser;
  teacher: TestUser;
  students: TestUser[];
  courseId: string;
  roomId: string;
  roomCode: number;
  /** The room secret read from the store (tests play the gateway's part). */
  roomSecret: Buffer;
}

export async function setupCourse(h: CloudHarness, opts: { students?: number; policy?: Record<string, unknown>; code?: string } = {}): Promise<CourseFixture> {
  const admin = await h.user('admin');
  const teacher = await h.user('teacher');
  const students: TestUser[] = [];
  for (let i = 0; i < (opts.students ?? 3); i++) students.push(await h.user('student', `student${String.fromCharCode(97 + i)}`));
  const room = await h.http().post('/api/v1/admin/rooms').set(admin.auth).send({ name: `Room ${opts.code ?? 'R1'}` });
  expect(room.status).toBe(201);
  const course = await h.http().post('/api/v1/admin/courses').set(admin.auth)
    .send({ code: opts.code ?? 'CS101', name: 'Algorithms', teacher_id: teacher.id, policy: opts.policy });
  expect(course.status).toBe(201);
  if (students.length) {
    const enrol = await h.http().post(`/api/v1/admin/courses/${course.body.id}/enrollments`).set(admin.auth).send({ student_ids: students.map((s) => s.id) });
    expect(enrol.body.enrolled).toBe(students.length);
  }
  const row = await h.store.rooms.get(room.body.id);
  expect(row).toBeDefined();
  return { admin, teacher, students, courseId: course.body.id, roomId: room.body.id, roomCode: room.body.room_code, roomSecret: Buffer.from(row!.secret, 'hex') };
}

/** The frame a gateway in the room advertises for `sessionId` at time `atMs` — as hex. */
export function frameAt(f: Pick<CourseFixture, 'roomCode' | 'roomSecret'>, sessionId: string, periodS: number, atMs: number): string {
  const w = windowIndex(atMs, periodS);
  const token = tokenForWindow(deriveSessionKey(f.roomSecret, sessionId), w);
  return encodeFrame({ roomCode: f.roomCode, w, token }).toString('hex');
}

/**
 * Gives the course a weekly slot in its room around `atMs` (UTC, the harness's time zone), so that
 * a session the room's gateway starts by its timetable then is one the cloud accepts.
 */
export async function slotAround(h: CloudHarness, f: Pick<CourseFixture, 'admin' | 'courseId' | 'roomId'>, atMs: number): Promise<{ weekday: number; start: string; end: string }> {
  const at = new Date(atMs);
  const minute = at.getUTCHours() * 60 + at.getUTCMinutes();
  const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
  const slot = { weekday: at.getUTCDay(), start: hhmm(Math.max(0, minute - 60)), end: hhmm(Math.min(23 * 60 + 59, minute + 60)) };
  const res = await h.http().post(`/api/v1/admin/courses/${f.courseId}/timetable`).set(f.admin.auth).send({ ...slot, room_id: f.roomId });
  expect(res.status).toBe(201);
  return slot;
}

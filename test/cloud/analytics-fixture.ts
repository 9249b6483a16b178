/**
 * A hand-built term of one course in Europe/Berlin whose right numbers are known (see the table
 * in docs/analytics.md). Everything goes through the real API: sessions are started and ended by
 * the teacher, students submit the frames a gateway would advertise, overrides are PUT.
 *
 *   S1 Mon 2026-09-07 10:00–11:00  Ada present, Ben present, Cem late (from minute 15), Dan nothing
 *   S2 Wed 2026-09-09 10:00–11:00  Ada present, Ben seen twice then excused, Cem present, Dan nothing
 *   S4 Thu 2026-09-10 10:00 (room 2, never ended: live sessions never count)
 *   S3 Fri 2026-09-11 23:30–00:30  Ada present, Ben present, Cem nothing, Dan nothing (crosses midnight)
 *   S5 Thu 2026-10-01 00:30–01:30  Ada, Ben, Cem present, Dan nothing (still 30 September in UTC)
 *   Eve is enrolled after all of them: she has no record at all.
 * Courses here do not require biometric verification: it is not part of these definitions.
 */
import { expect } from 'vitest';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';
import { frameAt, type TestUser } from '../helpers/fixtures.js';

export const TZ = 'Europe/Berlin';
export const PERIOD_S = 300;
const WINDOWS = 12; // 60-minute sessions of 5-minute windows
const ALL = Array.from({ length: WINDOWS }, (_, i) => i);
export const LATE_FROM_MINUTE_15 = ALL.slice(3); // 9 of 12 windows = 0.75: enough, but late
const SEEN_TWICE = [0, 1];

/** Berlin is UTC+2 until 25 October 2026. */
const berlin = (date: string, hhmm: string) => Date.parse(`${date}T${hhmm}:00+02:00`);

export interface AnalyticsWorld {
  h: CloudHarness;
  admin: TestUser;
  teacher: TestUser;
  otherTeacher: TestUser;
  student: Record<'ada' | 'ben' | 'cem' | 'dan' | 'eve', TestUser>;
  courseId: string;
  courseCode: string;
  noTermCourseId: string;
  sessions: { s1: string; s2: string; s3: string; s4: string; s5: string };
  /** The frame room 202's gateway advertises for the live session S4 at `atMs`. */
  liveFrame(atMs: number): string;
  /** A fresh bearer header for `u` at the harness clock's current time. */
  auth(u: TestUser): Promise<{ Authorization: string }>;
}

export async function buildAnalyticsWorld(): Promise<AnalyticsWorld> {
  const h = await createCloudHarness({ env: { ATTENDANCE_TIMEZONE: TZ } });
  const auth = async (u: TestUser) => ({ Authorization: `Bearer ${(await h.deps.tokens.issue({ id: u.id, role: (await roleOf(h, u.id)) })).token}` });
  const admin = await h.user('admin');
  const teacher = await h.user('teacher', 'Grace');
  const otherTeacher = await h.user('teacher', 'Otto');
  const student = {
    ada: await h.user('student', 'Ada'),
    ben: await h.user('student', 'Ben'),
    cem: await h.user('student', 'Cem'),
    dan: await h.user('student', 'Dan'),
  };
  const post = async (path: string, body: object) => {
    const res = await h.http().post(path).set(await auth(admin)).send(body);
    expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(201);
    return res.body;
  };
  const term = await post('/api/v1/admin/terms', { name: 'Autumn 2026', starts_on: '2026-09-01', ends_on: '2026-12-20' });
  const room1 = await post('/api/v1/admin/rooms', { name: 'Room 101' });
  const room2 = await post('/api/v1/admin/rooms', { name: 'Room 202' });
  const course = await post('/api/v1/admin/courses', { code: 'CS101', name: 'Algorithms', teacher_id: teacher.id, term_id: term.id, policy: { require_biometric: false } });
  const noTerm = await post('/api/v1/admin/courses', { code: 'CS999', name: 'No term', teacher_id: teacher.id });
  const enrol = async (ids: string[]) => {
    const res = await h.http().post(`/api/v1/admin/courses/${course.id}/enrollments`).set(await auth(admin)).send({ student_ids: ids });
    expect(res.body.enrolled).toBe(ids.length);
  };
  await enrol(Object.values(student).map((s) => s.id));

  const secretOf = async (roomId: string) =>
    Buffer.from((await h.store.db.selectFrom('rooms').select('secret').where('id', '=', roomId).executeTakeFirstOrThrow()).secret, 'hex');
  const rooms: Record<string, { roomCode: number; roomSecret: Buffer }> = {
    [room1.id]: { roomCode: room1.room_code as number, roomSecret: await secretOf(room1.id) },
    [room2.id]: { roomCode: room2.room_code as number, roomSecret: await secretOf(room2.id) },
  };

  async function runSession(startMs: number, roomId: string, seen: Array<[TestUser, number[]]>, end = true): Promise<string> {
    h.clock.set(startMs);
    const started = await h.http().post('/api/v1/teacher/session/start').set(await auth(teacher)).send({ course_id: course.id, room_id: roomId, period_s: PERIOD_S });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const sessionId: string = started.body.session_id;
    for (let w = 0; w < WINDOWS; w++) {
      const at = startMs + w * PERIOD_S * 1000 + 20_000;
      h.clock.set(at);
      for (const [s, windows] of seen) {
        if (!windows.includes(w)) continue;
        const res = await h.http().post('/api/v1/student/token/submit').set(await auth(s)).send({ frame: frameAt(rooms[roomId]!, sessionId, PERIOD_S, at) });
        expect(res.body.status, JSON.stringify(res.body)).toBe('accepted');
      }
    }
    if (end) {
      h.clock.set(startMs + WINDOWS * PERIOD_S * 1000);
      const ended = await h.http().post(`/api/v1/teacher/session/${sessionId}/end`).set(await auth(teacher));
      expect(ended.status, JSON.stringify(ended.body)).toBe(200);
    }
    return sessionId;
  }

  const { ada, ben, cem } = student; // Dan never submits anything
  const s1 = await runSession(berlin('2026-09-07', '10:00'), room1.id, [[ada, ALL], [ben, ALL], [cem, LATE_FROM_MINUTE_15]]);
  const s2 = await runSession(berlin('2026-09-09', '10:00'), room1.id, [[ada, ALL], [ben, SEEN_TWICE], [cem, ALL]]);
  const excuse = await h.http().put(`/api/v1/teacher/session/${s2}/attendance/${ben.id}`).set(await auth(teacher)).send({ status: 'excused', reason: "doctor's note" });
  expect(excuse.status, JSON.stringify(excuse.body)).toBe(200);
  const s4 = await runSession(berlin('2026-09-10', '10:00'), room2.id, [[ada, ALL]], false);
  const s3 = await runSession(berlin('2026-09-11', '23:30'), room1.id, [[ada, ALL], [ben, ALL]]);
  const s5 = await runSession(berlin('2026-10-01', '00:30'), room1.id, [[ada, ALL], [ben, ALL], [cem, ALL]]);
  const eve = await h.user('student', 'Eve');
  await enrol([eve.id]);
  h.clock.set(berlin('2026-10-02', '12:00'));

  return {
    h, admin, teacher, otherTeacher, student: { ...student, eve }, courseId: course.id, courseCode: 'CS101', noTermCourseId: noTerm.id,
    sessions: { s1, s2, s3, s4, s5 }, auth, liveFrame: (atMs) => frameAt(rooms[room2.id]!, s4, PERIOD_S, atMs),
  };
}

async function roleOf(h: CloudHarness, userId: string) {
  return (await h.store.db.selectFrom('users').select('role').where('id', '=', userId).executeTakeFirstOrThrow()).role;
}

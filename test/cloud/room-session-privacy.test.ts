/**
 * The room's live session, and what the answers about it tell whom: a valid current frame reaches
 * the live session whatever other sessions of the room started after it; the busy-room error shows
 * the live session's id only to its own teacher and admins; a student cannot tell from submission
 * errors which rooms are live.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';
import { frameAt, setupCourse, type CourseFixture } from '../helpers/fixtures.js';
import { uuidv7 } from '../../shared/ids.js';

const PERIOD = 60;
const MIN = 60_000;
let h: CloudHarness;
let f: CourseFixture;

beforeEach(async () => {
  h = await createCloudHarness();
  f = await setupCourse(h, { students: 1 });
});
afterEach(async () => {
  await h.close();
});

const startSession = (who: CourseFixture['teacher'], courseId: string, roomId: string) =>
  h.http().post('/api/v1/teacher/session/start').set(who.auth).send({ course_id: courseId, room_id: roomId, period_s: PERIOD });
const submit = (who: CourseFixture['students'][number], frame: string) => h.http().post('/api/v1/student/token/submit').set(who.auth).send({ frame });

describe("the room's live session", () => {
  it('an ended session that started later does not hide the room\'s live session', async () => {
    const t0 = h.clock();
    // A session reported with a start half an hour ahead of the cloud's clock, ended a minute later.
    const course = (await h.store.courses.get(f.courseId))!;
    const room = (await h.store.rooms.get(f.roomId))!;
    const ahead = await h.store.sessions.start({ id: uuidv7(t0), course, room, periodS: PERIOD, startedAt: t0 + 30 * MIN, source: 'timetable', startedBy: null });
    await h.store.sessions.end({ session: ahead, course, endedAt: t0 + MIN, actorId: null, verifiedLookup: h.deps.verifiedLookup });
    h.clock.advance(5 * MIN); // past the ended one's grace period, within the hour it is looked at

    const live = await startSession(f.teacher, f.courseId, f.roomId);
    expect(live.status).toBe(201);
    const res = await submit(f.students[0]!, frameAt(f, live.body.session_id, PERIOD, h.clock()));
    expect([res.status, res.body]).toMatchObject([200, { status: 'accepted', session_id: live.body.session_id }]);
  });
});

describe('information leaks', () => {
  it("the busy-room error does not reveal another teacher's session", async () => {
    const live = await startSession(f.teacher, f.courseId, f.roomId);
    const other = await setupCourse(h, { code: 'CS202', students: 0 });

    const busy = await startSession(other.teacher, other.courseId, f.roomId);
    expect(busy.status).toBe(409);
    expect(busy.body.error.code).toBe('room_busy');
    expect(busy.body.error.details).toBeUndefined();
    expect(JSON.stringify(busy.body)).not.toContain(live.body.session_id);

    // Its own teacher and an admin may see which session holds the room.
    for (const who of [f.teacher, f.admin]) {
      const again = await startSession(who, f.courseId, f.roomId);
      expect(again.body.error).toMatchObject({ code: 'room_busy', details: { session_id: live.body.session_id } });
    }
  });

  it('submission errors do not reveal which rooms are live', async () => {
    const idle = await setupCourse(h, { code: 'CS202', students: 0 });
    const busy = await setupCourse(h, { code: 'CS303', students: 0 });
    const live = await startSession(busy.teacher, busy.courseId, busy.roomId);
    expect(live.status).toBe(201);
    const student = f.students[0]!;
    const now = h.clock();
    const answers = [
      await submit(student, frameAt({ roomCode: (Math.max(f.roomCode, idle.roomCode, busy.roomCode) + 1) >>> 0, roomSecret: f.roomSecret }, uuidv7(), PERIOD, now)), // no such room
      await submit(student, frameAt(idle, uuidv7(), PERIOD, now)), // a room without a session
      await submit(student, frameAt(busy, live.body.session_id, PERIOD, now)), // live, another course: even its valid token
      await submit(student, frameAt(busy, uuidv7(), PERIOD, now)), // live, another course, a wrong token
    ];
    const seen = answers.map((r) => [r.status, r.body.error.code, r.body.error.message]);
    expect(new Set(seen.map((s) => JSON.stringify(s))).size).toBe(1);
    expect(seen[0]).toEqual([409, 'no_active_session', 'no session you can submit to is running in this room']);
    // Counted alike as well (the metrics endpoint is public).
    const counted = (await h.deps.metrics.submissions.get()).values.map((v) => v.labels.result);
    expect(counted).toEqual(['no_active_session']);
  });
});

/**
 * The records behind the console's past sessions and student pages, on the analytics term
 * (test/cloud/analytics-fixture.ts): a session's overrides with who set them, one student's
 * history in a course, and the per-session counts of a course. Who may read each, and the 4xx.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAnalyticsWorld, type AnalyticsWorld } from './analytics-fixture.js';

let world: AnalyticsWorld;
beforeAll(async () => {
  world = await buildAnalyticsWorld();
});
afterAll(() => world.h.close());

const UNKNOWN = '01890000-0000-7000-8000-000000000000';
const history = (student: string, course = world.courseId) => `/api/v1/teacher/courses/${course}/students/${student}/history`;
const overrides = (session: string) => `/api/v1/teacher/session/${session}/overrides`;
const counts = (extra = '') => `/api/v1/teacher/analytics/session_counts?course_id=${world.courseId}${extra}`;
type Item = { session_id: string; status: string | null; decided_status: string | null; reasons: string[]; override: { status: string; reason: string; by: { id: string; full_name: string | null } } | null };

describe("one student's history", () => {
  it('lists every ended session newest first with the status, the decision, its reasons and the override with who set it', async () => {
    const res = await world.h.http().get(history(world.student.ben.id)).set(await world.auth(world.teacher));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const { s1, s2, s3, s5 } = world.sessions;
    expect(res.body.items.map((i: Item) => [i.session_id, i.status])).toEqual([[s5, 'present'], [s3, 'present'], [s2, 'excused'], [s1, 'present']]);
    const excused = res.body.items.find((i: Item) => i.session_id === s2);
    expect(excused.decided_status).toBe('absent');
    expect(excused.reasons).toEqual(['presence_low']);
    expect(excused.override).toMatchObject({ status: 'excused', reason: "doctor's note", by: { id: world.teacher.id, full_name: 'Grace' } });
    expect(res.body).toMatchObject({
      course: { id: world.courseId, code: 'CS101' }, student: { id: world.student.ben.id, full_name: 'Ben' }, timezone: 'Europe/Berlin',
      min_attendance_percent: 75, present: 3, late: 0, absent: 0, excused: 1, percentage: 100, below_minimum: false,
    });
  });

  it('counts like the percentage: late attends, 3 of 4 is not below a 75 % minimum, never attending is', async () => {
    const auth = await world.auth(world.teacher);
    const cem = (await world.h.http().get(history(world.student.cem.id)).set(auth)).body;
    expect(cem).toMatchObject({ present: 2, late: 1, absent: 1, excused: 0, percentage: 75, below_minimum: false });
    expect(cem.items.at(-1).reasons).toContain('late_arrival');
    const dan = (await world.h.http().get(history(world.student.dan.id)).set(auth)).body;
    expect(dan).toMatchObject({ present: 0, absent: 4, percentage: 0, below_minimum: true });
  });

  it('shows the sessions before a late enrolment as without a record', async () => {
    const res = await world.h.http().get(history(world.student.eve.id)).set(await world.auth(world.admin));
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(4);
    expect(res.body.items.every((i: Item) => i.status === null && i.override === null)).toBe(true);
    expect(res.body).toMatchObject({ percentage: null, below_minimum: false });
  });

  it("answers 404 alike for another teacher's course, an unknown course and a student not enrolled; 403 for students, 400 for a bad id", async () => {
    const other = await world.auth(world.otherTeacher);
    const stranger = await world.h.user('student', 'Stranger');
    for (const [path, auth] of [
      [history(world.student.ben.id), other], [history(world.student.ben.id, UNKNOWN), await world.auth(world.teacher)],
      [history(stranger.id), await world.auth(world.teacher)], [history(UNKNOWN), await world.auth(world.admin)],
      [history(world.student.ben.id, world.noTermCourseId), await world.auth(world.teacher)],
    ] as const) {
      const res = await world.h.http().get(path).set(auth);
      expect(res.status, path).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    }
    expect((await world.h.http().get(history(world.student.ben.id)).set(await world.auth(world.student.ben))).status).toBe(403);
    expect((await world.h.http().get(history(world.student.ben.id))).status).toBe(401);
    const bad = await world.h.http().get(history('nope')).set(await world.auth(world.teacher));
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_error');
  });
});

describe("a session's overrides", () => {
  it('names who set each override; sessions without one list none', async () => {
    const auth = await world.auth(world.teacher);
    const res = await world.h.http().get(overrides(world.sessions.s2)).set(auth);
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual([{
      student_id: world.student.ben.id, full_name: 'Ben', decided_status: 'absent',
      override: { status: 'excused', reason: "doctor's note", at: expect.any(String), by: { id: world.teacher.id, full_name: 'Grace' } },
    }]);
    expect((await world.h.http().get(overrides(world.sessions.s1)).set(auth)).body.items).toEqual([]);
  });

  it("shows an admin's override under the admin's name, and refuses other teachers and students", async () => {
    const put = await world.h.http().put(`/api/v1/teacher/session/${world.sessions.s1}/attendance/${world.student.dan.id}`).set(await world.auth(world.admin)).send({ status: 'late', reason: 'signed the paper list' });
    expect(put.status).toBe(200);
    const res = await world.h.http().get(overrides(world.sessions.s1)).set(await world.auth(world.teacher));
    expect(res.body.items).toHaveLength(1);
    expect(res.body.items[0].override.by).toEqual({ id: world.admin.id, full_name: expect.any(String) });
    expect(res.body.items[0].override.by.full_name).not.toBe('Grace');
    expect((await world.h.http().get(overrides(world.sessions.s1)).set(await world.auth(world.otherTeacher))).status).toBe(403);
    expect((await world.h.http().get(overrides(world.sessions.s1)).set(await world.auth(world.student.dan))).status).toBe(403);
    expect((await world.h.http().get(overrides(UNKNOWN)).set(await world.auth(world.teacher))).status).toBe(404);
  });
});

describe("a course's per-session counts", () => {
  it("counts each ended session of the course's term, oldest first; a range narrows it", async () => {
    const auth = await world.auth(world.teacher);
    const res = await world.h.http().get(counts()).set(auth);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ from: '2026-09-01', to: '2026-12-20', timezone: 'Europe/Berlin', course: { code: 'CS101' } });
    const { s1, s2, s3, s5 } = world.sessions;
    expect(res.body.items.map((i: { session_id: string }) => i.session_id)).toEqual([s1, s2, s3, s5]);
    expect(res.body.items[1]).toMatchObject({ enrolled: 4, present: 2, late: 0, absent: 1, excused: 1, attendance_rate: 66.67 });
    const narrow = await world.h.http().get(counts('&from=2026-09-09&to=2026-09-11')).set(auth);
    expect(narrow.body.items.map((i: { session_id: string }) => i.session_id)).toEqual([s2, s3]);
    const csv = await world.h.http().get(counts('&format=csv')).set(auth);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.text.split('\n')[0]).toContain('session_id');
  });

  it('refuses a reversed range, another teacher and students', async () => {
    const reversed = await world.h.http().get(counts('&from=2026-09-11&to=2026-09-09')).set(await world.auth(world.teacher));
    expect(reversed.status).toBe(400);
    expect(reversed.body.error.code).toBe('invalid_range');
    expect((await world.h.http().get(counts()).set(await world.auth(world.otherTeacher))).status).toBe(403);
    expect((await world.h.http().get(counts()).set(await world.auth(world.student.ada))).status).toBe(403);
  });
});

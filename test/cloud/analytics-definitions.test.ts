/**
 * The analytics definitions on a hand-built term (analytics-fixture.ts) whose numbers are known:
 * a student who never submitted, an excused session, a late arrival, a session crossing midnight
 * in Europe/Berlin, a session on 1 October that UTC would put in September, an empty trend day.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAnalyticsWorld, type AnalyticsWorld } from './analytics-fixture.js';

let world: AnalyticsWorld;
beforeAll(async () => {
  world = await buildAnalyticsWorld();
});
afterAll(() => world.h.close());

async function get(path: string) {
  const res = await world.h.http().get(path).set(await world.auth(world.teacher));
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

type Row = { full_name: string; sessions_held: number; present: number; late: number; absent: number; excused: number; percentage: number | null; below_minimum: boolean };
const byName = (items: Row[]) => Object.fromEntries(items.map((r) => [r.full_name, [r.sessions_held, r.present, r.late, r.absent, r.excused, r.percentage, r.below_minimum]]));

describe('attendance_percentage', () => {
  it('September: late counts as attended, excused leaves the denominator, no submissions is absent, the 1 October 00:30 class is not in it', async () => {
    const body = await get(`/api/v1/teacher/analytics/attendance_percentage?course_id=${world.courseId}&period=month&month=2026-09`);
    expect(body).toMatchObject({ period: 'month', from: '2026-09-01', to: '2026-09-30', timezone: 'Europe/Berlin', min_attendance_percent: 75, sessions_held: 3 });
    //                    held present late absent excused  %      below
    expect(byName(body.items)).toEqual({
      Ada: [3, 3, 0, 0, 0, 100, false],
      Ben: [3, 2, 0, 0, 1, 100, false],
      Cem: [3, 1, 1, 1, 0, 66.67, true],
      Dan: [3, 0, 0, 3, 0, 0, true],
      Eve: [0, 0, 0, 0, 0, null, false],
    });
  });

  it('October holds only the class that started at 00:30 local time on the 1st', async () => {
    const body = await get(`/api/v1/teacher/analytics/attendance_percentage?course_id=${world.courseId}&month=2026-10`);
    expect(body.sessions_held).toBe(1);
    expect(byName(body.items)).toMatchObject({ Ada: [1, 1, 0, 0, 0, 100, false], Cem: [1, 1, 0, 0, 0, 100, false], Dan: [1, 0, 0, 1, 0, 0, true] });
  });

  it('the semester is the course term; exactly the minimum (3 of 4 = 75 %) is not flagged', async () => {
    const body = await get(`/api/v1/teacher/analytics/attendance_percentage?course_id=${world.courseId}&period=semester`);
    expect(body).toMatchObject({ period: 'semester', from: '2026-09-01', to: '2026-12-20', sessions_held: 4 });
    expect(byName(body.items)).toEqual({
      Ada: [4, 4, 0, 0, 0, 100, false],
      Ben: [4, 3, 0, 0, 1, 100, false],
      Cem: [4, 2, 1, 1, 0, 75, false],
      Dan: [4, 0, 0, 4, 0, 0, true],
      Eve: [0, 0, 0, 0, 0, null, false],
    });
  });

  it('without month it is the current month of the server clock in the configured zone', async () => {
    const body = await get(`/api/v1/teacher/analytics/attendance_percentage?course_id=${world.courseId}`);
    expect(body).toMatchObject({ from: '2026-10-01', to: '2026-10-31', sessions_held: 1 });
  });
});

describe('daily_class_report', () => {
  const report = (date: string) => get(`/api/v1/teacher/analytics/daily_class_report?date=${date}&course_id=${world.courseId}`);

  it('a class from 23:30 to 00:30 is reported on the day it started, once', async () => {
    const friday = await report('2026-09-11');
    expect(friday.items).toHaveLength(1);
    expect(friday.items[0]).toMatchObject({
      session_id: world.sessions.s3, course_code: 'CS101', room_name: 'Room 101',
      started_at: '2026-09-11T21:30:00.000Z', ended_at: '2026-09-11T22:30:00.000Z',
      enrolled: 4, present: 2, late: 0, absent: 2, excused: 0, attendance_rate: 50,
    });
    expect((await report('2026-09-12')).items).toEqual([]);
  });

  it('the excused student is counted as excused, not absent', async () => {
    const wednesday = await report('2026-09-09');
    expect(wednesday.items[0]).toMatchObject({ enrolled: 4, present: 2, late: 0, absent: 1, excused: 1, attendance_rate: 66.67 });
  });

  it('day boundaries follow Europe/Berlin: 00:30 on 1 October is not 30 September', async () => {
    expect((await report('2026-09-30')).items).toEqual([]);
    expect((await report('2026-10-01')).items[0]).toMatchObject({ session_id: world.sessions.s5, started_at: '2026-09-30T22:30:00.000Z', present: 3, absent: 1 });
  });

  it('a live session is not reported', async () => {
    expect((await report('2026-09-10')).items).toEqual([]);
  });

  it("without course_id a teacher gets all of their courses' sessions that day", async () => {
    const body = await get('/api/v1/teacher/analytics/daily_class_report?date=2026-09-07');
    expect(body.items.map((i: { session_id: string }) => i.session_id)).toEqual([world.sessions.s1]);
    expect(body.items[0]).toMatchObject({ enrolled: 4, present: 2, late: 1, absent: 1, excused: 0, attendance_rate: 75 });
  });
});

describe('attendance_trends', () => {
  it('is zero-filled day by day, marking days without a session (the live one included)', async () => {
    const body = await get(`/api/v1/teacher/analytics/attendance_trends?course_id=${world.courseId}&from=2026-09-07&to=2026-09-13`);
    const days = body.items.map((b: { start: string; sessions: number; has_session: boolean; present: number; late: number; absent: number; excused: number; attendance_rate: number | null }) =>
      [b.start, b.sessions, b.has_session, b.present, b.late, b.absent, b.excused, b.attendance_rate]);
    expect(days).toEqual([
      ['2026-09-07', 1, true, 2, 1, 1, 0, 75],
      ['2026-09-08', 0, false, 0, 0, 0, 0, null],
      ['2026-09-09', 1, true, 2, 0, 1, 1, 66.67],
      ['2026-09-10', 0, false, 0, 0, 0, 0, null],
      ['2026-09-11', 1, true, 2, 0, 2, 0, 50],
      ['2026-09-12', 0, false, 0, 0, 0, 0, null],
      ['2026-09-13', 0, false, 0, 0, 0, 0, null],
    ]);
  });

  it('weeks start on Monday and are clipped to the range', async () => {
    const body = await get(`/api/v1/teacher/analytics/attendance_trends?course_id=${world.courseId}&from=2026-09-01&to=2026-09-13&bucket=week`);
    expect(body.items).toEqual([
      { start: '2026-09-01', end: '2026-09-06', sessions: 0, has_session: false, records: 0, present: 0, late: 0, absent: 0, excused: 0, attendance_rate: null },
      { start: '2026-09-07', end: '2026-09-13', sessions: 3, has_session: true, records: 12, present: 6, late: 1, absent: 4, excused: 1, attendance_rate: 63.64 },
    ]);
  });

  it('defaults to the 28 days ending today in the configured zone', async () => {
    const body = await get(`/api/v1/teacher/analytics/attendance_trends?course_id=${world.courseId}`);
    expect(body).toMatchObject({ from: '2026-09-05', to: '2026-10-02', bucket: 'day' });
    expect(body.items).toHaveLength(28);
    expect(body.items.filter((b: { has_session: boolean }) => b.has_session).map((b: { start: string }) => b.start)).toEqual(['2026-09-07', '2026-09-09', '2026-09-11', '2026-10-01']);
  });

  it('accepts a whole (leap-free) year of 366 days', async () => {
    const body = await get(`/api/v1/teacher/analytics/attendance_trends?course_id=${world.courseId}&from=2026-01-01&to=2027-01-01`);
    expect(body.items).toHaveLength(366);
  });
});

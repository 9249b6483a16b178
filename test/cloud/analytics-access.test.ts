/**
 * Who may read which analytics, the 4xx answers for bad input, and the CSV form of each report.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAnalyticsWorld, type AnalyticsWorld } from './analytics-fixture.js';

let world: AnalyticsWorld;
beforeAll(async () => {
  world = await buildAnalyticsWorld();
});
afterAll(() => world.h.close());

const pct = (course: string, extra = '') => `/api/v1/teacher/analytics/attendance_percentage?course_id=${course}${extra}`;
const trends = (course: string, extra = '') => `/api/v1/teacher/analytics/attendance_trends?course_id=${course}${extra}`;
const UNKNOWN = '01890000-0000-7000-8000-000000000000';

describe('who may read analytics', () => {
  it('needs a bearer token', async () => {
    const res = await world.h.http().get(pct(world.courseId));
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthenticated');
  });

  it('refuses students', async () => {
    const res = await world.h.http().get(pct(world.courseId)).set(await world.auth(world.student.ada));
    expect(res.status).toBe(403);
  });

  it("refuses another teacher's course on every endpoint, naming why", async () => {
    const other = await world.auth(world.otherTeacher);
    for (const path of [pct(world.courseId), trends(world.courseId), `/api/v1/teacher/analytics/daily_class_report?date=2026-09-07&course_id=${world.courseId}`]) {
      const res = await world.h.http().get(path).set(other);
      expect(res.status, path).toBe(403);
      expect(res.body.error).toEqual({ code: 'forbidden', message: 'this course belongs to another teacher' });
    }
  });

  it("another teacher's day report without course_id lists none of this teacher's sessions", async () => {
    const res = await world.h.http().get('/api/v1/teacher/analytics/daily_class_report?date=2026-09-07').set(await world.auth(world.otherTeacher));
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual([]);
  });

  it('lets an admin read any course, and the whole institution day without course_id', async () => {
    const admin = await world.auth(world.admin);
    const res = await world.h.http().get(pct(world.courseId, '&month=2026-09')).set(admin);
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(5);
    const day = await world.h.http().get('/api/v1/teacher/analytics/daily_class_report?date=2026-09-07').set(admin);
    expect(day.body.items.map((i: { session_id: string }) => i.session_id)).toEqual([world.sessions.s1]);
  });

  it('answers 404 for a course that does not exist', async () => {
    const res = await world.h.http().get(pct(UNKNOWN)).set(await world.auth(world.teacher));
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });
});

describe('bad input gets a 4xx that says what is wrong', () => {
  const cases: Array<[string, (c: string) => string, number, string, string?]> = [
    ['a day that does not exist', (c) => trends(c, '&from=2026-02-30&to=2026-03-01'), 400, 'validation_error', 'from'],
    ['a date in the wrong format', () => '/api/v1/teacher/analytics/daily_class_report?date=7.9.2026', 400, 'validation_error', 'date'],
    ['month 13', (c) => pct(c, '&month=2026-13'), 400, 'validation_error', 'month'],
    ['a month with period=semester', (c) => pct(c, '&period=semester&month=2026-09'), 400, 'validation_error', 'month'],
    ['an unknown period', (c) => pct(c, '&period=year'), 400, 'validation_error', 'period'],
    ['an unknown bucket', (c) => trends(c, '&bucket=hour'), 400, 'validation_error', 'bucket'],
    ['a course id that is not a UUID', () => pct('cs101'), 400, 'validation_error', 'course_id'],
    ['from after to', (c) => trends(c, '&from=2026-09-10&to=2026-09-01'), 400, 'invalid_range'],
    ['a range over a year (367 days)', (c) => trends(c, '&from=2026-01-01&to=2027-01-02'), 400, 'range_too_long'],
  ];
  for (const [what, path, status, code, field] of cases) {
    it(what, async () => {
      const res = await world.h.http().get(path(world.courseId)).set(await world.auth(world.teacher));
      expect(res.status).toBe(status);
      expect(res.body.error.code).toBe(code);
      if (field) expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(field);
    });
  }

  it('asks for period=month when the course has no term', async () => {
    const res = await world.h.http().get(pct(world.noTermCourseId, '&period=semester')).set(await world.auth(world.teacher));
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('no_term');
  });
});

describe('CSV', () => {
  it('attendance percentage as a spreadsheet: one row per student, with the same numbers', async () => {
    const res = await world.h.http().get(pct(world.courseId, '&month=2026-09&format=csv')).set(await world.auth(world.teacher));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe('attachment; filename="attendance_CS101_2026-09-01_2026-09-30.csv"');
    const lines = res.text.split('\r\n');
    expect(lines[0]).toBe('student_id,email,full_name,sessions_held,present,late,absent,excused,attended,percentage,below_minimum');
    expect(lines.slice(1, -1).map((l) => l.split(',').slice(2).join(','))).toEqual([
      'Ada,3,3,0,0,0,3,100,false',
      'Ben,3,2,0,0,1,2,100,false',
      'Cem,3,1,1,1,0,2,66.67,true',
      'Dan,3,0,0,3,0,0,0,true',
      'Eve,0,0,0,0,0,0,,false',
    ]);
    expect(lines.at(-1)).toBe('');
  });

  it('is also chosen by Accept: text/csv, while */* stays JSON', async () => {
    const auth = await world.auth(world.teacher);
    const csv = await world.h.http().get(trends(world.courseId, '&from=2026-09-07&to=2026-09-09')).set(auth).set('Accept', 'text/csv');
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.headers.vary).toMatch(/Accept/);
    expect(csv.text).toBe(
      'start,end,sessions,has_session,records,present,late,absent,excused,attendance_rate\r\n' +
      '2026-09-07,2026-09-07,1,true,4,2,1,1,0,75\r\n' +
      '2026-09-08,2026-09-08,0,false,0,0,0,0,0,\r\n' +
      '2026-09-09,2026-09-09,1,true,4,2,0,1,1,66.67\r\n',
    );
    const json = await world.h.http().get(trends(world.courseId, '&from=2026-09-07&to=2026-09-09')).set(auth).set('Accept', '*/*');
    expect(json.headers['content-type']).toMatch(/^application\/json/);
  });

  it('daily class report as CSV', async () => {
    const res = await world.h.http().get(`/api/v1/teacher/analytics/daily_class_report?date=2026-09-11&course_id=${world.courseId}&format=csv`).set(await world.auth(world.teacher));
    expect(res.text.split('\r\n')).toEqual([
      'session_id,course_code,course_name,room_name,started_at,ended_at,enrolled,present,late,absent,excused,attendance_rate,witnessed',
      `${world.sessions.s3},CS101,Algorithms,Room 101,2026-09-11T21:30:00.000Z,2026-09-11T22:30:00.000Z,4,2,0,2,0,50,0`,
      '',
    ]);
  });

  it('errors stay JSON even when CSV was asked for', async () => {
    const res = await world.h.http().get(pct(world.courseId, '&format=csv')).set(await world.auth(world.otherTeacher));
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden');
  });
});

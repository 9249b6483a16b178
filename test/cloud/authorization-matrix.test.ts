/**
 * Every route × {anonymous, student, other teacher, own teacher, admin} with the expected status.
 * Mutating routes get fresh objects for each caller so an earlier call cannot change a later one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.js';
import Router from '@koa/router';
import { RouteTable } from '../../cloud/http/route.js';
import { authRoutes } from '../../cloud/http/routes/auth.js';
import { adminAccountRoutes } from '../../cloud/http/routes/admin-accounts.js';
import { adminCourseRoutes } from '../../cloud/http/routes/admin-courses.js';
import { teacherSessionRoutes } from '../../cloud/http/routes/teacher-sessions.js';
import { studentRoutes } from '../../cloud/http/routes/student.js';
import { frameAt, setupCourse, type CourseFixture, type TestUser } from '../helpers/fixtures.js';

type Caller = 'anonymous' | 'student' | 'otherTeacher' | 'ownTeacher' | 'admin';
const CALLERS: Caller[] = ['anonymous', 'student', 'otherTeacher', 'ownTeacher', 'admin'];

interface Case {
  name: string;
  method: 'get' | 'post' | 'put' | 'delete';
  /** Builds the request for one caller (fresh objects where the route changes state). */
  prepare: (caller: Caller) => Promise<{ path: string; body?: unknown }>;
  expect: Record<Caller, number>;
}

let h: CloudHarness;
let smtp: TestSmtp;
let f: CourseFixture;
let other: TestUser;
let n = 0;

const ADMIN_ONLY = (ok: number) => ({ anonymous: 401, student: 403, otherTeacher: 403, ownTeacher: 403, admin: ok });
const TEACHER_OWN = (ok: number) => ({ anonymous: 401, student: 403, otherTeacher: 403, ownTeacher: ok, admin: ok });
const STUDENT_ONLY = (ok: number) => ({ anonymous: 401, student: ok, otherTeacher: 403, ownTeacher: 403, admin: 403 });
const ANY_USER = (ok: number) => ({ anonymous: 401, student: ok, otherTeacher: ok, ownTeacher: ok, admin: ok });

async function freshRoom(): Promise<string> {
  const r = await h.http().post('/api/v1/admin/rooms').set(f.admin.auth).send({ name: `matrix room ${++n}` });
  return r.body.id;
}

async function freshSession(): Promise<string> {
  const r = await h.http().post('/api/v1/teacher/session/start').set(f.teacher.auth).send({ course_id: f.courseId, room_id: await freshRoom(), period_s: 60 });
  expect(r.status).toBe(201);
  return r.body.session_id;
}

const CASES: Case[] = [
  { name: 'register', method: 'post', prepare: async () => ({ path: '/api/v1/auth/register', body: { email: `new${++n}@uni.example`, full_name: 'New', password: 'long-enough-pw' } }), expect: { anonymous: 202, student: 202, otherTeacher: 202, ownTeacher: 202, admin: 202 } },
  { name: 'verify e-mail', method: 'post', prepare: async () => ({ path: '/api/v1/auth/verify-email', body: { token: 'not-a-token-anyone-was-sent' } }), expect: { anonymous: 400, student: 400, otherTeacher: 400, ownTeacher: 400, admin: 400 } },
  { name: 'login', method: 'post', prepare: async () => ({ path: '/api/v1/auth/token', body: { email: f.students[1]!.email, password: f.students[1]!.password } }), expect: { anonymous: 200, student: 200, otherTeacher: 200, ownTeacher: 200, admin: 200 } },
  { name: 'me', method: 'get', prepare: async () => ({ path: '/api/v1/auth/me' }), expect: ANY_USER(200) },
  { name: 'create user', method: 'post', prepare: async () => ({ path: '/api/v1/admin/users', body: { email: `u${++n}@uni.example`, full_name: 'U', password: 'long-enough-pw', role: 'teacher' } }), expect: ADMIN_ONLY(201) },
  { name: 'list users', method: 'get', prepare: async () => ({ path: '/api/v1/admin/users' }), expect: ADMIN_ONLY(200) },
  { name: 'read user', method: 'get', prepare: async () => ({ path: `/api/v1/admin/users/${f.students[0]!.id}` }), expect: ADMIN_ONLY(200) },
  { name: 'change role', method: 'put', prepare: async () => ({ path: `/api/v1/admin/users/${(await h.user('teacher')).id}/role`, body: { role: 'student' } }), expect: ADMIN_ONLY(200) },
  { name: 'deactivate user', method: 'post', prepare: async () => ({ path: `/api/v1/admin/users/${(await h.user('student')).id}/deactivate` }), expect: ADMIN_ONLY(200) },
  { name: 'reactivate user', method: 'post', prepare: async () => ({ path: `/api/v1/admin/users/${(await h.user('student')).id}/reactivate` }), expect: ADMIN_ONLY(200) },
  { name: 'create term', method: 'post', prepare: async () => ({ path: '/api/v1/admin/terms', body: { name: `Term ${++n}`, starts_on: '2026-09-01', ends_on: '2027-01-31' } }), expect: ADMIN_ONLY(201) },
  { name: 'list terms', method: 'get', prepare: async () => ({ path: '/api/v1/admin/terms' }), expect: ADMIN_ONLY(200) },
  { name: 'create room', method: 'post', prepare: async () => ({ path: '/api/v1/admin/rooms', body: { name: `Room ${++n}` } }), expect: ADMIN_ONLY(201) },
  { name: 'list rooms', method: 'get', prepare: async () => ({ path: '/api/v1/admin/rooms' }), expect: ADMIN_ONLY(200) },
  { name: 'read room', method: 'get', prepare: async () => ({ path: `/api/v1/admin/rooms/${f.roomId}` }), expect: ADMIN_ONLY(200) },
  { name: 'create course', method: 'post', prepare: async () => ({ path: '/api/v1/admin/courses', body: { code: `C${++n}`, name: 'C', teacher_id: f.teacher.id } }), expect: ADMIN_ONLY(201) },
  { name: 'list courses', method: 'get', prepare: async () => ({ path: '/api/v1/admin/courses' }), expect: ADMIN_ONLY(200) },
  { name: 'read course', method: 'get', prepare: async () => ({ path: `/api/v1/admin/courses/${f.courseId}` }), expect: ADMIN_ONLY(200) },
  { name: 'course policy', method: 'put', prepare: async () => ({ path: `/api/v1/admin/courses/${f.courseId}/policy`, body: { grace_s: 60 } }), expect: ADMIN_ONLY(200) },
  { name: 'enrol', method: 'post', prepare: async () => ({ path: `/api/v1/admin/courses/${f.courseId}/enrollments`, body: { student_ids: [f.students[0]!.id] } }), expect: ADMIN_ONLY(200) },
  { name: 'list enrolments', method: 'get', prepare: async () => ({ path: `/api/v1/admin/courses/${f.courseId}/enrollments` }), expect: ADMIN_ONLY(200) },
  {
    name: 'unenrol', method: 'delete',
    prepare: async () => {
      const s = await h.user('student');
      await h.http().post(`/api/v1/admin/courses/${f.courseId}/enrollments`).set(f.admin.auth).send({ student_ids: [s.id] });
      return { path: `/api/v1/admin/courses/${f.courseId}/enrollments/${s.id}` };
    },
    expect: ADMIN_ONLY(204),
  },
  { name: 'my courses', method: 'get', prepare: async () => ({ path: '/api/v1/teacher/courses' }), expect: { anonymous: 401, student: 403, otherTeacher: 200, ownTeacher: 200, admin: 200 } },
  { name: 'course sessions', method: 'get', prepare: async () => ({ path: `/api/v1/teacher/sessions?course_id=${f.courseId}` }), expect: TEACHER_OWN(200) },
  { name: 'start session', method: 'post', prepare: async () => ({ path: '/api/v1/teacher/session/start', body: { course_id: f.courseId, room_id: await freshRoom(), period_s: 60 } }), expect: TEACHER_OWN(201) },
  { name: 'end session', method: 'post', prepare: async () => ({ path: `/api/v1/teacher/session/${await freshSession()}/end` }), expect: TEACHER_OWN(200) },
  { name: 'session token', method: 'get', prepare: async () => ({ path: `/api/v1/teacher/session/${await freshSession()}/token` }), expect: TEACHER_OWN(200) },
  { name: 'session summary', method: 'get', prepare: async () => ({ path: `/api/v1/teacher/session/${await freshSession()}` }), expect: TEACHER_OWN(200) },
  { name: 'session attendance', method: 'get', prepare: async () => ({ path: `/api/v1/teacher/session/${await freshSession()}/attendance` }), expect: TEACHER_OWN(200) },
  {
    name: 'override', method: 'put',
    prepare: async () => ({ path: `/api/v1/teacher/session/${await freshSession()}/attendance/${f.students[0]!.id}`, body: { status: 'excused', reason: 'sick note' } }),
    expect: TEACHER_OWN(200),
  },
  {
    name: 'submit token', method: 'post',
    prepare: async () => {
      const sid = await freshSession();
      const room = await h.store.db.selectFrom('sessions').innerJoin('rooms', 'rooms.id', 'sessions.room_id').select(['rooms.room_code', 'rooms.secret']).where('sessions.id', '=', sid).executeTakeFirstOrThrow();
      return { path: '/api/v1/student/token/submit', body: { frame: frameAt({ roomCode: room.room_code, roomSecret: Buffer.from(room.secret, 'hex') }, sid, 60, h.clock()) } };
    },
    expect: STUDENT_ONLY(200),
  },
  { name: 'my attendance', method: 'get', prepare: async () => ({ path: '/api/v1/student/attendance' }), expect: STUDENT_ONLY(200) },
  { name: 'my data export', method: 'get', prepare: async () => ({ path: '/api/v1/student/export' }), expect: STUDENT_ONLY(200) },
  { name: 'export user data', method: 'get', prepare: async () => ({ path: `/api/v1/admin/users/${f.students[0]!.id}/export` }), expect: ADMIN_ONLY(200) },
  { name: 'erase user', method: 'post', prepare: async () => ({ path: `/api/v1/admin/users/${(await h.user('student')).id}/erase` }), expect: ADMIN_ONLY(200) },
];

beforeAll(async () => {
  smtp = await startTestSmtp();
  h = await createCloudHarness({ env: smtp.env });
  f = await setupCourse(h, { students: 2 });
  other = await h.user('teacher', 'other');
});
afterAll(async () => {
  await h.close();
  await smtp.close();
});

function authFor(caller: Caller): Record<string, string> {
  switch (caller) {
    case 'anonymous': return {};
    case 'student': return f.students[0]!.auth;
    case 'otherTeacher': return other.auth;
    case 'ownTeacher': return f.teacher.auth;
    case 'admin': return f.admin.auth;
  }
}

describe('authorization matrix', () => {
  for (const c of CASES) {
    it.each(CALLERS)(`${c.method.toUpperCase()} ${c.name} as %s`, async (caller) => {
      const req = await c.prepare(caller);
      const res = await h.http()[c.method](req.path).set(authFor(caller)).send(req.body as object);
      expect(res.status, JSON.stringify(res.body)).toBe(c.expect[caller]);
      if (res.status === 401) expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="attendance"/);
      if (res.status >= 400) expect(res.body.error.code).toMatch(/^[a-z_]+$/);
    });
  }

  it('refuses anonymous callers (401) and every role a route is not for (403), on every API route', async () => {
    const callers = { student: f.students[0]!, teacher: f.teacher, admin: f.admin };
    const checked: string[] = [];
    for (const spec of h.app.routes.specs) {
      if (spec.auth === 'public') continue;
      // Authorization is decided before any input is looked at, so placeholder ids suffice.
      const path = spec.path.replace(/:[a-z_]+/g, '0192f3a0-7c00-7000-8000-00000000ffff');
      const anon = await h.http()[spec.method](path).send({});
      expect(anon.status, `${spec.method} ${spec.path} anonymous`).toBe(401);
      for (const [role, u] of Object.entries(callers)) {
        if (spec.auth.includes(role as never)) continue;
        const res = await h.http()[spec.method](path).set(u.auth).send({});
        expect(res.status, `${spec.method} ${spec.path} as ${role}`).toBe(403);
        expect(res.body.error.code).toBe('forbidden');
      }
      checked.push(`${spec.method} ${spec.path}`);
    }
    expect(checked.length).toBeGreaterThan(40);
  });

  it('covers every core API route', async () => {
    // Register the core modules alone on a scratch table to learn their routes, then check that
    // the calls above matched each of them (the request histogram is labelled by matched route).
    const table = new RouteTable(new Router(), h.deps.tokens);
    for (const mod of [authRoutes, adminAccountRoutes, adminCourseRoutes, teacherSessionRoutes, studentRoutes]) mod(table, h.deps);
    const hit = new Set((await h.deps.metrics.httpDuration.get()).values.map((v) => `${v.labels.method} ${v.labels.route}`));
    const missing = table.specs.map((s) => `${s.method.toUpperCase()} ${s.path}`).filter((r) => !hit.has(r));
    expect(missing).toEqual([]);
  });
});

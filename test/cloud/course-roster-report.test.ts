/**
 * The CSV roster's per-row report: every row that names a student says which student and whether
 * the upload enrolled them or they were enrolled before; every other row says why not. Only an
 * admin may upload.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';

let h: CloudHarness;
beforeAll(async () => {
  h = await createCloudHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('CSV roster report', () => {
  it('names the student of each accepted row and the reason of each rejected one', async () => {
    const admin = await h.user('admin');
    const teacher = await h.user('teacher');
    const before = await h.user('student');
    const fresh = await h.user('student');
    const course = await h.http().post('/api/v1/admin/courses').set(admin.auth).send({ code: 'REP1', name: 'Report', teacher_id: teacher.id });
    await h.http().post(`/api/v1/admin/courses/${course.body.id}/enrollments`).set(admin.auth).send({ student_ids: [before.id] }).expect(200);
    const csv = ['email', fresh.email, 'nobody@uni.example', 'not an address', before.email.toUpperCase()].join('\n');
    const r = await h.http().post(`/api/v1/admin/courses/${course.body.id}/enrollments`).set(admin.auth).set('Content-Type', 'text/csv').send(csv);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      enrolled: 1,
      already_enrolled: 1,
      accepted: [
        { row: 2, value: fresh.email, student_id: fresh.id, outcome: 'enrolled' },
        { row: 5, value: before.email, student_id: before.id, outcome: 'already_enrolled' },
      ],
      rejected: [
        { row: 3, value: 'nobody@uni.example', code: 'unknown_user', message: 'no account with this identifier' },
        { row: 4, value: 'not an address', code: 'invalid_email', message: 'not an e-mail address' },
      ],
    });
    const list = await h.http().get(`/api/v1/admin/courses/${course.body.id}/enrollments`).set(admin.auth);
    expect(list.body.items.map((s: { id: string }) => s.id).sort()).toEqual([before.id, fresh.id].sort());
  });

  it('refuses a teacher and an unknown course', async () => {
    const admin = await h.user('admin');
    const teacher = await h.user('teacher');
    const course = await h.http().post('/api/v1/admin/courses').set(admin.auth).send({ code: 'REP2', name: 'Report', teacher_id: teacher.id });
    const byTeacher = await h.http().post(`/api/v1/admin/courses/${course.body.id}/enrollments`).set(teacher.auth).set('Content-Type', 'text/csv').send('a@uni.example');
    expect(byTeacher.status).toBe(403);
    const unknown = await h.http().post('/api/v1/admin/courses/00000000-0000-7000-8000-000000000000/enrollments').set(admin.auth).set('Content-Type', 'text/csv').send('a@uni.example');
    expect(unknown.status).toBe(404);
  });
});

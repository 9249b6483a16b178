/**
 * What the student pages of the console rely on: my records with their reasons and my percentage
 * per course (GET /student/attendance), and revoking a lost phone myself
 * (POST /student/biometric/devices/{id}/revoke): own devices only, audited, then it no longer verifies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';
import { SoftwarePhone } from '../fakes/authenticator.js';
import { enrol, startSession, verifyOptions } from './biometric-fixture.js';
import { studentHistory, type StudentHistory } from './student-records-fixture.js';

let h: CloudHarness;
let s: StudentHistory;

beforeAll(async () => {
  h = await createCloudHarness();
  s = await studentHistory(h);
});
afterAll(() => h?.close());

describe('my attendance', () => {
  it('lists each record with its status and reasons, newest first', async () => {
    const res = await h.http().get('/api/v1/student/attendance').set(s.student.auth);
    expect(res.status).toBe(200);
    const bySession = Object.fromEntries(res.body.items.map((i: { session_id: string }) => [i.session_id, i]));
    expect(res.body.items.map((i: { session_id: string }) => i.session_id)).toEqual([...s.sessions].reverse());
    expect(bySession[s.sessions[0]!]).toMatchObject({ course_code: 'LAB1', status: 'present', presence: 1, reasons: ['presence_ok'], override_reason: null });
    expect(bySession[s.sessions[1]!]).toMatchObject({ status: 'late', presence: 0.5, reasons: ['presence_ok', 'late_arrival'] });
    expect(bySession[s.sessions[2]!]).toMatchObject({ status: 'absent', presence: 0, reasons: ['presence_low'] });
    expect(bySession[s.sessions[3]!]).toMatchObject({ status: 'excused', reasons: ['presence_low'], override_reason: "doctor's note" });
    expect(bySession[s.sessions[4]!]).toMatchObject({ course_code: 'BIO1', status: 'absent', presence: 0, witnessed_windows: 0, verified: false, reasons: ['presence_low', 'not_witnessed', 'verification_missing'] });
  });

  it('gives my percentage per course over all my records, whatever the limit', async () => {
    const res = await h.http().get('/api/v1/student/attendance?limit=1').set(s.student.auth);
    expect(res.body.items).toHaveLength(1);
    const byCode = Object.fromEntries(res.body.courses.map((c: { course_code: string }) => [c.course_code, c]));
    expect(byCode.LAB1).toEqual({
      course_id: s.lab.courseId, course_code: 'LAB1', course_name: 'Algorithms', sessions: 4, present: 1, late: 1, absent: 1, excused: 1, attended: 2,
      percentage: 66.67, min_attendance_percent: 75, below_minimum: true, min_presence: 0.5, late_after_min: 2,
    });
    expect(byCode.BIO1).toMatchObject({ sessions: 1, absent: 1, percentage: 0, below_minimum: true, min_presence: 0.75, late_after_min: 10 });
    const one = await h.http().get(`/api/v1/student/attendance?course_id=${s.bio.courseId}`).set(s.student.auth);
    expect(one.body.courses.map((c: { course_code: string }) => c.course_code)).toEqual(['BIO1']);
    expect(one.body.items).toHaveLength(1);
  });

  it('shows another student nothing of mine, and refuses staff', async () => {
    const other = await h.user('student', 'other');
    const res = await h.http().get('/api/v1/student/attendance').set(other.auth);
    expect(res.body).toEqual({ items: [], courses: [], timezone: 'UTC' });
    expect((await h.http().get('/api/v1/student/attendance').set(s.lab.teacher.auth)).status).toBe(403);
  });
});

describe('revoking my own device', () => {
  it('revokes my device, audits it, and the device can no longer verify', async () => {
    const phone = new SoftwarePhone();
    const enrolled = await enrol(h, s.student, phone);
    expect(enrolled.status, JSON.stringify(enrolled.body)).toBe(201);
    const deviceId = enrolled.body.device.id;
    const sid = await startSession(h, s.lab);
    await verifyOptions(h, s.student, sid);

    const res = await h.http().post(`/api/v1/student/biometric/devices/${deviceId}/revoke`).set(s.student.auth).send({ reason: 'lost on the bus' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ id: deviceId, status: 'revoked', student_id: s.student.id });
    const mine = await h.http().get('/api/v1/student/biometric/devices').set(s.student.auth);
    expect(mine.body.items.map((d: { id: string; status: string }) => [d.id, d.status])).toEqual([[deviceId, 'revoked']]);
    const row = await h.store.webauthn.credentialById(deviceId);
    expect(row).toMatchObject({ status: 'revoked', decided_by: s.student.id });
    const audit = await h.store.db.selectFrom('audit_log').select(['actor_id', 'action', 'details']).where('target', '=', deviceId).orderBy('id').execute();
    expect(audit.map((e) => [e.actor_id, e.action])).toEqual([[s.student.id, 'biometric.enrol'], [s.student.id, 'biometric.revoke']]);
    expect(JSON.parse(String(audit[1]!.details))).toEqual({ student_id: s.student.id, reason: 'lost on the bus' });

    // Nothing active is left to verify with.
    const options = await h.http().post('/api/v1/student/biometric/verify/options').set(s.student.auth).send({ session_id: sid });
    expect([options.status, options.body.error.code]).toEqual([409, 'no_active_device']);

    const again = await h.http().post(`/api/v1/student/biometric/devices/${deviceId}/revoke`).set(s.student.auth).send({});
    expect([again.status, again.body.error.code]).toEqual([409, 'device_revoked']);
  });

  it("answers another student's device as unknown and changes nothing; refuses staff and bad input", async () => {
    const owner = await h.user('student', 'owner');
    const enrolled = await enrol(h, owner, new SoftwarePhone());
    const deviceId = enrolled.body.device.id;
    const thief = await h.http().post(`/api/v1/student/biometric/devices/${deviceId}/revoke`).set(s.student.auth).send({});
    expect([thief.status, thief.body.error.code]).toEqual([404, 'not_found']);
    const unknown = await h.http().post('/api/v1/student/biometric/devices/00000000-0000-4000-8000-000000000000/revoke').set(s.student.auth).send({});
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'not_found']);
    expect((await h.store.webauthn.credentialById(deviceId))?.status).toBe('active');
    const staff = await h.http().post(`/api/v1/student/biometric/devices/${deviceId}/revoke`).set(s.lab.admin.auth).send({});
    expect(staff.status).toBe(403);
    const anonymous = await h.http().post(`/api/v1/student/biometric/devices/${deviceId}/revoke`).send({});
    expect(anonymous.status).toBe(401);
    const badId = await h.http().post('/api/v1/student/biometric/devices/not-an-id/revoke').set(owner.auth).send({});
    expect(badId.status).toBe(400);
    const extra = await h.http().post(`/api/v1/student/biometric/devices/${deviceId}/revoke`).set(owner.auth).send({ status: 'active' });
    expect(extra.status).toBe(400);
    const short = await h.http().post(`/api/v1/student/biometric/devices/${deviceId}/revoke`).set(owner.auth).send({ reason: 'x' });
    expect(short.status).toBe(400);
    expect((await h.store.webauthn.credentialById(deviceId))?.status).toBe('active');
  });
});

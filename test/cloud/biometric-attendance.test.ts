/**
 * The core attendance scenario again, with the biometric requirement on (now the default): full
 * presence is not enough, the student's own phone must verify inside the session's window — from
 * 10 minutes before the end to 15 minutes after. Records say why (presence_ok,
 * verification_missing).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';
import { frameAt, setupCourse, type CourseFixture, type TestUser } from '../helpers/fixtures.js';
import type { SoftwarePhone } from '../fakes/authenticator.js';
import { PERIOD, endSession, phonesFor, startSession, verify } from './biometric-fixture.js';

const T = (hh: number, mm: number, ss = 0) => Date.UTC(2026, 8, 7, hh, mm, ss);

let h: CloudHarness;
let f: CourseFixture;
let phones: SoftwarePhone[];
let sid: string;
let alice: TestUser, bob: TestUser, carol: TestUser, dave: TestUser, eve: TestUser;

async function attendanceBy(): Promise<Record<string, { status: string; reasons: string[]; verified: boolean; provisional: boolean }>> {
  const list = await h.http().get(`/api/v1/teacher/session/${sid}/attendance`).set(f.teacher.auth);
  expect(list.status).toBe(200);
  return Object.fromEntries(list.body.items.map((i: { student_id: string }) => [i.student_id, i]));
}

beforeAll(async () => {
  h = await createCloudHarness();
  // No policy given: require_biometric must be on by default.
  f = await setupCourse(h, { students: 5, code: 'ATT1' });
  [alice, bob, carol, dave, eve] = f.students as [TestUser, TestUser, TestUser, TestUser, TestUser];
  phones = await phonesFor(h, f.students);
  h.clock.set(T(8, 0, 30));
  sid = await startSession(h, f);
  // Session [08:00:30, 08:30:30): everyone but Eve is seen in every window.
  for (let minute = 0; minute <= 30; minute++) {
    h.clock.set(T(8, minute, minute === 0 ? 40 : 20));
    for (const s of [alice, bob, carol, dave]) {
      const r = await h.http().post('/api/v1/student/token/submit').set(s.auth).send({ frame: frameAt(f, sid, PERIOD, h.clock()) });
      expect(r.body.status, JSON.stringify(r.body)).toBe('accepted');
    }
    if (minute === 5) expect((await verify(h, carol, sid, phones[2]!)).status).toBe(200); // far too early
    if (minute === 25) {
      expect((await verify(h, bob, sid, phones[1]!)).status).toBe(200);
      expect((await verify(h, eve, sid, phones[4]!)).status).toBe(200);
    }
  }
});
afterAll(() => h.close());

describe('attendance with the biometric requirement on', () => {
  it('is on by default for a new course', async () => {
    const course = await h.http().get(`/api/v1/admin/courses/${f.courseId}`).set(f.admin.auth);
    expect(course.body.policy).toMatchObject({ require_biometric: true, require_device_bound: false });
  });

  it('while live, counts a verification from the last 10 minutes provisionally', async () => {
    h.clock.set(T(8, 30, 25));
    const by = await attendanceBy();
    expect(by[bob.id]).toMatchObject({ status: 'present', verified: true, provisional: true, reasons: ['presence_ok', 'verified'] });
    expect(by[carol.id]).toMatchObject({ status: 'absent', verified: false, reasons: ['presence_ok', 'verification_missing'] });
  });

  it('at the end: full presence without verification is absent, with a verification in the window present', async () => {
    h.clock.set(T(8, 30, 30));
    const end = await endSession(h, f, sid);
    expect(end.counts).toEqual({ enrolled: 5, present: 1, late: 0, absent: 4, excused: 0 });
    const by = await attendanceBy();
    expect(by[alice.id]).toMatchObject({ status: 'absent', verified: false, reasons: ['presence_ok', 'verification_missing'], provisional: false });
    expect(by[bob.id]).toMatchObject({ status: 'present', verified: true, reasons: ['presence_ok', 'verified'] });
    // Verified 25 minutes before the end: outside the window, as if never verified.
    expect(by[carol.id]).toMatchObject({ status: 'absent', verified: false, reasons: ['presence_ok', 'verification_missing'] });
    // A verification is no substitute for being in the room.
    expect(by[eve.id]).toMatchObject({ status: 'absent', verified: true, reasons: ['presence_low', 'verified'] });
  });

  it('a verification within 15 minutes after the end turns the stored record present at once', async () => {
    h.clock.set(T(8, 40, 0));
    const res = await verify(h, dave, sid, phones[3]!);
    expect(res.body).toMatchObject({ status: 'verified', counts: true, counts_if_session_ends_by: null });
    const mine = await h.http().get('/api/v1/student/attendance').set(dave.auth);
    expect(mine.body.items[0]).toMatchObject({ session_id: sid, status: 'present', verified: true, reasons: ['presence_ok', 'verified'] });
    const stored = await h.store.db.selectFrom('attendance').select(['status', 'reasons']).where('session_id', '=', sid).where('student_id', '=', alice.id).executeTakeFirstOrThrow();
    expect(stored).toEqual({ status: 'absent', reasons: 'presence_ok,verification_missing' });
  });

  it('refuses to start a verification once the window has closed', async () => {
    h.clock.set(T(8, 45, 31));
    const res = await h.http().post('/api/v1/student/biometric/verify/options').set(alice.auth).send({ session_id: sid });
    expect([res.status, res.body.error.code]).toEqual([409, 'verification_window_closed']);
    const mine = await h.http().get('/api/v1/student/attendance').set(alice.auth);
    expect(mine.body.items[0]).toMatchObject({ status: 'absent', reasons: ['presence_ok', 'verification_missing'] });
  });

  it('a teacher override still wins over the verification requirement', async () => {
    const put = await h.http().put(`/api/v1/teacher/session/${sid}/attendance/${alice.id}`).set(f.teacher.auth).send({ status: 'excused', reason: 'phone broken, checked in person' });
    expect(put.body).toMatchObject({ status: 'excused', reasons: ['presence_ok', 'verification_missing'] });
  });
});

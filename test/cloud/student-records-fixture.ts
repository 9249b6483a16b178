/**
 * A student's history in two courses, built through the API as a class would make it: every
 * outcome a record can have and the reasons behind it.
 *
 * LAB1 (no biometric, half the windows suffice, late after 2 minutes; sessions of 4 one-minute windows):
 *   S1 present (every window), S2 late (from the third window), S3 absent (no window),
 *   S4 absent, then excused by the teacher ("doctor's note") → 2 of 3 countable = 66.67 %, below 75 %.
 * BIO1 (biometric required, proximity required, no gateway witnesses):
 *   S5 every window submitted, none witnessed, not verified → absent (presence_low, not_witnessed,
 *   verification_missing) → 0 %.
 */
import { expect } from 'vitest';
import type { CloudHarness } from '../helpers/cloud.js';
import { frameAt, setupCourse, type CourseFixture, type TestUser } from '../helpers/fixtures.js';
import { endSession, startSession } from './biometric-fixture.js';

const PERIOD = 60;
const WINDOWS = 4;

export interface StudentHistory {
  student: TestUser;
  lab: CourseFixture;
  bio: CourseFixture;
  /** Session ids in the order above: S1…S5. */
  sessions: string[];
}

/** Runs one session of WINDOWS windows; the student submits in the windows listed. */
async function runSession(h: CloudHarness, f: CourseFixture, student: TestUser, windows: number[]): Promise<string> {
  // Sessions start on a whole minute, so window i is minute i of the session.
  h.clock.set(Math.ceil((h.clock() + 1) / 60_000) * 60_000 + 60_000);
  const start = h.clock();
  const sid = await startSession(h, f, PERIOD);
  for (const w of windows) {
    h.clock.set(start + w * PERIOD * 1000 + 10_000);
    const r = await h.http().post('/api/v1/student/token/submit').set(student.auth).send({ frame: frameAt(f, sid, PERIOD, h.clock()) });
    expect(r.body.status, JSON.stringify(r.body)).toBe('accepted');
  }
  h.clock.set(start + WINDOWS * PERIOD * 1000);
  await endSession(h, f, sid);
  return sid;
}

export async function studentHistory(h: CloudHarness): Promise<StudentHistory> {
  const lab = await setupCourse(h, { students: 1, code: 'LAB1', policy: { require_biometric: false, min_presence: 0.5, late_after_min: 2, require_proximity: false } });
  const student = lab.students[0]!;
  const bio = await setupCourse(h, { students: 0, code: 'BIO1', policy: { require_proximity: true } });
  const enrol = await h.http().post(`/api/v1/admin/courses/${bio.courseId}/enrollments`).set(bio.admin.auth).send({ student_ids: [student.id] });
  expect(enrol.status).toBe(200);
  const all = [0, 1, 2, 3];
  const sessions = [
    await runSession(h, lab, student, all),
    await runSession(h, lab, student, [2, 3]),
    await runSession(h, lab, student, []),
    await runSession(h, lab, student, []),
    await runSession(h, bio, student, all),
  ];
  const excuse = await h.http().put(`/api/v1/teacher/session/${sessions[3]}/attendance/${student.id}`).set(lab.teacher.auth).send({ status: 'excused', reason: "doctor's note" });
  expect(excuse.status, JSON.stringify(excuse.body)).toBe(200);
  return { student, lab, bio, sessions };
}

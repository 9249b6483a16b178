/**
 * Shared steps of the biometric tests: a classroom whose students carry software phones, and the
 * two-step enrolment and verification ceremonies an app performs against the API.
 */
import { expect } from 'vitest';
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { TEST_WEBAUTHN, type CloudHarness } from '../helpers/cloud.js';
import type { CourseFixture, TestUser } from '../helpers/fixtures.js';
import { SoftwarePhone, type Tamper } from '../fakes/authenticator.js';

export const ORIGIN = TEST_WEBAUTHN.origins[0]!;
export const PERIOD = 60;

export async function registerOptions(h: CloudHarness, student: TestUser): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const res = await h.http().post('/api/v1/student/biometric/register/options').set(student.auth).send({});
  expect(res.status).toBe(200);
  return res.body.options;
}

/** Runs the enrolment ceremony; returns the raw answer of the register call. */
export async function enrol(h: CloudHarness, student: TestUser, phone: SoftwarePhone, tamper: Tamper = {}, origin = ORIGIN) {
  const options = await registerOptions(h, student);
  const credential = phone.create(options, origin, tamper);
  return h.http().post('/api/v1/student/biometric/register').set(student.auth).send({ credential, device_name: 'test phone' });
}

export async function verifyOptions(h: CloudHarness, student: TestUser, sessionId: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const res = await h.http().post('/api/v1/student/biometric/verify/options').set(student.auth).send({ session_id: sessionId });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.options;
}

export function sendAssertion(h: CloudHarness, student: TestUser, sessionId: string, credential: unknown) {
  return h.http().post('/api/v1/student/biometric/verify').set(student.auth).send({ session_id: sessionId, credential });
}

/** Runs the verification ceremony for a session; returns the raw answer of the verify call. */
export async function verify(h: CloudHarness, student: TestUser, sessionId: string, phone: SoftwarePhone, tamper: Tamper = {}, origin = ORIGIN) {
  const options = await verifyOptions(h, student, sessionId);
  return sendAssertion(h, student, sessionId, phone.get(options, origin, tamper));
}

export async function startSession(h: CloudHarness, f: CourseFixture, periodS = PERIOD): Promise<string> {
  const res = await h.http().post('/api/v1/teacher/session/start').set(f.teacher.auth).send({ course_id: f.courseId, room_id: f.roomId, period_s: periodS });
  expect(res.status).toBe(201);
  return res.body.session_id;
}

export async function endSession(h: CloudHarness, f: CourseFixture, sessionId: string) {
  const res = await h.http().post(`/api/v1/teacher/session/${sessionId}/end`).set(f.teacher.auth).send({});
  expect(res.status).toBe(200);
  return res.body;
}

/** Each student gets an enrolled phone of their own. */
export async function phonesFor(h: CloudHarness, students: TestUser[], opts: ConstructorParameters<typeof SoftwarePhone>[0] = {}): Promise<SoftwarePhone[]> {
  const phones: SoftwarePhone[] = [];
  for (const s of students) {
    const phone = new SoftwarePhone(opts);
    const res = await enrol(h, s, phone);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    phones.push(phone);
  }
  return phones;
}

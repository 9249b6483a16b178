/**
 * Sessions with known outcomes for the absence-warning tests: each is started and ended by the
 * teacher through the API (nobody submits, so everyone's decision is absent) and the outcomes
 * that are not absent are set as the teacher's overrides, also through the API.
 */
import pino, { type Logger } from 'pino';
import { expect } from 'vitest';
import type { CloudHarness } from '../helpers/cloud.js';
import type { CourseFixture, TestUser } from '../helpers/fixtures.js';
import { PUBLIC_URL, type TestSmtp } from '../helpers/smtp.js';
import type { Store } from '../../cloud/store/db.js';
import { createSmtpMailer, type Mailer } from '../../cloud/mail/transport.js';
import { startAbsenceWarningJob, type AbsenceWarningJob } from '../../cloud/jobs/absence-warnings.js';
import type { AttendanceStatus } from '../../cloud/store/schema.js';

const HOUR = 3_600_000;
/** A schedule that does not fire while a test runs: the tests call runOnce. */
const NEW_YEAR = '0 0 1 1 *';
const silent = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** Holds one ended session of an hour, 15 minutes after the clock, in which each student had the given status (default absent). */
export async function heldSession(h: CloudHarness, f: CourseFixture, outcome: Map<TestUser, AttendanceStatus>): Promise<string> {
  h.clock.advance(HOUR / 4);
  const started = await h.http().post('/api/v1/teacher/session/start').set(f.teacher.auth).send({ course_id: f.courseId, room_id: f.roomId, period_s: 60 });
  expect(started.status, JSON.stringify(started.body)).toBe(201);
  const sessionId: string = started.body.session_id;
  h.clock.advance(HOUR);
  const ended = await h.http().post(`/api/v1/teacher/session/${sessionId}/end`).set(f.teacher.auth);
  expect(ended.status, JSON.stringify(ended.body)).toBe(200);
  for (const [student, status] of outcome) {
    if (status === 'absent') continue;
    const res = await h.http().put(`/api/v1/teacher/session/${sessionId}/attendance/${student.id}`).set(f.teacher.auth).send({ status, reason: 'set by the test' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }
  return sessionId;
}

/** Sessions from a pattern per student: 'P' present, 'L' late, 'A' absent, 'E' excused. */
export async function heldSessions(h: CloudHarness, f: CourseFixture, patterns: Array<[TestUser, string]>): Promise<void> {
  const n = Math.max(...patterns.map(([, p]) => p.length));
  const code: Record<string, AttendanceStatus> = { P: 'present', L: 'late', A: 'absent', E: 'excused' };
  for (let i = 0; i < n; i++) await heldSession(h, f, new Map(patterns.map(([s, p]) => [s, code[p[i] ?? 'A']!])));
}

export function smtpMailer(smtp: TestSmtp, opts: { password?: string; logger?: Logger } = {}): Mailer {
  const url = new URL(smtp.env.ATTENDANCE_SMTP_URL!);
  if (opts.password) url.password = opts.password;
  return createSmtpMailer({ smtpUrl: url.toString(), from: smtp.env.ATTENDANCE_MAIL_FROM! }, opts.logger ?? silent);
}

/** The job as the cloud starts it, on the harness's store and clock. */
export function warningJob(h: CloudHarness, mailer: Mailer, opts: { store?: Store; logger?: Logger } = {}): AbsenceWarningJob {
  return startAbsenceWarningJob({
    store: opts.store ?? h.store, mailer, clock: h.clock, timezone: h.cloud.config.timezone, publicUrl: PUBLIC_URL, logger: opts.logger ?? silent, schedule: NEW_YEAR,
  });
}

/**
 * Absence warnings end to end on the real database and a real SMTP server: the thresholds API
 * (who may read and set them, validation), the job mailing each new crossing once to the student
 * and once in the teacher's digest, nothing on a second run, a recovery clearing the crossing so
 * a new fall warns again, a refused mail sent on the next run, and (on PostgreSQL) two cloud
 * instances running the job at the same moment mailing once.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { composeCloud, type ComposedCloud } from '../../cloud/main.js';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';
import { setupCourse, type CourseFixture, type TestUser } from '../helpers/fixtures.js';
import { PUBLIC_URL, SMTP_PASSWORD, startTestSmtp, type TestSmtp } from '../helpers/smtp.js';
import type { Mailer } from '../../cloud/mail/transport.js';
import { heldSession, heldSessions, smtpMailer, warningJob } from './absence-warnings-fixture.js';

const PG = process.env.TEST_DATABASE_URL;
const path = (f: CourseFixture) => `/api/v1/teacher/courses/${f.courseId}/absence-warnings`;

let h: CloudHarness;
let smtp: TestSmtp;
let f: CourseFixture;
let mailer: Mailer;

beforeEach(async () => {
  smtp = await startTestSmtp();
  h = await createCloudHarness();
  f = await setupCourse(h, { students: 4, policy: { require_biometric: false } });
  mailer = smtpMailer(smtp);
});
afterEach(async () => {
  await mailer.close();
  await h.close();
  await smtp.close();
});

const mailsTo = (u: TestUser) => smtp.mails.filter((m) => m.to.includes(u.email));

describe('absence-warning thresholds API', () => {
  it('is read and set by the course teacher and admins; other teachers get 404; bad values are 400', async () => {
    const empty = await h.http().get(path(f)).set(f.teacher.auth);
    expect(empty.status).toBe(200);
    expect(empty.body).toMatchObject({ min_percent: null, max_consecutive: null, updated_at: null, warned: [], period: { basis: 'month', from: '2026-09-01', to: '2026-09-30' } });

    const put = await h.http().put(path(f)).set(f.teacher.auth).send({ min_percent: 75, max_consecutive: 3 });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body).toMatchObject({ min_percent: 75, max_consecutive: 3, updated_at: new Date(h.clock()).toISOString() });
    expect(await h.store.absenceWarnings.getSettings(f.courseId)).toMatchObject({ min_percent: 75, max_consecutive: 3, updated_by: f.teacher.id });
    const audit = await h.store.db.selectFrom('audit_log').selectAll().where('action', '=', 'course.absence_warnings').execute();
    expect(audit).toHaveLength(1);

    const byAdmin = await h.http().put(path(f)).set(f.admin.auth).send({ min_percent: null, max_consecutive: 5 });
    expect(byAdmin.status).toBe(200);
    expect((await h.http().get(path(f)).set(f.teacher.auth)).body).toMatchObject({ min_percent: null, max_consecutive: 5 });

    const other = await h.user('teacher', 'otto');
    expect((await h.http().get(path(f)).set(other.auth)).status).toBe(404);
    const foreignPut = await h.http().put(path(f)).set(other.auth).send({ min_percent: 10, max_consecutive: null });
    expect(foreignPut.status).toBe(404);
    expect(foreignPut.body.error.code).toBe('not_found');
    expect((await h.http().get('/api/v1/teacher/courses/0192f3a0-7c00-7000-8000-00000000ffff/absence-warnings').set(f.teacher.auth)).status).toBe(404);
    expect((await h.http().get(path(f)).set(f.students[0]!.auth)).status).toBe(403);

    for (const body of [
      { min_percent: 0, max_consecutive: null }, { min_percent: 101, max_consecutive: null }, { min_percent: 50.5, max_consecutive: null },
      { min_percent: null, max_consecutive: 0 }, { min_percent: null, max_consecutive: 51 }, { min_percent: '75', max_consecutive: null },
      { min_percent: 75 }, { min_percent: 75, max_consecutive: 3, extra: 1 },
    ]) {
      const res = await h.http().put(path(f)).set(f.teacher.auth).send(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('validation_error');
    }
    expect(await h.store.absenceWarnings.getSettings(f.courseId)).toMatchObject({ min_percent: null, max_consecutive: 5 });
  });
});

describe('absence-warning job', () => {
  it('mails each new crossing once, the teacher one digest, nothing twice, and again after a recovery and a new fall', async () => {
    const [ada, ben, cem, dan] = f.students as [TestUser, TestUser, TestUser, TestUser];
    await h.http().put(path(f)).set(f.teacher.auth).send({ min_percent: 60, max_consecutive: 2 }).expect(200);
    // Ada 2 of 5 = 40 % (below 60); Ben 3 of 5 = 60 % (not below) but the last 2 absent;
    // Cem always present; Dan 2 of 4 countable = 50 % and 2 absences in a row around an excused one.
    await heldSessions(h, f, [[ada, 'AAPAP'], [ben, 'PPPAA'], [cem, 'PPPPP'], [dan, 'PPAEA']]);
    // The job and the mailer log to a buffer: counts and kinds, never an address, a name or a text.
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    await mailer.close();
    mailer = smtpMailer(smtp, { logger });
    const job = warningJob(h, mailer, { logger });

    const first = await job.runOnce();
    expect(first).toMatchObject({ courses: 1, crossed: 4, cleared: 0, studentMails: 3, studentMailsFailed: 0, digests: 1, digestsFailed: 0 });
    expect(mailsTo(ada)).toHaveLength(1);
    expect(mailsTo(ada)[0]!.subject).toBe('Attendance warning: CS101 Algorithms');
    expect(mailsTo(ada)[0]!.text).toContain('your attendance is 40 %, below the course\'s threshold of 60 %');
    expect(mailsTo(ben)).toHaveLength(1);
    expect(mailsTo(ben)[0]!.text).toContain('you have missed the last 2 sessions in a row');
    expect(mailsTo(ben)[0]!.text).not.toContain('your attendance is');
    expect(mailsTo(cem)).toHaveLength(0);
    expect(mailsTo(dan)).toHaveLength(1);
    expect(mailsTo(dan)[0]!.text).toContain('your attendance is 50 %');
    expect(mailsTo(dan)[0]!.text).toContain('missed the last 2 sessions in a row');
    const digests = mailsTo(f.teacher);
    expect(digests).toHaveLength(1);
    expect(digests[0]!.subject).toBe('Absence warnings in CS101: 3 students');
    for (const s of [ada, ben, dan]) expect(digests[0]!.text).toContain(`<${s.email}>`);
    expect(digests[0]!.text).not.toContain(cem.email);
    expect(smtp.mails).toHaveLength(4);
    expect(mailsTo(ada)[0]!.text).toContain(`${PUBLIC_URL}/console#/student/attendance`);
    expect(digests[0]!.text).toContain(`${PUBLIC_URL}/console#/teacher/warnings?course=${f.courseId}`);
    const log = lines.join('');
    expect(log).toContain('"studentMails":3');
    expect(log).toContain('"kind":"absence_warning_digest"');
    for (const s of [...f.students, f.teacher]) expect(log).not.toContain(s.email);
    for (const secret of ['studenta', 'Attendance warning', 'missed the last', SMTP_PASSWORD]) expect(log).not.toContain(secret);

    const listed = (await h.http().get(path(f)).set(f.teacher.auth)).body;
    expect(listed.warned.map((w: { email: string; kind: string }) => `${w.email} ${w.kind}`).sort()).toEqual(
      [`${ada.email} percentage`, `${ben.email} consecutive`, `${dan.email} consecutive`, `${dan.email} percentage`].sort(),
    );
    for (const w of listed.warned) expect(w).toMatchObject({ crossed_at: new Date(h.clock()).toISOString(), student_mailed_at: expect.any(String), teacher_mailed_at: expect.any(String) });

    expect(await job.runOnce()).toMatchObject({ crossed: 0, cleared: 0, studentMails: 0, digests: 0 });
    expect(smtp.mails).toHaveLength(4);

    // Everyone present: Ada 3 of 6 = 50 % still below; Ben's and Dan's runs end, Dan is at 60 %.
    await heldSession(h, f, new Map([[ada, 'present'], [ben, 'present'], [cem, 'present'], [dan, 'present']]));
    expect(await job.runOnce()).toMatchObject({ crossed: 0, cleared: 3, studentMails: 0, digests: 0 });
    expect(smtp.mails).toHaveLength(4);
    expect((await h.store.absenceWarnings.warned(f.courseId)).map((w) => `${w.student_id} ${w.kind}`)).toEqual([`${ada.id} percentage`]);

    // Ada recovers (5 of 8); Ben misses two again: 4 of 8 = 50 % and 2 in a row, two new
    // crossings in one new mail, and a digest naming him alone.
    await heldSessions(h, f, [[ada, 'PP'], [ben, 'AA'], [cem, 'PP'], [dan, 'PP']]);
    expect(await job.runOnce()).toMatchObject({ crossed: 2, cleared: 1, studentMails: 1, digests: 1 });
    expect(mailsTo(ben)).toHaveLength(2);
    expect(mailsTo(ben)[1]!.text).toContain('your attendance is 50 %');
    expect(mailsTo(ben)[1]!.text).toContain('missed the last 2 sessions in a row');
    expect(mailsTo(ada)).toHaveLength(1);
    expect(mailsTo(f.teacher)).toHaveLength(2);
    expect(mailsTo(f.teacher)[1]!.subject).toBe('Absence warnings in CS101: 1 student');
    expect(mailsTo(f.teacher)[1]!.text).toContain(ben.email);
    expect(mailsTo(f.teacher)[1]!.text).not.toContain(ada.email);
    await job.stop();
  });

  it('sends a mail the server refused on the next run, and clears the warnings of a rule turned off', async () => {
    const [ada] = f.students as [TestUser];
    await h.http().put(path(f)).set(f.teacher.auth).send({ min_percent: null, max_consecutive: 1 }).expect(200);
    await heldSession(h, f, new Map([[ada, 'absent']]));
    const refusing = smtpMailer(smtp, { password: 'wrong' });
    const failing = warningJob(h, refusing);
    expect(await failing.runOnce()).toMatchObject({ crossed: 4, studentMails: 0, studentMailsFailed: 4, digests: 0, digestsFailed: 1 });
    expect(smtp.mails).toHaveLength(0);
    const pending = await h.store.absenceWarnings.warned(f.courseId);
    expect(pending.every((w) => w.student_mailed_at === null && w.teacher_mailed_at === null)).toBe(true);
    await failing.stop();
    await refusing.close();

    const job = warningJob(h, mailer);
    expect(await job.runOnce()).toMatchObject({ crossed: 0, studentMails: 4, studentMailsFailed: 0, digests: 1 });
    expect(mailsTo(ada)).toHaveLength(1);
    expect(mailsTo(f.teacher)).toHaveLength(1);
    expect(mailsTo(f.teacher)[0]!.subject).toBe('Absence warnings in CS101: 4 students');

    await h.http().put(path(f)).set(f.teacher.auth).send({ min_percent: null, max_consecutive: null }).expect(200);
    expect(await job.runOnce()).toMatchObject({ cleared: 4, studentMails: 0, digests: 0 });
    expect((await h.http().get(path(f)).set(f.teacher.auth)).body.warned).toEqual([]);
    expect(smtp.mails).toHaveLength(5);
    await job.stop();
  });

  it('does not mail a deactivated student, but names them in the digest', async () => {
    const [ada] = f.students as [TestUser];
    await h.http().put(path(f)).set(f.teacher.auth).send({ min_percent: 50, max_consecutive: null }).expect(200);
    await heldSession(h, f, new Map(f.students.map((s) => [s, s === ada ? 'absent' : 'present'])));
    await h.http().post(`/api/v1/admin/users/${ada.id}/deactivate`).set(f.admin.auth).send({}).expect(200);
    const job = warningJob(h, mailer);
    expect(await job.runOnce()).toMatchObject({ crossed: 1, studentMails: 0, digests: 1 });
    expect(mailsTo(ada)).toHaveLength(0);
    expect(mailsTo(f.teacher)[0]!.text).toContain(ada.email);
    await job.stop();
  });
});

describe.skipIf(!PG)('absence warnings on two cloud instances sharing one PostgreSQL', () => {
  let b: ComposedCloud | undefined;
  afterEach(async () => {
    await b?.stop();
  });

  it('mails each crossing once when both run the job at the same moment', async () => {
    b = await composeCloud({ ...h.cloud.config }, { logger: pino({ level: 'silent' }), clock: h.clock });
    await h.http().put(path(f)).set(f.teacher.auth).send({ min_percent: null, max_consecutive: 1 }).expect(200);
    await heldSession(h, f, new Map());
    const mailerB = smtpMailer(smtp);
    const jobA = warningJob(h, mailer);
    const jobB = warningJob(h, mailerB, { store: b.store });
    const results = await Promise.all([jobA.runOnce(), jobB.runOnce(), jobA.runOnce(), jobB.runOnce()]);
    const ran = results.filter((r) => r !== null);
    // The first runs overlapped: one of them found the lock taken.
    expect(results.slice(0, 2)).toContain(null);
    expect(ran.reduce((n, r) => n + r!.studentMails, 0)).toBe(4);
    expect(ran.reduce((n, r) => n + r!.digests, 0)).toBe(1);
    for (const s of f.students) expect(mailsTo(s)).toHaveLength(1);
    expect(mailsTo(f.teacher)).toHaveLength(1);
    expect(smtp.mails).toHaveLength(5);
    await jobA.stop();
    await jobB.stop();
    await mailerB.close();
  });
});

/**
 * E-mail ownership: a self-registered account proves its address with a one-time link mailed over
 * real SMTP before it can log in or take a roster seat; registration answers the same whether or
 * not an address has an account; links are single-use and expire; mail never holds up an answer
 * and its token never reaches the log.
 */
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';
import { eventually } from '../helpers/eventually.js';
import { PUBLIC_URL, SMTP_PASSWORD, startTestSmtp, tokenOf, type ReceivedMail, type TestSmtp } from '../helpers/smtp.js';
import { MAILS_PER_RECIPIENT_PER_HOUR } from '../../cloud/mail/account-mail.js';
import { VERIFICATION_TTL_MS } from '../../cloud/mail/email-verification.js';
import { purgeRawData } from '../../cloud/jobs/retention.js';
import { migrateToLatest } from '../../cloud/store/migrate.js';
import { down as undoEmailVerification } from '../../cloud/store/migrations/005_email_verification.js';

let smtp: TestSmtp;
let h: CloudHarness;
let logLines: string[];

beforeEach(async () => {
  smtp = await startTestSmtp();
  logLines = [];
  const sink = new Writable({ write(chunk, _enc, done) { logLines.push(String(chunk)); done(); } });
  h = await createCloudHarness({ env: smtp.env, logger: pino({ level: 'trace' }, sink) });
});
afterEach(async () => {
  smtp.release();
  await h.close();
  await smtp.close();
});

const register = (email: string, password: string, full_name = 'Someone') => h.http().post('/api/v1/auth/register').send({ email, full_name, password });
const login = (email: string, password: string) => h.http().post('/api/v1/auth/token').send({ email, password });
const verify = (token: string) => h.http().post('/api/v1/auth/verify-email').send({ token });
const mailTo = (address: string, n = 1) => eventually(() => { const m = smtp.mails.filter((x) => x.to.includes(address)); return m.length >= n && m; }, 5000, `${n} mail(s) to ${address}`);
const lastOf = (mails: ReceivedMail[]) => mails[mails.length - 1]!;

async function courseWithAdmin() {
  const admin = await h.user('admin');
  const teacher = await h.user('teacher');
  const course = await h.http().post('/api/v1/admin/courses').set(admin.auth).send({ code: 'CS101', name: 'Algorithms', teacher_id: teacher.id });
  expect(course.status).toBe(201);
  const roster = (csv: string) => h.http().post(`/api/v1/admin/courses/${course.body.id}/enrollments`).set(admin.auth).set('Content-Type', 'text/csv').send(csv);
  return { admin, courseId: course.body.id as string, roster };
}

describe('e-mail ownership', () => {
  it('a roster does not enrol an account whose owner has not proved the address', async () => {
    const { roster } = await courseWithAdmin();
    // Mallory registers Vera's address before Vera does.
    expect((await register('vera@uni.example', 'mallory-knows-this', 'Vera')).status).toBe(202);
    const first = await roster('email\nvera@uni.example\n');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ enrolled: 0, rejected: [{ row: 2, value: 'vera@uni.example', code: 'email_unverified' }] });

    // Vera registers too: the new link, used from her mailbox, sets her name and password.
    expect((await register('vera@uni.example', 'vera-own-secret', 'Vera Lind')).status).toBe(202);
    const mails = await mailTo('vera@uni.example', 2);
    expect((await verify(tokenOf(lastOf(mails)))).body).toEqual({ status: 'verified' });
    expect((await roster('vera@uni.example\n')).body).toMatchObject({ enrolled: 1, rejected: [] });
    expect((await login('vera@uni.example', 'mallory-knows-this')).status).toBe(401);
    const me = await h.http().get('/api/v1/auth/me').set('Authorization', `Bearer ${(await login('vera@uni.example', 'vera-own-secret')).body.access_token}`);
    expect(me.body).toMatchObject({ email: 'vera@uni.example', full_name: 'Vera Lind', role: 'student' });
    // Mallory's own link, also in Vera's mailbox, is spent.
    expect((await verify(tokenOf(mails[0]!))).body.error.code).toBe('invalid_verification');
  });

  it('registration does not reveal which e-mails exist', async () => {
    const existing = await h.user('student', 'known');
    const taken = await register(existing.email, 'a-new-password-1');
    const fresh = await register('nobody-yet@uni.example', 'a-new-password-1');
    expect(taken.status).toBe(202);
    expect(fresh.status).toBe(202);
    expect(taken.body).toEqual(fresh.body);
    expect(taken.body).toEqual({ status: 'verification_sent' });
    // Logging in with the password just sent does not tell them apart either.
    const a = await login(existing.email, 'a-new-password-1');
    const b = await login('nobody-yet@uni.example', 'a-new-password-1');
    expect([a.status, b.status]).toEqual([401, 401]);
    expect(a.body).toEqual(b.body);
    // Only the owners' mailboxes differ: a notice without a link, and a link.
    const [notice] = await mailTo(existing.email);
    expect(notice!.subject).toMatch(/tried to register/);
    expect(notice!.text).not.toMatch(/token=/);
    const [link] = await mailTo('nobody-yet@uni.example');
    expect(tokenOf(link!)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(link!.text).toContain(`${PUBLIC_URL}/verify-email#token=`);
    // The existing account is unchanged: its own password still works.
    expect((await login(existing.email, existing.password)).status).toBe(200);
  });

  it('a verification link works once, and then the account logs in', async () => {
    await register('once@uni.example', 'once-password-9');
    const token = tokenOf((await mailTo('once@uni.example'))[0]!);
    expect((await login('once@uni.example', 'once-password-9')).status).toBe(401);
    expect((await verify(token)).status).toBe(200);
    const again = await verify(token);
    expect(again.status).toBe(400);
    expect(again.body.error.code).toBe('invalid_verification');
    expect((await login('once@uni.example', 'once-password-9')).status).toBe(200);
    // Only the token's hash is stored.
    const rows = await h.store.db.selectFrom('email_verifications').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(token);
  });

  it('a verification link expires', async () => {
    await register('late@uni.example', 'late-password-9');
    const token = tokenOf((await mailTo('late@uni.example'))[0]!);
    h.clock.advance(VERIFICATION_TTL_MS + 1);
    const r = await verify(token);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('invalid_verification');
    expect((await login('late@uni.example', 'late-password-9')).status).toBe(401);
  });

  it('the nightly purge deletes used and expired links, and keeps open ones', async () => {
    for (const who of ['used', 'expired', 'open']) await register(`${who}@uni.example`, `${who}-password-9`);
    expect((await verify(tokenOf((await mailTo('used@uni.example'))[0]!))).status).toBe(200);
    h.clock.advance(VERIFICATION_TTL_MS / 2);
    await register('open@uni.example', 'open-password-9');
    await mailTo('open@uni.example', 2);
    h.clock.advance(VERIFICATION_TTL_MS / 2);
    expect((await purgeRawData(h.store, h.clock(), 30)).emailVerifications).toBe(3);
    expect(await h.store.db.selectFrom('email_verifications').select('created_at').execute()).toEqual([{ created_at: h.clock.now - VERIFICATION_TTL_MS / 2 }]);
  });

  it('a slow mail server does not hold up the answer, and neither the token nor the SMTP password reaches the log', async () => {
    smtp.stall();
    const started = Date.now();
    expect((await register('slow@uni.example', 'slow-password-9')).status).toBe(202);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(smtp.mails).toHaveLength(0);
    smtp.release();
    const token = tokenOf((await mailTo('slow@uni.example'))[0]!);
    await eventually(() => logLines.some((l) => l.includes('"mail sent"')), 5000, 'the mail sent log line');
    const log = logLines.join('');
    expect(log).not.toContain(token);
    expect(log).not.toContain(SMTP_PASSWORD);
  });

  it(`mails one address at most ${MAILS_PER_RECIPIENT_PER_HOUR} times an hour however often it is registered`, async () => {
    for (let i = 0; i <= MAILS_PER_RECIPIENT_PER_HOUR; i++) expect((await register('flood@uni.example', `flood-password-${i}`)).status).toBe(202);
    await mailTo('flood@uni.example', MAILS_PER_RECIPIENT_PER_HOUR);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(smtp.mails.filter((m) => m.to.includes('flood@uni.example'))).toHaveLength(MAILS_PER_RECIPIENT_PER_HOUR);
  });

  it('a database that ran the later migrations gains 005 on upgrade, its accounts confirmed', async () => {
    const before = await h.user('student', 'before');
    await undoEmailVerification(h.store.db);
    await h.store.db.deleteFrom('kysely_migration' as never).where('name' as never, '=', '005_email_verification' as never).execute();
    expect(await migrateToLatest(h.store)).toEqual(['005_email_verification']);
    expect((await h.store.accounts.get(before.id))?.email_verified_at).toBe(h.clock.now);
  });

  it('accounts made by an admin are verified and take a roster seat at once', async () => {
    const { admin, roster } = await courseWithAdmin();
    const made = await h.http().post('/api/v1/admin/users').set(admin.auth).send({ email: 'made@uni.example', full_name: 'Made', password: 'made-by-admin-1', role: 'student' });
    expect(made.status).toBe(201);
    expect(made.body.email_verified_at).toBe(h.clock.now);
    expect((await roster('made@uni.example')).body).toMatchObject({ enrolled: 1, rejected: [] });
    expect(smtp.mails).toHaveLength(0);
  });
});

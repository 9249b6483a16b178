/**
 * Password reset by an admin: the account gets a one-time link by mail (never a password), its
 * owner sets a new password with it, the old password and every earlier token stop working, the
 * link works once, and both steps are audited. Only admins may send one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';
import { eventually } from '../helpers/eventually.js';
import { startTestSmtp, tokenOf, type TestSmtp } from '../helpers/smtp.js';

let h: CloudHarness;
let smtp: TestSmtp;
let admin: Awaited<ReturnType<CloudHarness['user']>>;

beforeAll(async () => {
  smtp = await startTestSmtp();
  h = await createCloudHarness({ env: smtp.env });
  admin = await h.user('admin', 'ada');
});
afterAll(async () => {
  await h?.close();
  await smtp?.close();
});

const sendReset = (id: string, who = admin) => h.http().post(`/api/v1/admin/users/${id}/password-reset`).set(who.auth);
const login = (email: string, password: string) => h.http().post('/api/v1/auth/token').send({ email, password });

describe('password reset', () => {
  it('mails a one-time link; the new password works, the old one and old tokens do not', async () => {
    const sam = await h.user('student', 'sam');
    const r = await sendReset(sam.id);
    expect(r.status).toBe(202);
    expect(r.body).toEqual({ status: 'reset_sent', expires_at: new Date(h.clock() + 24 * 3_600_000).toISOString() });
    expect(JSON.stringify(r.body)).not.toMatch(/password_hash|scrypt/);
    const mail = await eventually(() => smtp.mails.find((m) => m.to.includes(sam.email)), 5000, 'the reset mail');
    expect(mail.subject).toBe('Choose a password for classroom attendance');
    expect(mail.text).toContain('https://attendance.uni.example/console/reset-password.html#token=');
    // Until the link is used the old password still works.
    expect((await login(sam.email, sam.password)).status).toBe(200);

    const token = tokenOf(mail);
    const set = await h.http().post('/api/v1/auth/password-reset').send({ token, new_password: 'a-brand-new-secret' });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body).toEqual({ status: 'password_set' });
    expect((await login(sam.email, sam.password)).status).toBe(401);
    expect((await login(sam.email, 'a-brand-new-secret')).status).toBe(200);
    expect((await h.http().get('/api/v1/auth/me').set(sam.auth)).status).toBe(401);

    const again = await h.http().post('/api/v1/auth/password-reset').send({ token, new_password: 'yet-another-secret' });
    expect(again.status).toBe(400);
    expect(again.body.error.code).toBe('invalid_reset');

    const log = (await h.http().get('/api/v1/admin/audit').query({ target: sam.id }).set(admin.auth)).body.items;
    expect(log.map((e: { action: string; actor: { id: string } }) => `${e.action} by ${e.actor.id}`)).toEqual([`account.password_reset by ${sam.id}`, `user.password_reset by ${admin.id}`]);
  });

  it('creates an account without a password: the account is mailed a link to choose its own', async () => {
    const r = await h.http().post('/api/v1/admin/users').set(admin.auth).send({ email: 'New.Teacher@uni.example', full_name: 'New Teacher', role: 'teacher' });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toMatchObject({ email: 'new.teacher@uni.example', role: 'teacher', password_link_sent: true });
    expect(Object.keys(r.body)).not.toContain('password');
    const mail = await eventually(() => smtp.mails.find((m) => m.to.includes('new.teacher@uni.example')), 5000, 'the link mail');
    const set = await h.http().post('/api/v1/auth/password-reset').send({ token: tokenOf(mail), new_password: 'chosen-by-myself' });
    expect(set.status).toBe(200);
    expect((await login('new.teacher@uni.example', 'chosen-by-myself')).status).toBe(200);
    // With a password given, no mail goes out.
    const given = await h.http().post('/api/v1/admin/users').set(admin.auth).send({ email: 'given@uni.example', full_name: 'Given', role: 'student', password: 'long-enough-pw' });
    expect(given.body.password_link_sent).toBe(false);
    expect((await login('given@uni.example', 'long-enough-pw')).status).toBe(200);
  });

  it('refuses a weak password (the link stays usable), an unknown token, and expired links', async () => {
    const tom = await h.user('teacher', 'tom');
    expect((await sendReset(tom.id)).status).toBe(202);
    const token = tokenOf(await eventually(() => smtp.mails.find((m) => m.to.includes(tom.email)), 5000, 'the reset mail'));
    const weak = await h.http().post('/api/v1/auth/password-reset').send({ token, new_password: 'short' });
    expect(weak.status).toBe(400);
    expect(weak.body.error.code).toBe('validation_error');
    const unknown = await h.http().post('/api/v1/auth/password-reset').send({ token: 'x'.repeat(43), new_password: 'a-brand-new-secret' });
    expect(unknown.body.error.code).toBe('invalid_reset');
    // A link expires after a day.
    h.clock.advance(24 * 3_600_000 + 1);
    const late = await h.http().post('/api/v1/auth/password-reset').send({ token, new_password: 'a-brand-new-secret' });
    expect(late.status).toBe(400);
    expect(late.body.error.code).toBe('invalid_reset');
    expect((await login(tom.email, tom.password)).status).toBe(200);
  });

  it('answers 404, 409 for a deactivated account, 400 for a bad id, and 401/403 for non-admins', async () => {
    // The test before moved the clock past the first admin's token.
    admin = await h.user('admin', 'alan');
    expect((await sendReset('0192f3a0-7c00-7000-8000-00000000ffff')).status).toBe(404);
    expect((await sendReset('not-an-id')).status).toBe(400);
    const gone = await h.user('student');
    expect((await h.http().post(`/api/v1/admin/users/${gone.id}/deactivate`).set(admin.auth)).status).toBe(200);
    const r = await sendReset(gone.id);
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('account_deactivated');
    expect((await h.http().post(`/api/v1/admin/users/${gone.id}/password-reset`)).status).toBe(401);
    for (const role of ['teacher', 'student'] as const) expect((await sendReset(gone.id, await h.user(role))).status).toBe(403);
  });
});

describe('password reset without mail', () => {
  it('is 409 mail_unavailable, and so is creating an account without a password', async () => {
    const bare = await createCloudHarness();
    try {
      const a = await bare.user('admin');
      const s = await bare.user('student');
      const r = await bare.http().post(`/api/v1/admin/users/${s.id}/password-reset`).set(a.auth);
      expect(r.status).toBe(409);
      expect(r.body.error.code).toBe('mail_unavailable');
      const create = await bare.http().post('/api/v1/admin/users').set(a.auth).send({ email: 'x@uni.example', full_name: 'X', role: 'student' });
      expect(create.status).toBe(409);
      expect(create.body.error.code).toBe('mail_unavailable');
      expect(await bare.store.accounts.findByEmail('x@uni.example')).toBeUndefined();
    } finally {
      await bare.close();
    }
  });
});

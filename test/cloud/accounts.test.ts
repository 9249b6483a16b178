/** Accounts: students-only registration, login (JSON and OAuth2 form), JWT checks, brute-force limit. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';
import { eventually } from '../helpers/eventually.js';
import { startTestSmtp, tokenOf, type TestSmtp } from '../helpers/smtp.js';
import { AUDIENCE, ISSUER } from '../../cloud/auth/jwt.js';

let h: CloudHarness;
let smtp: TestSmtp;
beforeEach(async () => {
  smtp = await startTestSmtp();
  h = await createCloudHarness({ env: smtp.env });
});
afterEach(async () => {
  await h.close();
  await smtp.close();
});

const register = (body: object) => h.http().post('/api/v1/auth/register').send(body);
/** Registers and uses the mailed verification link, as the student would. */
async function registerConfirmed(body: { email: string; full_name: string; password: string }): Promise<void> {
  expect((await register(body)).status).toBe(202);
  const mail = await eventually(() => smtp.mails.find((m) => m.to.includes(body.email)), 5000, `the verification mail to ${body.email}`);
  expect((await h.http().post('/api/v1/auth/verify-email').send({ token: tokenOf(mail) })).status).toBe(200);
}

describe('registration', () => {
  it('creates an unconfirmed student whatever role the body asks for', async () => {
    const r = await register({ email: 'Mallory@Uni.Example', full_name: 'Mallory', password: 'long-enough-pw', role: 'admin', is_teacher: true });
    expect(r.status).toBe(202);
    expect(r.body).toEqual({ status: 'verification_sent' });
    const row = await h.store.db.selectFrom('users').selectAll().where('email', '=', 'mallory@uni.example').executeTakeFirstOrThrow();
    expect(row.role).toBe('student');
    expect(row.email_verified_at).toBeNull();
    expect(row.password_hash).toMatch(/^scrypt\$16384\$8\$1\$/);
  });

  it('answers a taken e-mail (any case) like a new one, and refuses a short or weak password', async () => {
    await registerConfirmed({ email: 'a@uni.example', full_name: 'A', password: 'long-enough-pw' });
    const dup = await register({ email: 'A@UNI.example', full_name: 'A', password: 'long-enough-pw' });
    expect(dup.status).toBe(202);
    expect(dup.body).toEqual({ status: 'verification_sent' });
    const weak = await register({ email: 'b@uni.example', full_name: 'B', password: 'short' });
    expect(weak.status).toBe(400);
    expect(weak.body.error.details[0].path).toBe('password');
    const common = await register({ email: 'b@uni.example', full_name: 'B', password: 'Password123' });
    expect(common.status).toBe(400);
    expect(common.body.error).toMatchObject({ code: 'validation_error', details: [{ path: 'password', message: expect.stringMatching(/most common/) }] });
  });

  it('is closed without mail: a cloud without SMTP cannot let students prove their address', async () => {
    // One harness at a time (afterEach closes this one).
    await h.close();
    h = await createCloudHarness();
    const r = await register({ email: 'c@uni.example', full_name: 'C', password: 'long-enough-pw' });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('registration_closed');
  });
});

describe('login', () => {
  it('accepts JSON and the OAuth2 password form and returns a bearer token that works', async () => {
    await registerConfirmed({ email: 's@uni.example', full_name: 'S', password: 'long-enough-pw' });
    const json = await h.http().post('/api/v1/auth/token').send({ email: 's@uni.example', password: 'long-enough-pw' });
    expect(json.status).toBe(200);
    expect(json.body).toMatchObject({ token_type: 'bearer', expires_in: 86_400 });
    expect(json.headers['cache-control']).toBe('no-store');
    const form = await h.http().post('/api/v1/auth/token').type('form').send({ username: 'S@uni.example', password: 'long-enough-pw', grant_type: 'password' });
    expect(form.status).toBe(200);
    const me = await h.http().get('/api/v1/auth/me').set('Authorization', `Bearer ${form.body.access_token}`);
    expect(me.body).toMatchObject({ email: 's@uni.example', role: 'student' });
  });

  it('answers wrong credentials with 401 and locks out after repeated failures with Retry-After', async () => {
    await registerConfirmed({ email: 'v@uni.example', full_name: 'V', password: 'long-enough-pw' });
    for (let i = 0; i < 5; i++) {
      const r = await h.http().post('/api/v1/auth/token').send({ email: 'v@uni.example', password: `wrong-${i}` });
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe('invalid_credentials');
    }
    const locked = await h.http().post('/api/v1/auth/token').send({ email: 'v@uni.example', password: 'long-enough-pw' });
    expect(locked.status).toBe(429);
    expect(locked.body.error.code).toBe('too_many_attempts');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    h.clock.advance(901_000);
    expect((await h.http().post('/api/v1/auth/token').send({ email: 'v@uni.example', password: 'long-enough-pw' })).status).toBe(200);
  });

  it('does not say whether an account exists', async () => {
    const r = await h.http().post('/api/v1/auth/token').send({ email: 'nobody@uni.example', password: 'whatever-it-is' });
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('invalid_credentials');
  });
});

describe('bearer tokens', () => {
  it('refuses expired, tampered, foreign-key and alg=none tokens with 401 invalid_token', async () => {
    const u = await h.user('student');
    const good = u.auth.Authorization.slice(7);
    const [head, body, sig] = good.split('.') as [string, string, string];
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), role: 'admin' })).toString('base64url');
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${body}.`;
    const otherKey = await new SignJWT({ role: 'admin' }).setProtectedHeader({ alg: 'HS256' }).setSubject(u.id).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('1h').sign(new Uint8Array(32).fill(7));
    for (const token of [`${head}.${forged}.${sig}`, none, otherKey, 'garbage']) {
      const r = await h.http().get('/api/v1/auth/me').set('Authorization', `Bearer ${token}`);
      expect(r.status, token).toBe(401);
      expect(r.body.error.code).toBe('invalid_token');
      expect(r.headers['www-authenticate']).toContain('error="invalid_token"');
    }
    h.clock.advance(86_401_000);
    const expired = await h.http().get('/api/v1/auth/me').set(u.auth);
    expect(expired.status).toBe(401);
    expect(expired.body.error.message).toBe('token expired');
  });
});

describe('CSV roster enrolment', () => {
  it('enrols the known students and reports every other row with its reason', async () => {
    const admin = await h.user('admin');
    const teacher = await h.user('teacher');
    const s1 = await h.user('student');
    const s2 = await h.user('student');
    const course = await h.http().post('/api/v1/admin/courses').set(admin.auth).send({ code: 'CSV1', name: 'Roster', teacher_id: teacher.id });
    const csv = ['email', s1.email.toUpperCase(), 'not-an-email', 'ghost@uni.example', teacher.email, s1.email, `"${s2.email}",extra column`, ''].join('\r\n');
    const r = await h.http().post(`/api/v1/admin/courses/${course.body.id}/enrollments`).set(admin.auth).set('Content-Type', 'text/csv').send(csv);
    expect(r.status).toBe(200);
    expect(r.body.enrolled).toBe(2);
    expect(r.body.rejected.map((x: { row: number; code: string }) => [x.row, x.code])).toEqual([
      [3, 'invalid_email'], [4, 'unknown_user'], [5, 'not_a_student'], [6, 'duplicate_row'],
    ]);
    const again = await h.http().post(`/api/v1/admin/courses/${course.body.id}/enrollments`).set(admin.auth).send({ student_ids: [s1.id] });
    expect(again.body).toEqual({ enrolled: 0, already_enrolled: 1, accepted: [{ row: 1, value: s1.id, student_id: s1.id, outcome: 'already_enrolled' }], rejected: [] });
  });
});

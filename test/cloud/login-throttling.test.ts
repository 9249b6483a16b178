/**
 * Brute force against login and registration, through the real app: the client address behind a
 * proxy, the three limiter scopes with their back-off, the owner not locked out, registration per
 * address, and a registration flood that must not hold up a teacher's login.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadCloudConfig } from '../../cloud/config.js';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.js';

let h: CloudHarness | undefined;
let smtp: TestSmtp | undefined;
afterEach(async () => {
  await h?.close();
  await smtp?.close();
  h = undefined;
  smtp = undefined;
});

/** A cloud with open registration, which needs mail: a real SMTP server started for the test. */
async function registrationHarness(env: Record<string, string>): Promise<CloudHarness> {
  smtp = await startTestSmtp();
  return harness({ ...smtp.env, ...env });
}

async function harness(env: Record<string, string>): Promise<CloudHarness> {
  h = await createCloudHarness({ env });
  return h;
}

/** A login through a proxy that appended `client` to whatever X-Forwarded-For the client sent. */
function login(c: CloudHarness, email: string, password: string, client: string, spoofed = `198.51.100.${randomBytes(1)[0]}`) {
  return c.http().post('/api/v1/auth/token').set('X-Forwarded-For', `${spoofed}, ${client}`).send({ email, password });
}

function register(c: CloudHarness, email: string, client: string) {
  return c.http().post('/api/v1/auth/register').set('X-Forwarded-For', client).send({ email, full_name: 'New Student', password: 'long-enough-pw' });
}

describe('login throttling', () => {
  it('X-Forwarded-For rotation does not bypass the login limiter behind a trusted proxy', async () => {
    const c = await harness({ ATTENDANCE_TRUST_PROXY: 'true' });
    const admin = await c.user('admin');
    for (let i = 0; i < 5; i++) expect((await login(c, admin.email, `guess-${i}`, '203.0.113.7')).status).toBe(401);
    const blocked = await login(c, admin.email, admin.password, '203.0.113.7');
    expect([blocked.status, blocked.body.error.code]).toEqual([429, 'too_many_attempts']);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    // Another client behind the same proxy is a different address.
    expect((await login(c, admin.email, admin.password, '203.0.113.8')).status).toBe(200);
  });

  it('X-Forwarded-For rotation does not bypass the login limiter behind a listed proxy', async () => {
    const c = await harness({ ATTENDANCE_TRUST_PROXY: '127.0.0.1, ::1' });
    const admin = await c.user('admin');
    for (let i = 0; i < 5; i++) expect((await login(c, admin.email, `guess-${i}`, '203.0.113.7')).status).toBe(401);
    expect((await login(c, admin.email, admin.password, '203.0.113.7')).status).toBe(429);
  });

  it('failed logins across many accounts from one address are slowed, each further failure doubling the wait', async () => {
    const c = await harness({ ATTENDANCE_TRUST_PROXY: 'true', ATTENDANCE_LOGIN_MAX_PER_ADDRESS: '12' });
    const accounts = await Promise.all([c.user('student'), c.user('teacher'), c.user('admin')]);
    const emails = [...accounts.map((a) => a.email), 'nobody@uni.example'];
    // Three wrong passwords for each of four accounts (one unknown): no account reaches its own limit.
    for (const email of emails) for (let i = 0; i < 3; i++) expect((await login(c, email, `guess-${i}`, '203.0.113.7')).status).toBe(401);
    const first = await login(c, accounts[0]!.email, accounts[0]!.password, '203.0.113.7');
    expect([first.status, first.headers['retry-after']]).toEqual([429, '1']);
    c.clock.advance(1000);
    expect((await login(c, 'another@uni.example', 'guess', '203.0.113.7')).status).toBe(401);
    const second = await login(c, accounts[0]!.email, accounts[0]!.password, '203.0.113.7');
    expect([second.status, second.headers['retry-after']]).toEqual([429, '2']);
    // The same accounts from another address are not slowed.
    expect((await login(c, accounts[0]!.email, accounts[0]!.password, '203.0.113.50')).status).toBe(200);
  });

  it('a locked account cannot be guessed from other addresses, while its owner still logs in from where they did before', async () => {
    const c = await harness({ ATTENDANCE_TRUST_PROXY: 'true', ATTENDANCE_LOGIN_MAX_PER_ACCOUNT: '6' });
    const teacher = await c.user('teacher');
    const home = '192.0.2.10';
    expect((await login(c, teacher.email, teacher.password, home)).status).toBe(200);
    for (let i = 0; i < 6; i++) expect((await login(c, teacher.email, `guess-${i}`, `203.0.113.${i + 1}`)).status).toBe(401);
    // Even the right password from a new address is not checked.
    const fresh = await login(c, teacher.email, teacher.password, '203.0.113.99');
    expect([fresh.status, fresh.body.error.code]).toEqual([429, 'too_many_attempts']);
    expect((await login(c, teacher.email, teacher.password, home)).status).toBe(200);
  });

  it('a bad ATTENDANCE_TRUST_PROXY stops the start with a message naming it', () => {
    const err = (() => {
      try {
        loadCloudConfig({ ATTENDANCE_TRUST_PROXY: 'yes' });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([expect.stringMatching(/^ATTENDANCE_TRUST_PROXY: yes: not an IP address or CIDR; use false, true/)]);
    expect(loadCloudConfig({ ATTENDANCE_TRUST_PROXY: '10.0.0.0/8,fd00::1' }).trustProxy).toEqual({ proxies: ['10.0.0.0/8', 'fd00::1'] });
  });
});

describe('registration throttling', () => {
  it('registration is limited per address', async () => {
    const c = await registrationHarness({ ATTENDANCE_TRUST_PROXY: 'true', ATTENDANCE_REGISTER_MAX_PER_HOUR: '3' });
    expect((await register(c, 'r1@uni.example', '203.0.113.7')).status).toBe(202);
    expect((await register(c, 'r2@uni.example', '203.0.113.7')).status).toBe(202);
    // A repeated address counts too: it cost a hash.
    expect((await register(c, 'r2@uni.example', '203.0.113.7')).status).toBe(202);
    const refused = await register(c, 'r3@uni.example', '203.0.113.7');
    expect([refused.status, refused.body.error.code, refused.headers['retry-after']]).toEqual([429, 'too_many_attempts', '3600']);
    expect((await register(c, 'r3@uni.example', '203.0.113.8')).status).toBe(202);
    c.clock.advance(3_600_000);
    expect((await register(c, 'r4@uni.example', '203.0.113.7')).status).toBe(202);
  });

  it("a registration flood does not hold up a teacher's login", async () => {
    const c = await registrationHarness({ ATTENDANCE_TRUST_PROXY: 'true', ATTENDANCE_REGISTER_MAX_PER_HOUR: '1000' });
    const teacher = await c.user('teacher');
    const flood = 12;
    let registered = 0;
    const registrations = Array.from({ length: flood }, (_, i) =>
      register(c, `flood${i}@uni.example`, `203.0.113.${i + 1}`).then((r) => {
        registered++;
        return r.status;
      }),
    );
    // Let the flood reach the password hashing before the teacher logs in.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const res = await login(c, teacher.email, teacher.password, '192.0.2.10');
    const registeredBeforeLogin = registered;
    expect(res.status).toBe(200);
    // New hashes run one at a time, so the login's check does not queue behind the flood's.
    expect(registeredBeforeLogin).toBeLessThan(flood / 2);
    expect(await Promise.all(registrations)).toEqual(Array<number>(flood).fill(202));
  });
});

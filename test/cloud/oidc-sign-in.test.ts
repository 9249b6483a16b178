/**
 * Sign-in through the institution's OpenID provider, over HTTP against a real provider
 * (oidc-provider on a port, real signed id tokens): the app flow with its one-time code, the
 * dashboard's code in the fragment, and every refusal — wrong state, replayed codes, another
 * audience, an expired id token, a return_to that is not allowed — plus which account a sign-in
 * opens and the role it gets from the groups claim.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudHarness, testClock, type CloudHarness } from '../helpers/cloud.js';
import { startTestProvider, type TestProvider } from '../helpers/oidc-provider.js';
import { loadCloudConfig } from '../../cloud/config.js';

const PUBLIC_URL = 'https://attendance.uni.example';
const APP_REDIRECT = 'edu.uni.attendance:/oidc';

let op: TestProvider;
let h: CloudHarness;
let n = 0;

beforeAll(async () => {
  op = await startTestProvider({ redirectUris: [`${PUBLIC_URL}/api/v1/auth/oidc/callback`], idTokenTtlS: 60 });
  // The provider stamps id tokens with the real time; the cloud's clock starts there too.
  h = await createCloudHarness({
    clock: testClock(Date.now()),
    env: {
      ...op.cloudEnv(PUBLIC_URL),
      ATTENDANCE_OIDC_NAME: 'Uni Login',
      ATTENDANCE_OIDC_TEACHER_VALUES: 'staff',
      ATTENDANCE_OIDC_ADMIN_VALUES: 'it-admins',
      ATTENDANCE_OIDC_APP_REDIRECTS: APP_REDIRECT,
    },
  });
});
afterAll(async () => {
  await h?.close();
  await op?.close();
});

/** A person at the provider with a fresh subject and address. */
function person(claims: Record<string, unknown> = {}): { sub: string; email: string } {
  n++;
  const sub = `person-${n}`;
  const email = `person${n}@uni.example`;
  op.people.set(sub, { email, email_verified: true, name: `Person ${n}`, groups: [], ...claims });
  return { sub, email };
}

/** Starts a sign-in at the cloud and lets the provider sign `sub` in; the callback URL and the browser's cookie. */
async function atProvider(sub: string, returnTo?: string): Promise<{ callback: string; cookie: string }> {
  const res = await h.http().get('/api/v1/auth/oidc/login').query(returnTo ? { return_to: returnTo } : {}).expect(302);
  const cookie = (res.headers['set-cookie'] as unknown as string[])[0]!.split(';')[0]!;
  op.signInAs(sub);
  const back = await op.authorize(res.headers.location!);
  expect(back.origin + back.pathname).toBe(`${PUBLIC_URL}/api/v1/auth/oidc/callback`);
  return { callback: back.pathname + back.search, cookie };
}

const callback = (at: { callback: string; cookie: string }) => h.http().get(at.callback).set('Cookie', at.cookie);

/** The app's whole sign-in: the one-time code its redirect URI receives. */
async function appCode(sub: string): Promise<string> {
  const res = await callback(await atProvider(sub, APP_REDIRECT)).expect(302);
  const target = new URL(res.headers.location!);
  expect(`${target.protocol}${target.pathname}`).toBe(APP_REDIRECT);
  return target.searchParams.get('code')!;
}

async function appToken(sub: string): Promise<string> {
  const res = await h.http().post('/api/v1/auth/oidc/exchange').send({ code: await appCode(sub) }).expect(200);
  return res.body.access_token;
}

const me = (token: string) => h.http().get('/api/v1/auth/me').set('Authorization', `Bearer ${token}`);

describe('sign-in through the institution', () => {
  it('offers the provider on the public settings endpoint', async () => {
    const res = await h.http().get('/api/v1/auth/oidc').expect(200);
    expect(res.body).toEqual({ enabled: true, name: 'Uni Login', login_url: '/api/v1/auth/oidc/login' });
  });

  it('signs an app in: a new student account, a one-time code at its redirect URI, exchanged for a token', async () => {
    const p = person({ name: 'Ada Lovelace' });
    const res = await h.http().post('/api/v1/auth/oidc/exchange').send({ code: await appCode(p.sub) }).expect(200);
    expect(res.body).toMatchObject({ token_type: 'bearer', expires_in: expect.any(Number) });
    expect(res.headers['cache-control']).toBe('no-store');
    const account = (await me(res.body.access_token).expect(200)).body;
    expect(account).toMatchObject({ email: p.email, full_name: 'Ada Lovelace', role: 'student' });
    expect(account.email_verified_at).not.toBeNull();
  });

  it('hands the dashboard its code in the fragment, never in the query', async () => {
    const res = await callback(await atProvider(person().sub)).expect(302);
    expect(res.headers.location).toMatch(/^\/dashboard#oidc_code=[\w-]{43}$/);
    const code = res.headers.location!.split('#oidc_code=')[1]!;
    await h.http().post('/api/v1/auth/oidc/exchange').send({ code }).expect(200);
  });

  it('refuses an app one-time code used twice (replayed code)', async () => {
    const code = await appCode(person().sub);
    await h.http().post('/api/v1/auth/oidc/exchange').send({ code }).expect(200);
    const again = await h.http().post('/api/v1/auth/oidc/exchange').send({ code }).expect(400);
    expect(again.body.error.code).toBe('invalid_code');
  });

  it('refuses a callback with a wrong state, and one from another browser', async () => {
    const at = await atProvider(person().sub);
    const wrong = at.callback.replace(/state=[^&]+/, 'state=not-the-state-we-sent');
    expect((await h.http().get(wrong).set('Cookie', at.cookie).expect(400)).body.error.code).toBe('invalid_state');
    const other = await atProvider(person().sub);
    expect((await h.http().get(other.callback).expect(400)).body.error.code).toBe('invalid_state');
  });

  it("refuses the provider's authorization code replayed, also under a fresh state", async () => {
    const p = person();
    const first = await atProvider(p.sub);
    await callback(first).expect(302);
    expect((await callback(first).expect(400)).body.error.code).toBe('invalid_state');
    const fresh = await atProvider(p.sub);
    const code = new URLSearchParams(first.callback.split('?')[1]).get('code')!;
    const replay = fresh.callback.replace(/code=[^&]+/, `code=${encodeURIComponent(code)}`);
    const res = await h.http().get(replay).set('Cookie', fresh.cookie).expect(400);
    expect(res.body.error.code).toBe('oidc_refused');
  });

  it('refuses an id token issued for another audience', async () => {
    const at = await atProvider(person().sub);
    op.tamperNextIdToken((claims) => ({ ...claims, aud: 'another-client' }));
    const res = await callback(at).expect(400);
    expect(res.body.error).toMatchObject({ code: 'oidc_refused', message: expect.stringMatching(/aud/) });
  });

  it("refuses an expired id token (checked against the cloud's clock)", async () => {
    const at = await atProvider(person().sub);
    h.clock.advance(3 * 60_000); // past the id token's 60 s and the 30 s tolerance, within the sign-in's 10 min
    try {
      const res = await callback(at).expect(400);
      expect(res.body.error).toMatchObject({ code: 'oidc_refused', message: expect.stringMatching(/exp/) });
    } finally {
      h.clock.advance(-3 * 60_000);
    }
  });

  it('refuses a return_to that is neither a path of this site nor a registered app redirect (disallowed return_to)', async () => {
    for (const returnTo of ['https://evil.example/dashboard', '//evil.example/x', '/\\evil.example', 'edu.uni.attendance:/other', 'javascript:alert(1)']) {
      const res = await h.http().get('/api/v1/auth/oidc/login').query({ return_to: returnTo }).expect(400);
      expect(res.body.error.code).toBe('invalid_return_to');
    }
  });

  it('gives the role of the groups claim at every sign-in; a change bumps the token version', async () => {
    const p = person({ groups: ['staff', 'library'] });
    const teacherToken = await appToken(p.sub);
    expect((await me(teacherToken).expect(200)).body.role).toBe('teacher');
    op.people.set(p.sub, { ...op.people.get(p.sub), groups: ['library'] });
    const studentToken = await appToken(p.sub);
    expect((await me(studentToken).expect(200)).body.role).toBe('student');
    await me(teacherToken).expect(401);
    // An unchanged role keeps the tokens valid.
    await appToken(p.sub);
    await me(studentToken).expect(200);
  });

  it('does not take over a self-registered account with the same e-mail', async () => {
    const own = await h.user('student', 'mallory-target');
    const p = person({ email: own.email, email_verified: true });
    const res = await callback(await atProvider(p.sub, APP_REDIRECT)).expect(409);
    expect(res.body.error.code).toBe('account_not_linked');
    await h.http().post('/api/v1/auth/token').send({ email: own.email, password: own.password }).expect(200);
  });

  it('links an account imported from the institution by its verified e-mail; linked accounts have no password login', async () => {
    const imported = await h.user('student', 'imported');
    await h.store.db.updateTable('users').set({ sourced_id: `sis-${n}` }).where('id', '=', imported.id).execute();
    const unverified = person({ email: imported.email, email_verified: false });
    expect((await callback(await atProvider(unverified.sub, APP_REDIRECT)).expect(409)).body.error.code).toBe('account_not_linked');
    const p = person({ email: imported.email, email_verified: true });
    expect((await me(await appToken(p.sub)).expect(200)).body.id).toBe(imported.id);
    const login = await h.http().post('/api/v1/auth/token').send({ email: imported.email, password: imported.password }).expect(401);
    expect(login.body.error.code).toBe('invalid_credentials');
    // Another subject with the same address does not get the already linked account.
    const other = person({ email: imported.email, email_verified: true });
    expect((await callback(await atProvider(other.sub, APP_REDIRECT)).expect(409)).body.error.code).toBe('account_not_linked');
  });
});

describe('configuration of sign-in through the institution', () => {
  it('names the missing variable of a half configuration', () => {
    expect(() => loadCloudConfig({ ATTENDANCE_OIDC_ISSUER: 'https://login.uni.example' })).toThrow(/ATTENDANCE_OIDC_CLIENT_ID:.*\n.*ATTENDANCE_PUBLIC_URL:/);
    expect(loadCloudConfig({}).oidc).toBeNull();
  });
});

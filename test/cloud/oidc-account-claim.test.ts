/**
 * Sign-in through the institution with ATTENDANCE_OIDC_ACCOUNT_CLAIM: an imported account is
 * linked by the claim that carries its sourced_id, not by the provider's e-mail (a real
 * oidc-provider, over HTTP).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudHarness, testClock, type CloudHarness } from '../helpers/cloud.js';
import { startTestProvider, type TestProvider } from '../helpers/oidc-provider.js';

const PUBLIC_URL = 'https://attendance.uni.example';
const APP_REDIRECT = 'edu.uni.attendance:/oidc';

let op: TestProvider;
let h: CloudHarness;

beforeAll(async () => {
  op = await startTestProvider({ redirectUris: [`${PUBLIC_URL}/api/v1/auth/oidc/callback`] });
  h = await createCloudHarness({
    clock: testClock(Date.now()),
    env: {
      ...op.cloudEnv(PUBLIC_URL),
      ATTENDANCE_OIDC_ACCOUNT_CLAIM: 'student_id',
      ATTENDANCE_OIDC_APP_REDIRECTS: APP_REDIRECT,
    },
  });
});
afterAll(async () => {
  await h?.close();
  await op?.close();
});

describe('sign-in through the institution with an account claim', () => {
  it("links an imported account by the claim equal to its sourced_id, whatever the provider's e-mail", async () => {
    const imported = await h.user('student', 'rostered');
    await h.store.db.updateTable('users').set({ sourced_id: 'sis-4711' }).where('id', '=', imported.id).execute();
    op.people.set('rostered-1', { email: 'another-address@uni.example', email_verified: false, name: 'Rostered', student_id: 'sis-4711' });
    const login = await h.http().get('/api/v1/auth/oidc/login').query({ return_to: APP_REDIRECT }).expect(302);
    const cookie = (login.headers['set-cookie'] as unknown as string[])[0]!.split(';')[0]!;
    op.signInAs('rostered-1');
    const back = await op.authorize(login.headers.location!);
    const done = await h.http().get(back.pathname + back.search).set('Cookie', cookie).expect(302);
    const code = new URL(done.headers.location!).searchParams.get('code')!;
    const token = (await h.http().post('/api/v1/auth/oidc/exchange').send({ code }).expect(200)).body.access_token;
    expect((await h.http().get('/api/v1/auth/me').set('Authorization', `Bearer ${token}`).expect(200)).body.id).toBe(imported.id);
  });
});

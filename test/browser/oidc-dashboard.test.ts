/**
 * The dashboard's "Sign in with <institution>" in headless Chromium: the real cloud on a port, a
 * real OpenID provider on another. The browser goes to the provider and back; the token reaches
 * the page through the one-time code in the fragment, which the page drops from the address bar.
 */
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { OUT, SLOW, launchChromium, watchErrors } from '../helpers/browser.js';
import { createCloudHarness, testClock, type CloudHarness } from '../helpers/cloud.js';
import { startTestProvider, type TestProvider } from '../helpers/oidc-provider.js';

let server: http.Server;
let base: string;
let op: TestProvider;
let h: CloudHarness;
let browser: Browser;

beforeAll(async () => {
  server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://localhost:${(server.address() as AddressInfo).port}`;
  op = await startTestProvider({ redirectUris: [`${base}/api/v1/auth/oidc/callback`] });
  h = await createCloudHarness({
    clock: testClock(Date.now()),
    env: {
      ...op.cloudEnv(base),
      ATTENDANCE_OIDC_NAME: 'Uni Login',
      ATTENDANCE_OIDC_TEACHER_VALUES: 'staff',
    },
  });
  server.on('request', h.app.koa.callback());
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await h?.close();
  await op?.close();
});

describe('dashboard sign-in through the institution', () => {
  it('signs a teacher in through the provider and keeps the token out of the address bar', async () => {
    op.people.set('teacher-1', { email: 'grace@uni.example', email_verified: true, name: 'Grace Hopper', groups: ['staff'] });
    op.signInAs('teacher-1');
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = watchErrors(page);
    const visited: string[] = [];
    page.on('request', (r) => r.isNavigationRequest() && visited.push(r.url()));
    await page.goto(`${base}/dashboard`);
    await page.getByRole('link', { name: 'Sign in with Uni Login' }).click();
    await page.locator('#who').filter({ hasText: 'Grace Hopper (grace@uni.example)' }).waitFor(SLOW);
    expect(page.url()).toBe(`${base}/dashboard`);
    expect(visited.some((u) => u.startsWith(op.issuer))).toBe(true);
    // No navigation carried the cloud's code or token where a server would log it.
    expect(visited.filter((u) => /oidc_code|access_token/.test(u.split('#')[0]!))).toEqual([]);
    expect(await page.evaluate("sessionStorage.getItem('attendance.token')")).toMatch(/^ey/);
    expect(await page.locator('#live').textContent()).toBe('You have no courses yet.');
    await page.screenshot({ path: path.join(OUT, 'oidc-dashboard.png') });
    expect(errors).toEqual([]);
    await context.close();
  });
});

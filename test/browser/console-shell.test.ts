/**
 * The console's frame in Chromium: the login form, the navigation each role gets, the pages a
 * role may not open, an unknown route, the language switch (English ↔ German, kept across
 * reloads) and the accessibility check of each of those states.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';
import { checkPage, go, openConsole, serveConsole, type ConsoleServer } from '../helpers/console.js';
import { SLOW } from '../helpers/browser.js';

let h: CloudHarness;
let srv: ConsoleServer;

beforeAll(async () => {
  h = await createCloudHarness();
  srv = await serveConsole(h);
});
afterAll(async () => {
  await srv?.close();
  await h?.close();
});

describe('console frame', () => {
  it('shows the login form, refuses a wrong password and keeps the secret out of the address bar', async () => {
    const student = await h.user('student', 'sam');
    const { page, context } = await openConsole(srv, undefined, { failedResponses: false });
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await checkPage(page, 'login');
    await page.getByLabel('E-mail').fill(student.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent(), SLOW).toMatch(/^Failed: /);
    expect(page.url()).not.toContain('password');
    await context.close();
  });

  it('gives each role its own navigation and refuses pages of another role', async () => {
    const admin = await h.user('admin', 'ada');
    const student = await h.user('student', 'stu');
    const a = await openConsole(srv, admin);
    const adminNav = await a.page.locator('#nav a').allTextContents();
    expect(adminNav).toEqual(expect.arrayContaining(['Accounts', 'Audit log', 'Session', 'Past sessions']));
    expect(adminNav).not.toContain('My devices');
    expect(await a.page.locator('#who').textContent()).toBe(`ada (${admin.email}, administrator)`);
    await a.context.close();

    const s = await openConsole(srv, student);
    expect(await s.page.locator('#nav a').allTextContents()).toEqual(['My attendance', 'My devices', 'My data']);
    await go(s.page, 'admin/accounts');
    expect(await s.page.getByRole('alert').textContent()).toBe('This page is not available to your account.');
    await checkPage(s.page, 'forbidden');
    await go(s.page, 'no/such/page');
    expect(await s.page.getByRole('alert').textContent()).toBe('There is no such page.');
    expect(s.errors).toEqual([]);
    await s.context.close();
  });

  it('switches to German and stays German after a reload', async () => {
    const student = await h.user('student', 'lena');
    const { page, context, errors } = await openConsole(srv, student);
    await page.getByLabel('Language').selectOption('de');
    await expect.poll(() => page.locator('#nav a').allTextContents(), SLOW).toEqual(['Meine Anwesenheit', 'Meine Geräte', 'Meine Daten']);
    expect(await page.locator('html').getAttribute('lang')).toBe('de');
    await page.reload();
    await page.locator('#nav a').first().waitFor();
    expect(await page.getByRole('button', { name: 'Abmelden' }).isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Abmelden' }).click();
    await page.getByRole('heading', { name: 'Anmelden' }).waitFor();
    await checkPage(page, 'login-de');
    expect(errors).toEqual([]);
    await context.close();
  });
});

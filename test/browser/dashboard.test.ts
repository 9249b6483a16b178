/**
 * The teacher dashboard in headless Chromium against the real cloud listening on a port: log
 * in, read the chart and the table, watch the live panel move, download the CSV, excuse a
 * student. Screenshots go to test-output/ for a person to look at.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { OUT, SLOW, launchChromium, watchErrors } from '../helpers/browser.js';
import { buildAnalyticsWorld, type AnalyticsWorld } from '../cloud/analytics-fixture.js';


let world: AnalyticsWorld;
let server: http.Server;
let base: string;
let browser: Browser;

beforeAll(async () => {
  world = await buildAnalyticsWorld();
  server = http.createServer(world.h.app.koa.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await world?.h.close();
});

/** The row whose header cell (name, badge, e-mail) starts with the student's name. */
const studentRow = (page: Page, name: string) => page.locator('#students tbody tr', { has: page.locator('th', { hasText: new RegExp(`^${name}`) }) });

async function cells(page: Page, name: string): Promise<string[]> {
  return studentRow(page, name).locator('td').allTextContents();
}

describe('teacher dashboard', () => {
  it('logs in, shows the numbers, follows the live session, downloads the CSV and excuses a student', async () => {
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    const errors = watchErrors(page, { failedResponses: true });
    const response = await page.goto(`${base}/dashboard`);
    expect(response!.headers()['content-security-policy']).toContain("script-src 'self'");

    await page.getByLabel('E-mail').fill(world.teacher.email);
    await page.getByLabel('Password').fill(world.teacher.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('#students tbody tr').nth(4).waitFor();

    // The course's term: Cem at exactly 75 % is not flagged, Dan at 0 % is, Eve has no record.
    expect(await page.locator('#course option:checked').textContent()).toBe('CS101 — Algorithms');
    expect(await page.locator('#students-summary').textContent()).toContain('4 sessions held · minimum 75 % · 1 of 5 students below it');
    expect(await cells(page, 'Ada')).toEqual(['4', '4', '0', '0', '0', '100 %']);
    expect(await cells(page, 'Cem')).toEqual(['4', '2', '1', '1', '0', '75 %']);
    expect(await cells(page, 'Dan')).toEqual(['4', '0', '0', '4', '0', '0 %']);
    expect(await cells(page, 'Eve')).toEqual(['0', '0', '0', '0', '0', '—']);
    expect(await studentRow(page, 'Dan').getAttribute('class')).toBe('below');
    expect(await studentRow(page, 'Dan').locator('.badge').textContent()).toBe('below minimum');
    expect(await studentRow(page, 'Cem').getAttribute('class')).toBeNull();

    // The chart: 28 days ending today, bars on the four class days, grey ticks elsewhere.
    const bars = page.locator('#trend-chart rect.bar');
    await bars.nth(3).waitFor();
    expect(await bars.evaluateAll((els) => els.map((e) => [e.getAttribute('data-start'), e.getAttribute('data-rate')]))).toEqual([
      ['2026-09-07', '75'], ['2026-09-09', '66.67'], ['2026-09-11', '50'], ['2026-10-01', '75'],
    ]);
    expect(await page.locator('#trend-chart rect.no-session').count()).toBe(24);
    expect(await page.locator('#trend-caption').textContent()).toContain('4 of 28 periods had a session');

    // Live panel: Ada checked in to the session still running in Room 202; Ben joins now.
    const checkedIn = page.locator('#live [data-metric="Checked in"] dd');
    await expect.poll(() => checkedIn.textContent(), SLOW).toBe('1 of 5');
    world.h.clock.advance(30_000);
    const submit = await world.h.http().post('/api/v1/student/token/submit').set(await world.auth(world.student.ben)).send({ frame: world.liveFrame(world.h.clock()) });
    expect(submit.body.status).toBe('accepted');
    await expect.poll(() => checkedIn.textContent(), SLOW).toBe('2 of 5');

    // CSV download with the same numbers.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
    expect(download.suggestedFilename()).toBe('attendance_CS101_2026-09-01_2026-12-20.csv');
    const csv = fs.readFileSync((await download.path())!, 'utf8');
    expect(csv.split('\r\n')[0]).toBe('student_id,email,full_name,sessions_held,present,late,absent,excused,attended,percentage,below_minimum');
    expect(csv).toContain(`${world.student.cem.id},${world.student.cem.email},Cem,4,2,1,1,0,3,75,false\r\n`);
    fs.copyFileSync((await download.path())!, path.join(OUT, download.suggestedFilename()));

    // Excuse Cem for the Friday night class he missed: his absence leaves the denominator.
    await page.getByLabel('Session', { exact: true }).selectOption(world.sessions.s3);
    await page.getByLabel('Student', { exact: true }).selectOption(world.student.cem.id);
    await page.getByLabel('Reason', { exact: true }).fill('Family emergency, confirmed by the office');
    await page.getByRole('button', { name: 'Mark excused' }).click();
    await expect.poll(() => page.locator('#excuse-status').textContent(), SLOW).toMatch(/^Cem is marked excused for /);
    await expect.poll(() => cells(page, 'Cem'), SLOW).toEqual(['4', '2', '1', '0', '1', '100 %']);
    const stored = await world.h.store.db.selectFrom('attendance').select(['override_status', 'override_reason']).where('session_id', '=', world.sessions.s3).where('student_id', '=', world.student.cem.id).executeTakeFirstOrThrow();
    expect(stored).toEqual({ override_status: 'excused', override_reason: 'Family emergency, confirmed by the office' });

    await page.screenshot({ path: path.join(OUT, 'dashboard.png'), fullPage: true });
    expect(errors).toEqual([]);
    await context.close();
  }, 90_000);

  it('fits a phone screen without sideways scrolling of the page', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    const errors = watchErrors(page, { failedResponses: true });
    await page.goto(`${base}/dashboard`);
    await page.getByLabel('E-mail').fill(world.teacher.email);
    await page.getByLabel('Password').fill(world.teacher.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('#trend-chart rect.bar').first().waitFor();
    const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: path.join(OUT, 'dashboard-phone.png'), fullPage: true });
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);

  it('a wrong password is reported on the form', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/dashboard`);
    await page.getByLabel('E-mail').fill(world.teacher.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect.poll(() => page.locator('#login-error').textContent(), SLOW).toBe('Failed: e-mail or password is wrong, or the address is not confirmed yet');
    expect(await page.locator('#app').isHidden()).toBe(true);
    await page.close();
  });

  it('the interactive API docs render from local assets under their CSP', async () => {
    const page = await browser.newPage();
    const errors = watchErrors(page, { failedResponses: true });
    const external: string[] = [];
    page.on('request', (r) => !r.url().startsWith(base) && !r.url().startsWith('data:') && external.push(r.url()));
    await page.goto(`${base}/api/v1/docs`);
    await page.locator('.opblock-summary-path', { hasText: '/api/v1/teacher/analytics/attendance_trends' }).first().waitFor({ timeout: 20_000 });
    expect(await page.locator('.opblock').count()).toBeGreaterThan(15);
    await page.screenshot({ path: path.join(OUT, 'api-docs.png') });
    expect(external).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});

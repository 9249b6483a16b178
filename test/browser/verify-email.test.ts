/**
 * The page the verification mail links to, in headless Chromium against the real cloud on a port
 * and a real SMTP server: the link from the received mail opens a page that confirms nothing by
 * itself (a mail scanner that follows links proves no address), the button confirms, a spent link
 * says what to do, and the page runs under the dashboard's CSP. Screenshots go to test-output/.
 */
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { OUT, SLOW, launchChromium, watchErrors } from '../helpers/browser.js';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';
import { eventually } from '../helpers/eventually.js';
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.js';
import { DASHBOARD_CSP } from '../../cloud/dashboard/routes.js';


let smtp: TestSmtp;
let h: CloudHarness;
let server: http.Server;
let base: string;
let browser: Browser;

beforeAll(async () => {
  smtp = await startTestSmtp();
  // The port comes first so the cloud's public URL, and with it the mailed link, is this server.
  let handle: http.RequestListener = (_req, res) => res.writeHead(503).end();
  server = http.createServer((req, res) => handle(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://localhost:${(server.address() as AddressInfo).port}`;
  h = await createCloudHarness({ env: { ...smtp.env, ATTENDANCE_PUBLIC_URL: base } });
  handle = h.app.koa.callback();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await h?.close();
  await smtp?.close();
});

const register = (email: string, password: string) => h.http().post('/api/v1/auth/register').send({ email, full_name: 'Vera Lind', password });
const login = (email: string, password: string) => h.http().post('/api/v1/auth/token').send({ email, password });

async function mailedLink(address: string): Promise<string> {
  const mail = await eventually(() => smtp.mails.find((m) => m.to.includes(address)), 5000, `the mail to ${address}`);
  const link = new RegExp(`^${base}/verify-email#token=[A-Za-z0-9_-]+$`, 'm').exec(mail.text)?.[0];
  if (!link) throw new Error(`no link to ${base}/verify-email in the mail:\n${mail.text}`);
  return link;
}

const status = (page: Page) => page.getByRole('status').textContent();

describe('e-mail verification page', () => {
  it('opening the mailed link confirms nothing; the button does, and then the account logs in; the spent link says to register again', async () => {
    expect((await register('vera@uni.example', 'vera-own-secret')).status).toBe(202);
    const link = await mailedLink('vera@uni.example');
    const token = link.split('#token=')[1]!;

    const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(link);
    await page.getByRole('button', { name: 'Confirm my address' }).waitFor();
    // The code is filled in from the fragment, which then leaves the address bar and the history.
    expect(await page.getByLabel('Code from the mail').inputValue()).toBe(token);
    expect(page.url()).toBe(`${base}/verify-email`);
    expect(await page.evaluate('location.hash')).toBe('');
    // Opened, not confirmed.
    expect((await login('vera@uni.example', 'vera-own-secret')).status).toBe(401);

    await page.getByRole('button', { name: 'Confirm my address' }).click();
    await expect.poll(() => status(page), SLOW).toContain('Your address is confirmed.');
    expect(await page.locator('#verify-form').isHidden()).toBe(true);
    await page.screenshot({ path: path.join(OUT, 'verify-email-confirmed.png') });
    expect((await login('vera@uni.example', 'vera-own-secret')).status).toBe(200);

    // The same link opened again (here in the same tab): refused, with what to do.
    await page.goto(link);
    await page.getByRole('button', { name: 'Confirm my address' }).click();
    await expect.poll(() => status(page), SLOW).toContain('already used or expired');
    expect(await status(page)).toContain('register again with the same e-mail address to get a new link');
    expect(await page.getByLabel('Code from the mail').getAttribute('aria-invalid')).toBe('true');
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);

  it('on a phone, a pasted code is confirmed from the keyboard alone and a bad one is reported', async () => {
    expect((await register('paste@uni.example', 'paste-own-secret')).status).toBe(202);
    const link = await mailedLink('paste@uni.example');
    const context = await browser.newContext({ viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${base}/verify-email`);
    const code = page.getByLabel('Code from the mail');
    expect(await code.inputValue()).toBe('');

    // Nothing pasted yet, then half a code: each is explained, nothing is confirmed.
    await code.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => status(page), SLOW).toBe('Paste the code from the mail first.');
    await page.keyboard.type('too-short');
    await page.keyboard.press('Enter');
    await expect.poll(() => status(page), SLOW).toContain('not a whole code');

    // The whole link pasted into the field works as well as the code.
    await code.fill(link);
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Confirm my address');
    await page.keyboard.press('Enter');
    await expect.poll(() => status(page), SLOW).toContain('Your address is confirmed.');
    expect((await login('paste@uni.example', 'paste-own-secret')).status).toBe(200);

    const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: path.join(OUT, 'verify-email-phone.png'), fullPage: true });
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);

  it('the page and its script are served with the dashboard CSP, no referrer and no framing, and hold no inline script or style', async () => {
    const page = await h.http().get('/verify-email');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toBe(DASHBOARD_CSP);
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=/i);
    const script = await h.http().get('/dashboard/verify-email.js');
    expect(script.status).toBe(200);
    expect(script.headers['content-security-policy']).toBe(DASHBOARD_CSP);
  });
});

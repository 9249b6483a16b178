/**
 * The student pages of the console in Chromium, as a student uses them: my attendance per course
 * with each session's reasons; enrolling a passkey in the browser (Chromium's virtual
 * authenticator) — the first approved, a second waiting for approval, the same device refused —
 * and revoking one after the dialog; downloading my data as a JSON file. WebAuthn needs the page's
 * origin to be the relying party's, so the cloud is configured for http://localhost:<port> on a
 * port picked before it starts.
 */
import fs from 'node:fs';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';
import { checkPage, go, openConsole, serveConsole, type ConsoleServer } from '../helpers/console.js';
import { SLOW } from '../helpers/browser.js';
import { studentHistory, type StudentHistory } from '../cloud/student-records-fixture.js';

let h: CloudHarness;
let srv: ConsoleServer;
let s: StudentHistory;

/** A port free now, for the server to listen on once the cloud knows its origin. */
async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as AddressInfo;
  await new Promise((r) => probe.close(r));
  return port;
}

beforeAll(async () => {
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  h = await createCloudHarness({ env: { ATTENDANCE_RP_ID: 'localhost', ATTENDANCE_ORIGINS: origin } });
  s = await studentHistory(h);
  const served = await serveConsole(h, port);
  srv = { ...served, base: origin };
});
afterAll(async () => {
  await srv?.close();
  await h?.close();
});

/** A virtual platform authenticator with user verification, as a phone's fingerprint unlock would be. */
async function virtualAuthenticator(context: BrowserContext, page: Page): Promise<() => Promise<void>> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
  });
  return async () => {
    await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
  };
}

const devicesOf = (studentId: string) => h.store.webauthn.credentialsOfStudent(studentId);
const rowTexts = (page: Page, caption: string) => page.getByRole('table', { name: caption }).locator('tbody tr').evaluateAll((rows) => rows.map((r) => [...r.children].map((c) => (c.textContent ?? '').trim())));

describe('my attendance', () => {
  it('shows my percentage per course and each session with its status and reasons', async () => {
    const { page, context, errors } = await openConsole(srv, s.student);
    await page.getByRole('heading', { level: 1, name: 'My attendance' }).waitFor();
    const lab = page.getByRole('region', { name: 'LAB1 Algorithms' });
    expect(await lab.locator('.student-percentage').textContent()).toBe('66.7 % attended: 2 of 3 sessions that count');
    expect(await lab.getByText('Below the minimum').isVisible()).toBe(true);
    expect(await lab.getByText('The course asks for at least 75 %.').isVisible()).toBe(true);
    const labRows = await rowTexts(page, 'Sessions of LAB1, newest first');
    expect(labRows.map((r) => r[1])).toEqual(['Excused', 'Absent', 'Late', 'Present']);
    expect(labRows[0]![2]).toContain('Your teacher set this to "Excused": doctor\'s note');
    expect(labRows[1]![2]).toBe('Your phone was counted in only 0 % of the session; at least 50 % was needed.');
    expect(labRows[2]![2]).toBe('Your phone was counted in 50 % of the session (at least 50 % needed).Your phone was first counted 2 minutes or more after the start.');
    expect(labRows[3]![2]).toBe('Your phone was counted in 100 % of the session (at least 50 % needed).');

    const bio = page.getByRole('region', { name: 'BIO1 Algorithms' });
    expect(await bio.locator('.student-percentage').textContent()).toBe('0 % attended: 0 of 1 sessions that count');
    const [bioRow] = await rowTexts(page, 'Sessions of BIO1, newest first');
    expect(bioRow![1]).toBe('Absent');
    expect(bioRow![2]).toContain("the room's gateway did not see your phone nearby (witnessed in 0 time windows)");
    expect(bioRow![2]).toContain('There was no confirmation with your enrolled device');
    // What the page shows is what the API holds.
    const api = await h.http().get('/api/v1/student/attendance').set(s.student.auth);
    expect(api.body.courses.find((c: { course_code: string }) => c.course_code === 'LAB1').percentage).toBe(66.67);
    await checkPage(page, 'student-attendance');

    await page.getByLabel('Language').selectOption('de');
    await page.getByRole('heading', { level: 1, name: 'Meine Anwesenheit' }).waitFor();
    expect(await page.getByRole('region', { name: 'LAB1 Algorithms' }).getByText('Unter dem Mindestwert').isVisible()).toBe(true);
    await checkPage(page, 'student-attendance-de');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('says so when there is nothing yet', async () => {
    const fresh = await h.user('student', 'fresh');
    const { page, context, errors } = await openConsole(srv, fresh);
    await page.getByText('No attendance records yet.', { exact: false }).waitFor();
    await checkPage(page, 'student-attendance-empty');
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('my devices', () => {
  it('enrols passkeys in the browser, refuses the same device twice, and revokes one after the dialog', async () => {
    const { page, context, errors } = await openConsole(srv, s.student);
    await go(page, 'student/devices');
    await page.getByRole('heading', { level: 1, name: 'My devices' }).waitFor();
    expect(await page.getByText('No device is enrolled yet.').isVisible()).toBe(true);
    await checkPage(page, 'student-devices-empty');

    // The first device: approved at once.
    const removeFirst = await virtualAuthenticator(context, page);
    await page.getByLabel('Name of the device (optional)').fill('My laptop');
    await page.getByRole('button', { name: 'Enrol a passkey' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'passkey' }).textContent(), SLOW).toBe('The passkey is enrolled and approved.');
    const caption = 'My enrolled devices, newest first';
    await expect.poll(() => rowTexts(page, caption), SLOW).toHaveLength(1);
    expect((await rowTexts(page, caption))[0]!.slice(0, 3)).toEqual(['My laptop', 'Approved', 'This device can confirm your attendance.']);
    let stored = await devicesOf(s.student.id);
    expect(stored.map((d) => [d.device_name, d.status, d.checkin_key])).toEqual([['My laptop', 'active', null]]);
    await removeFirst();

    // A second device (another authenticator): waits for a teacher's approval.
    await virtualAuthenticator(context, page);
    await page.getByLabel('Name of the device (optional)').fill('My phone');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'passkey' }).textContent(), SLOW).toBe("The passkey is enrolled. It waits for a teacher's approval before it counts.");
    await expect.poll(() => rowTexts(page, caption), SLOW).toHaveLength(2);
    expect((await rowTexts(page, caption)).map((r) => r.slice(0, 2))).toEqual([['My phone', 'Waiting for approval'], ['My laptop', 'Approved']]);
    stored = await devicesOf(s.student.id);
    expect(stored.map((d) => d.status)).toEqual(['active', 'pending']);
    await checkPage(page, 'student-devices-pending');

    // The same authenticator again: the browser refuses (excludeCredentials), nothing is stored.
    await page.getByRole('button', { name: 'Enrol a passkey' }).click();
    await expect.poll(() => page.getByRole('alert').filter({ hasText: 'already' }).textContent(), SLOW)
      .toBe('This device already holds a passkey for you or for a classmate. One device can be enrolled for one student only.');
    expect(await devicesOf(s.student.id)).toHaveLength(2);
    await checkPage(page, 'student-devices-error');

    // Revoke the phone: Escape leaves it as it is; the dialog's button revokes it.
    await page.getByRole('button', { name: 'Revoke My phone' }).click();
    const dialog = page.getByRole('dialog', { name: 'Revoke My phone?' });
    await dialog.waitFor();
    await checkPage(page, 'student-devices-dialog');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect((await devicesOf(s.student.id)).map((d) => d.status)).toEqual(['active', 'pending']);
    await page.getByRole('button', { name: 'Revoke My phone' }).focus();
    await page.keyboard.press('Enter');
    await dialog.getByRole('button', { name: 'Revoke the device' }).click();
    await expect.poll(async () => (await rowTexts(page, caption)).map((r) => r.slice(0, 2)), SLOW).toEqual([['My phone', 'Revoked'], ['My laptop', 'Approved']]);
    await expect.poll(() => page.locator('#status').textContent(), SLOW).toBe('My phone is revoked.');
    expect(await page.getByRole('button', { name: 'Revoke My phone' }).count()).toBe(0);
    stored = await devicesOf(s.student.id);
    expect(stored.map((d) => [d.device_name, d.status])).toEqual([['My laptop', 'active'], ['My phone', 'revoked']]);
    const audit = await h.store.db.selectFrom('audit_log').select(['actor_id', 'action']).where('target', '=', stored[1]!.id).orderBy('id').execute();
    expect(audit).toEqual([{ actor_id: s.student.id, action: 'biometric.enrol' }, { actor_id: s.student.id, action: 'biometric.revoke' }]);
    await checkPage(page, 'student-devices-revoked');
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('my data', () => {
  it('downloads everything kept about me as a JSON file', async () => {
    const { page, context, errors } = await openConsole(srv, s.student);
    await go(page, 'student/data');
    await page.getByRole('heading', { level: 1, name: 'My data' }).waitFor();
    await checkPage(page, 'student-data');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download my data' }).click()]);
    const file = `personal-data-${s.student.id}.json`;
    expect(download.suggestedFilename()).toBe(file);
    const data = JSON.parse(fs.readFileSync((await download.path())!, 'utf8'));
    expect(data.account).toMatchObject({ id: s.student.id, email: s.student.email });
    expect(data.attendance.map((r: { session_id: string }) => r.session_id).sort()).toEqual([...s.sessions].sort());
    expect(data.attendance.find((r: { session_id: string }) => r.session_id === s.sessions[3]).override).toMatchObject({ status: 'excused', reason: "doctor's note" });
    expect(data.enrolments.map((e: { course_code: string }) => e.course_code).sort()).toEqual(['BIO1', 'LAB1']);
    expect(JSON.stringify(data)).not.toContain(s.student.password);
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Downloaded' }).textContent(), SLOW).toBe(`Downloaded as ${file}.`);
    const exports = await h.store.db.selectFrom('audit_log').select(['actor_id']).where('action', '=', 'personal_data.export').where('target', '=', s.student.id).execute();
    expect(exports).toEqual([{ actor_id: s.student.id }]);
    await checkPage(page, 'student-data-downloaded');
    expect(errors).toEqual([]);
    await context.close();
  });
});

/**
 * The console's administration of accounts in Chromium, as an admin would use it: searching,
 * creating an account (it is mailed a link, and its owner chooses a password on the page the
 * link opens), changing a role, deactivating in the confirmation dialog, mailing a password reset,
 * and finding those actions again in the audit log with its filters. Each state is checked with
 * axe-core (WCAG 2.1 A/AA) at a desktop's and a phone's width, and each action against the store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';
import { checkPage, go, openConsole, serveConsole, type ConsoleServer } from '../helpers/console.js';
import { SLOW } from '../helpers/browser.js';
import { eventually } from '../helpers/eventually.js';
import { startTestSmtp, tokenOf, type TestSmtp } from '../helpers/smtp.js';

let h: CloudHarness;
let smtp: TestSmtp;
let srv: ConsoleServer;
let admin: Awaited<ReturnType<CloudHarness['user']>>;

beforeAll(async () => {
  smtp = await startTestSmtp();
  h = await createCloudHarness({ env: smtp.env });
  srv = await serveConsole(h);
  admin = await h.user('admin', 'Ada');
  for (const [email, full_name, role] of [['max.power@uni.example', 'Max Power', 'student'], ['maxine@uni.example', 'Maxine Teach', 'teacher'], ['zoe@uni.example', 'Zoe Quiet', 'student']] as const) {
    await h.store.accounts.create({ email, full_name, password: 'long-enough-pw', role }, h.clock());
  }
});
afterAll(async () => {
  await srv?.close();
  await h?.close();
  await smtp?.close();
});

/** What the page said it did: on the page, and in the live region screen readers hear. */
async function said(page: import('playwright-core').Page, text: string): Promise<void> {
  await expect.poll(() => page.locator('main .accounts-done').textContent(), SLOW).toBe(text);
  await expect.poll(() => page.locator('#status').textContent(), SLOW).toBe(text);
}

const mailTo = (email: string, subject: RegExp) => eventually(() => smtp.mails.find((m) => m.to.includes(email) && subject.test(m.subject)), 5000, `a mail to ${email}`);

describe('console: accounts and the audit log', () => {
  it('searches, creates, changes a role, deactivates, resets a password and finds it all in the audit log', async () => {
    const { page, context, errors } = await openConsole(srv, admin);
    page.setDefaultTimeout(10_000);
    await go(page, 'admin/accounts');
    await page.getByRole('heading', { level: 1, name: 'Accounts' }).waitFor();
    const table = page.getByRole('table', { name: 'Accounts' });
    await expect.poll(() => table.getByRole('rowheader').allTextContents(), SLOW).toEqual(expect.arrayContaining(['Ada', 'Max Power', 'Maxine Teach', 'Zoe Quiet']));
    expect(await page.locator('main').textContent()).not.toMatch(/null|undefined/);
    await checkPage(page, 'admin-accounts-list');

    // Search on the server: part of a name, any case.
    await page.getByLabel('Name or e-mail').fill('MAX');
    await page.getByLabel('Name or e-mail').press('Enter');
    await expect.poll(() => table.getByRole('rowheader').allTextContents(), SLOW).toEqual(['Max Power', 'Maxine Teach']);
    expect(await page.getByText('2 accounts match').isVisible()).toBe(true);
    await page.getByLabel('Role', { exact: true }).last().selectOption('teacher');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => table.getByRole('rowheader').allTextContents(), SLOW).toEqual(['Maxine Teach']);
    await checkPage(page, 'admin-accounts-search');
    await page.getByLabel('Name or e-mail').fill('nobody at all');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('No account matches.').waitFor();
    await checkPage(page, 'admin-accounts-none');

    // Create: a missing name is said in the alert, then the account is made and mailed a link.
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect.poll(() => page.locator('.accounts-create [role=alert]').textContent(), SLOW).toBe('Enter the name.');
    await checkPage(page, 'admin-accounts-form-error');
    const form = page.locator('.accounts-create');
    // An address that has an account already: the server's refusal is said in the alert.
    await form.getByLabel('Name').fill('Max Again');
    await form.getByLabel('E-mail').fill('MAX.POWER@uni.example');
    await form.getByRole('button', { name: 'Create account' }).click();
    await expect.poll(() => form.getByRole('alert').textContent(), SLOW).toBe('Failed: an account with this e-mail exists');
    expect(await h.store.accounts.findByEmail('max.power@uni.example')).toMatchObject({ full_name: 'Max Power' });
    expect(errors.splice(0)).toEqual([`409 ${srv.base}/api/v1/admin/users`]);
    await form.getByLabel('Name').fill('Nora New');
    await form.getByLabel('E-mail').fill('Nora.New@uni.example');
    await form.getByLabel('Role').selectOption('teacher');
    await form.getByRole('button', { name: 'Create account' }).click();
    await said(page, 'Account nora.new@uni.example created; a link to choose a password was mailed to it.');
    expect(await form.getByLabel('Name').inputValue()).toBe('');
    const nora = (await h.store.accounts.findByEmail('nora.new@uni.example'))!;
    expect(nora).toMatchObject({ full_name: 'Nora New', role: 'teacher', deactivated_at: null });
    await mailTo('nora.new@uni.example', /Choose a password/);
    await checkPage(page, 'admin-accounts-created');

    // Show everyone again; the new account is in the table.
    await go(page, 'admin/accounts');
    const noraRow = table.getByRole('row', { name: /Nora New/ });
    await noraRow.waitFor();

    // Change the role: the table and the store show the new one.
    await page.getByLabel('Role of Nora New').selectOption('student');
    await page.getByRole('button', { name: 'Change role for Nora New' }).click();
    await said(page, 'Nora New is now student; they log in again to act with the new role.');
    await expect.poll(() => noraRow.getByRole('cell').nth(1).textContent(), SLOW).toBe('student');
    expect((await h.store.accounts.get(nora.id))!.role).toBe('student');

    // Deactivate: the dialog first; Escape keeps the account, the dialog's button deactivates it.
    await page.getByRole('button', { name: 'Deactivate Nora New' }).click();
    const dialog = page.getByRole('dialog', { name: 'Deactivate Nora New?' });
    await dialog.waitFor();
    expect(await dialog.getByRole('button', { name: 'Cancel' }).evaluate((b) => b === b.ownerDocument.activeElement)).toBe(true);
    await checkPage(page, 'admin-accounts-dialog');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect((await h.store.accounts.get(nora.id))!.deactivated_at).toBeNull();
    await page.getByRole('button', { name: 'Deactivate Nora New' }).click();
    await dialog.getByRole('button', { name: 'Deactivate' }).click();
    await said(page, 'Nora New was deactivated.');
    await expect.poll(() => noraRow.getByRole('cell').nth(2).textContent(), SLOW).toBe('Deactivated');
    expect(await page.getByRole('button', { name: 'Reactivate Nora New' }).isVisible()).toBe(true);
    expect((await h.store.accounts.get(nora.id))!.deactivated_at).toBe(h.clock());
    await checkPage(page, 'admin-accounts-deactivated');

    // Reset Max's password: a link goes to his address; he chooses the new password with it.
    await page.getByRole('button', { name: 'Reset password for Max Power' }).click();
    await said(page, 'A link to choose a new password was mailed to max.power@uni.example.');
    const mail = await mailTo('max.power@uni.example', /Choose a password/);
    expect(errors).toEqual([]);
    await context.close();

    const max = await openConsole(srv);
    max.page.setDefaultTimeout(10_000);
    await max.page.goto(`${srv.base}/console/reset-password.html#token=${tokenOf(mail)}`);
    await max.page.getByRole('heading', { level: 1, name: 'Choose a password' }).waitFor();
    expect(max.page.url()).not.toContain('token');
    await max.page.getByLabel('New password', { exact: true }).fill('max-chose-this-one');
    await max.page.getByLabel('New password again').fill('max-chose-another');
    await max.page.getByRole('button', { name: 'Set password' }).click();
    await expect.poll(() => max.page.getByRole('alert').textContent(), SLOW).toBe('The two passwords differ.');
    await checkPage(max.page, 'reset-password-mismatch');
    await max.page.getByLabel('New password again').fill('max-chose-this-one');
    await max.page.getByRole('button', { name: 'Set password' }).click();
    await expect.poll(() => max.page.locator('main .reset-done').textContent(), SLOW).toBe('Your password is set. You can log in now.');
    expect(await max.page.getByLabel('New password', { exact: true }).isVisible()).toBe(false);
    await checkPage(max.page, 'reset-password-done');
    expect(max.errors).toEqual([]);
    // The link works once: opened again, it is refused with what to do.
    await max.page.goto(`${srv.base}/console/reset-password.html#token=${tokenOf(mail)}`);
    await max.page.waitForURL((u) => !u.hash);
    await max.page.getByLabel('New password', { exact: true }).fill('max-tries-again-now');
    await max.page.getByLabel('New password again').fill('max-tries-again-now');
    await max.page.getByRole('button', { name: 'Set password' }).click();
    await expect.poll(() => max.page.getByRole('alert').textContent(), SLOW).toBe('Failed: This link is unknown, already used or expired. Ask your administrator for a new one.');
    await checkPage(max.page, 'reset-password-used');
    expect(max.errors.splice(0)).toEqual([`400 ${srv.base}/api/v1/auth/password-reset`]);
    await max.context.close();
    expect((await h.http().post('/api/v1/auth/token').send({ email: 'max.power@uni.example', password: 'max-chose-this-one' })).status).toBe(200);
    expect((await h.http().post('/api/v1/auth/token').send({ email: 'max.power@uni.example', password: 'long-enough-pw' })).status).toBe(401);

    // The audit log: everything above, then narrowed to the deactivation and to one target.
    const audit = await openConsole(srv, admin);
    await go(audit.page, 'admin/audit');
    await audit.page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
    const log = audit.page.getByRole('table', { name: 'Audit log entries, newest first' });
    const actions = () => log.locator('tbody tr td:nth-child(3)').allTextContents();
    expect(await actions()).toEqual(['account.password_reset', 'user.password_reset', 'user.deactivate', 'user.role_change', 'user.create']);
    expect(await log.getByRole('row', { name: /user\.role_change/ }).getByRole('listitem').allTextContents()).toEqual(['from: teacher', 'to: student']);
    expect(await log.getByRole('row', { name: /user\.deactivate/ }).getByRole('cell').first().textContent()).toBe(`Ada (${admin.email})`);
    expect(await audit.page.locator('main').textContent()).not.toMatch(/null|undefined|\[object/);
    await checkPage(audit.page, 'admin-audit-all');

    await audit.page.getByLabel('Action').selectOption('user.deactivate');
    await audit.page.getByRole('button', { name: 'Show' }).click();
    await expect.poll(actions, SLOW).toEqual(['user.deactivate']);
    expect(await log.locator('tbody .audit-target').textContent()).toBe(nora.id);
    expect(audit.page.url()).toContain('action=user.deactivate');
    await checkPage(audit.page, 'admin-audit-filtered');

    await audit.page.getByLabel('Action').selectOption('');
    await audit.page.getByLabel('Target id').fill(nora.id);
    await audit.page.getByLabel('Actor (e-mail or id)').fill(admin.email);
    await audit.page.getByRole('button', { name: 'Show' }).click();
    await expect.poll(actions, SLOW).toEqual(['user.deactivate', 'user.role_change', 'user.create']);

    // A date range that ends before it starts is refused on the page.
    await audit.page.getByLabel('From (date)').fill('2026-09-08');
    await audit.page.getByLabel('To (date, inclusive)').fill('2026-09-01');
    await audit.page.getByRole('button', { name: 'Show' }).click();
    await expect.poll(() => audit.page.getByRole('alert').textContent(), SLOW).toBe('The end date is before the start date.');
    await checkPage(audit.page, 'admin-audit-range-error');
    // The day of the actions (read in the institution's time zone) keeps them; the day before has none.
    await audit.page.getByLabel('From (date)').fill('2026-09-07');
    await audit.page.getByLabel('To (date, inclusive)').fill('2026-09-07');
    await audit.page.getByRole('button', { name: 'Show' }).click();
    await expect.poll(actions, SLOW).toEqual(['user.deactivate', 'user.role_change', 'user.create']);
    await audit.page.getByLabel('From (date)').fill('2026-09-06');
    await audit.page.getByLabel('To (date, inclusive)').fill('2026-09-06');
    await audit.page.getByRole('button', { name: 'Show' }).click();
    await audit.page.getByText('No entry matches.').waitFor();
    expect(audit.page.url()).toContain('from=2026-09-06');
    await audit.page.getByRole('button', { name: 'Clear filters' }).click();
    await expect.poll(actions, SLOW).toHaveLength(5);
    expect(audit.errors).toEqual([]);

    // An actor no account has: the server's answer is said in the alert and beside the field.
    await audit.page.getByLabel('Actor (e-mail or id)').fill('nobody@uni.example');
    await audit.page.getByRole('button', { name: 'Show' }).click();
    await expect.poll(() => audit.page.getByRole('alert').first().textContent(), SLOW).toMatch(/^Failed: no account has this e-mail/);
    expect(await audit.page.getByLabel('Actor (e-mail or id)').getAttribute('aria-invalid')).toBe('true');
    expect(await audit.page.getByLabel('Actor (e-mail or id)').inputValue()).toBe('nobody@uni.example');
    await checkPage(audit.page, 'admin-audit-unknown-actor');
    expect(audit.errors.splice(0)).toEqual([expect.stringMatching(/^400 .*\/api\/v1\/admin\/audit\?/)]);
    await audit.context.close();
    // One person's whole round of work: longer than the default on a busy machine.
  }, 90_000);

  it('shows the pages and the dialog in German, and refuses the audit log to a teacher', async () => {
    const { page, context, errors } = await openConsole(srv, admin);
    page.setDefaultTimeout(10_000);
    await go(page, 'admin/accounts');
    await page.getByLabel('Language').selectOption('de');
    await page.getByRole('heading', { level: 1, name: 'Konten' }).waitFor();
    await page.getByRole('button', { name: 'Deaktivieren (Zoe Quiet)' }).click();
    const dialog = page.getByRole('dialog', { name: 'Zoe Quiet deaktivieren?' });
    await dialog.waitFor();
    await checkPage(page, 'admin-accounts-dialog-de');
    await dialog.getByRole('button', { name: 'Abbrechen' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect(await page.getByRole('button', { name: 'Deaktivieren (Zoe Quiet)' }).evaluate((b) => b === b.ownerDocument.activeElement)).toBe(true);
    await go(page, 'admin/audit');
    await page.getByRole('heading', { level: 1, name: 'Prüfprotokoll' }).waitFor();
    await checkPage(page, 'admin-audit-de');
    expect(errors).toEqual([]);
    await context.close();

    const teacher = await h.user('teacher', 'tess');
    const t = await openConsole(srv, teacher);
    await go(t.page, 'admin/audit');
    expect(await t.page.getByRole('alert').textContent()).toBe('This page is not available to your account.');
    await t.context.close();
  });

  it('pages through accounts and through the audit log, by keyboard', async () => {
    // 25 students made by an admin through the API: 25 more accounts and 25 audit entries.
    const made: string[] = [];
    for (let i = 0; i < 25; i++) {
      const email = `pager${String(i).padStart(2, '0')}@uni.example`;
      const r = await h.http().post('/api/v1/admin/users').set(admin.auth).send({ email, full_name: `Pager ${i}`, role: 'student', password: 'long-enough-pw' });
      expect(r.status).toBe(201);
      made.push(r.body.id);
    }
    const { page, context, errors } = await openConsole(srv, admin);
    page.setDefaultTimeout(10_000);
    await go(page, 'admin/accounts?q=pager');
    const table = page.getByRole('table', { name: 'Accounts' });
    await expect.poll(() => table.getByRole('rowheader').count(), SLOW).toBe(20);
    expect(await page.getByText('Page 1 of 2').isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: 'Previous page' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Next page' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => table.getByRole('rowheader').allTextContents(), SLOW).toEqual(['Pager 20', 'Pager 21', 'Pager 22', 'Pager 23', 'Pager 24']);
    expect(await page.getByText('Page 2 of 2').isVisible()).toBe(true);
    expect(page.url()).toContain('q=pager');
    await checkPage(page, 'admin-accounts-page-2');

    // 60 more entries, written as the routes write them, so the log has more than one page.
    for (let i = 0; i < 60; i++) await h.store.audit.record({ at: h.clock(), actorId: admin.id, action: 'user.create', target: `bulk-${i}`, details: { role: 'student' } });
    await go(page, 'admin/audit?action=user.create');
    const log = page.getByRole('table', { name: 'Audit log entries, newest first' });
    const targets = () => log.locator('tbody .audit-target').allTextContents();
    await expect.poll(async () => (await targets()).length, SLOW).toBe(50);
    const first = await targets();
    expect(first.slice(0, 3)).toEqual(['bulk-59', 'bulk-58', 'bulk-57']);
    expect(await page.getByRole('button', { name: 'Newer entries' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Older entries' }).click();
    // The page renders anew (a moment with no table at all): wait for the next page's rows.
    await expect.poll(async () => { const now = await targets(); return now.length > 0 && now[0] !== first[0]; }, SLOW).toBe(true);
    const second = await targets();
    expect(second.filter((id) => first.includes(id))).toEqual([]);
    // The second page holds the 25 made through the API, newest first.
    expect(second.filter((id) => made.includes(id))).toEqual([...made].reverse());
    await checkPage(page, 'admin-audit-page-2');
    await page.getByRole('button', { name: 'Newer entries' }).click();
    await expect.poll(targets, SLOW).toEqual(first);
    expect(errors).toEqual([]);
    await context.close();
  });
});

/**
 * The teacher's absence-warnings page in Chromium: a course where one student missed the last
 * two sessions; the teacher opens the page (nothing set, nobody warned), types a threshold out of
 * range and is told so, then saves valid thresholds. The warning job runs against a real SMTP
 * server: the student's warning arrives once (also after a second run), and the page lists the
 * student with when they were warned. Each state passes axe-core at desktop and phone width.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';
import { setupCourse, type CourseFixture, type TestUser } from '../helpers/fixtures.js';
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.js';
import { checkPage, go, openConsole, serveConsole, type ConsoleServer } from '../helpers/console.js';
import { SLOW } from '../helpers/browser.js';
import { heldSessions, smtpMailer, warningJob } from '../cloud/absence-warnings-fixture.js';
import type { Mailer } from '../../cloud/mail/transport.js';

let h: CloudHarness;
let smtp: TestSmtp;
let srv: ConsoleServer;
let f: CourseFixture;
let mailer: Mailer;

beforeAll(async () => {
  smtp = await startTestSmtp();
  h = await createCloudHarness();
  f = await setupCourse(h, { students: 2, policy: { require_biometric: false } });
  const [ada, ben] = f.students as [TestUser, TestUser];
  await heldSessions(h, f, [[ada, 'PAA'], [ben, 'PPP']]);
  mailer = smtpMailer(smtp);
  srv = await serveConsole(h);
}, 60_000);
afterAll(async () => {
  await srv?.close();
  await mailer?.close();
  await h?.close();
  await smtp?.close();
});

describe('absence warnings in the console', () => {
  it('sets the thresholds (a bad value refused first), and lists the student the job warned once', async () => {
    const [ada, ben] = f.students as [TestUser, TestUser];
    const { page, context, errors } = await openConsole(srv, f.teacher);
    page.setDefaultTimeout(SLOW.timeout);

    await page.getByRole('link', { name: 'Absence warnings' }).click();
    await page.getByRole('heading', { level: 1, name: 'Absence warnings' }).waitFor();
    await page.locator('main [aria-busy="true"]').waitFor({ state: 'detached' });
    await page.getByText('No student is warned at the moment.').waitFor();
    expect(await page.getByText('No thresholds set yet: nobody is warned.').isVisible()).toBe(true);
    expect(await page.getByLabel('Warn below this attendance (%)').inputValue()).toBe('');
    await checkPage(page, 'warnings-empty');

    // Out of range: said in words next to the form, the field marked and focused, nothing saved.
    const percent = page.getByLabel('Warn below this attendance (%)');
    const inARow = page.getByLabel('Warn after this many absences in a row');
    await percent.fill('150');
    await inARow.fill('2');
    await page.getByRole('button', { name: 'Save' }).click();
    expect(await page.getByRole('alert').textContent()).toBe('The attendance threshold must be a whole number from 1 to 100, or empty.');
    expect(await percent.getAttribute('aria-invalid')).toBe('true');
    expect(await percent.getAttribute('aria-describedby')).toContain(await page.getByRole('alert').getAttribute('id'));
    expect(await page.evaluate('document.activeElement.name')).toBe('min_percent');
    expect(await h.store.absenceWarnings.getSettings(f.courseId)).toBeUndefined();
    await checkPage(page, 'warnings-form-error');

    // Corrected by keyboard and saved with Enter.
    await percent.fill('60');
    await percent.press('Enter');
    await page.getByRole('status').filter({ hasText: 'The thresholds of CS101 are saved.' }).first().waitFor();
    expect(await page.getByRole('alert').textContent()).toBe('');
    expect(await percent.getAttribute('aria-invalid')).toBeNull();
    expect(await h.store.absenceWarnings.getSettings(f.courseId)).toMatchObject({ min_percent: 60, max_consecutive: 2, updated_by: f.teacher.id });
    await checkPage(page, 'warnings-saved');

    // The job: Ada (1 of 3, the last two missed) is warned once; Ben is not.
    const job = warningJob(h, mailer);
    expect(await job.runOnce()).toMatchObject({ crossed: 2, studentMails: 1, digests: 1 });
    expect(await job.runOnce()).toMatchObject({ crossed: 0, studentMails: 0, digests: 0 });
    await job.stop();
    expect(smtp.mails.filter((m) => m.to.includes(ada.email))).toHaveLength(1);
    expect(smtp.mails.filter((m) => m.to.includes(ben.email))).toHaveLength(0);
    expect(smtp.mails.filter((m) => m.to.includes(f.teacher.email))).toHaveLength(1);

    await go(page, `teacher/warnings?course=${f.courseId}&shown=1`);
    const warned = page.getByRole('table', { name: 'Students currently warned in CS101' });
    await warned.waitFor();
    const rows = warned.locator('tbody tr');
    expect(await rows.count()).toBe(2);
    const text = await warned.textContent();
    expect(text).toContain(ada.email);
    expect(text).not.toContain(ben.email);
    expect(text).toContain('Attendance 33.3 %, below 60 %');
    expect(text).toContain('2 absences in a row');
    expect(text).not.toContain('not sent yet');
    expect(await rows.first().getByRole('rowheader').textContent()).toContain('studenta');
    await checkPage(page, 'warnings-listed');

    // The same page in German.
    await page.getByLabel('Language').selectOption('de');
    await page.getByRole('heading', { level: 1, name: 'Fehlzeiten-Warnungen' }).waitFor();
    const gewarnt = page.getByRole('table', { name: 'Zurzeit gewarnte Studierende in CS101' });
    await gewarnt.waitFor();
    expect(await gewarnt.textContent()).toContain('2 Fehltermine in Folge');
    await checkPage(page, 'warnings-listed-de');

    expect(errors).toEqual([]);
    await context.close();
  });
});

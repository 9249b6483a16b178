/**
 * The console's courses pages in Chromium, used as an administrator would: a term and a course
 * created, the course's policy set (a refused value corrected), a CSV roster uploaded with one
 * good row, one unknown address and one malformed row (the per-row report), a weekly slot added,
 * edited and deleted, a student removed after a confirmation, and a OneRoster bundle imported
 * (dry run, then for real; a file that is no bundle is refused). After each step the test reads
 * back what the API holds; every state passes axe-core and fits a phone's width.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';
import { checkPage, go, openConsole, serveConsole, type ConsoleServer } from '../helpers/console.js';
import { SLOW } from '../helpers/browser.js';
import { generateBundle, zipBundle } from '../helpers/oneroster-bundle.js';

let h: CloudHarness;
let srv: ConsoleServer;
let dir: string;

beforeAll(async () => {
  h = await createCloudHarness();
  srv = await serveConsole(h);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'console-courses-'));
});
afterAll(async () => {
  await srv?.close();
  await h?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function file(name: string, text: string | Buffer): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}

/** The page's errors with the server's address left out. */
const ownErrors = (errors: string[]) => errors.map((e) => e.replace(srv.base, ''));
const cells = (row: import('playwright-core').Locator) => row.locator('th, td').allTextContents();

describe('courses page', () => {
  it('creates a course, sets its policy, enrols a roster, keeps a timetable and removes a student', async () => {
    const admin = await h.user('admin', 'ada');
    const teacher = await h.user('teacher', 'Tom');
    const student = await h.user('student', 'Sam');
    const room = await h.http().post('/api/v1/admin/rooms').set(admin.auth).send({ name: 'Lecture hall A' }).expect(201);
    const api = (p: string) => h.http().get(p).set(admin.auth).expect(200).then((r) => r.body);
    const { page, context, errors } = await openConsole(srv, admin);
    page.setDefaultTimeout(10_000);
    await go(page, 'admin/courses');
    await page.getByText('No courses yet.').waitFor();
    await checkPage(page, 'admin-courses-empty');

    // A term, then the course in it.
    await page.getByLabel('Term name').fill('Autumn 2026');
    await page.getByLabel('First day').fill('2026-09-01');
    await page.getByLabel('Last day').fill('2027-01-31');
    await page.getByRole('button', { name: 'Create term' }).click();
    await expect.poll(() => page.locator('#status').textContent(), SLOW).toBe('Term Autumn 2026 created; it is chosen in the new course form.');
    const [term] = (await api('/api/v1/admin/terms')).items;
    expect(term).toMatchObject({ name: 'Autumn 2026', starts_on: '2026-09-01', ends_on: '2027-01-31' });
    expect(await page.getByLabel('Term', { exact: true }).inputValue()).toBe(term.id);

    // Without a teacher the course is refused, the reason beside the teacher's field.
    await page.getByLabel('Code').fill('CS101');
    await page.getByLabel('Name', { exact: true }).fill('Introduction to Computing');
    await page.getByRole('button', { name: 'Create course' }).click();
    const createAlert = page.locator('#courses-new-h ~ form [role="alert"]');
    await expect.poll(() => createAlert.textContent(), SLOW).toMatch(/^Failed: invalid request body — Teacher: /);
    expect(await page.getByLabel('Teacher').getAttribute('aria-invalid')).toBe('true');
    expect((await api('/api/v1/admin/courses')).items).toEqual([]);
    await checkPage(page, 'admin-courses-create-error');
    await page.getByLabel('Teacher').selectOption({ label: `Tom (${teacher.email})` });
    await page.getByRole('button', { name: 'Create course' }).click();
    const listRow = page.getByRole('row', { name: /CS101/ });
    await listRow.waitFor();
    expect(await cells(listRow)).toEqual(['CS101', 'Introduction to Computing', 'Tom', 'Autumn 2026']);
    const [course] = (await api('/api/v1/admin/courses')).items;
    expect(course).toMatchObject({ code: 'CS101', name: 'Introduction to Computing', teacher_id: teacher.id, term_id: term.id });
    await checkPage(page, 'admin-courses-list');

    // The course's own page.
    await page.getByRole('link', { name: 'CS101' }).click();
    await page.getByRole('heading', { level: 1, name: 'Course CS101: Introduction to Computing' }).waitFor();
    await page.getByText('No weekly slots yet.').waitFor();
    expect(await page.title()).toBe('Course CS101: Introduction to Computing — Attendance');
    await checkPage(page, 'admin-courses-course');

    // Policy: a refused value is shown beside its field, nothing changes; corrected, it is saved.
    const presence = page.getByLabel('Minimum presence (0 to 1)');
    await presence.fill('1.5');
    await page.getByLabel('Late after (minutes)').fill('15');
    await page.getByLabel('Proof of proximity').selectOption({ label: 'Always required' });
    await page.getByLabel('Require a biometric check').uncheck();
    await page.getByRole('button', { name: 'Save policy' }).click();
    const policyAlert = page.locator('form.courses-policy [role="alert"]');
    await expect.poll(() => policyAlert.textContent(), SLOW).toMatch(/^Failed: invalid request body — Minimum presence \(0 to 1\): .*1/);
    expect(await presence.getAttribute('aria-invalid')).toBe('true');
    const presenceError = page.locator('.field-error').filter({ hasText: /1/ }).first();
    expect(await presenceError.getAttribute('id')).toBe((await presence.getAttribute('aria-describedby'))!.split(' ').pop());
    expect((await api(`/api/v1/admin/courses/${course.id}`)).policy).toMatchObject({ min_presence: 0.75, late_after_min: 10, require_proximity: null, require_biometric: true });
    await checkPage(page, 'admin-courses-policy-error');
    await presence.fill('0.8');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await expect.poll(() => page.locator('form.courses-policy [role="status"]').textContent(), SLOW).toBe('Policy saved.');
    expect(await policyAlert.textContent()).toBe('');
    expect(await presence.getAttribute('aria-invalid')).toBeNull();
    expect((await api(`/api/v1/admin/courses/${course.id}`)).policy).toEqual({
      min_presence: 0.8, late_after_min: 15, require_biometric: false, require_device_bound: false, min_attendance_percent: 75, grace_s: 60, require_proximity: true,
    });
    await checkPage(page, 'admin-courses-policy-saved');

    // Roster: one good row, one unknown address, one malformed row.
    await page.getByLabel('Roster file (CSV)').setInputFiles(file('roster.csv', `email\n${student.email}\nghost@uni.example\nnot an address\n`));
    await page.getByRole('button', { name: 'Upload roster' }).click();
    const report = page.getByRole('table', { name: 'Each row of the file and what happened to it' });
    await report.waitFor();
    expect(await page.locator('.courses-summary').textContent()).toBe('1 enrolled, 0 already enrolled, 2 not enrolled.');
    const reportRows = await report.locator('tbody tr').all();
    expect(await Promise.all(reportRows.map(cells))).toEqual([
      ['2', student.email, 'Enrolled', ''],
      ['3', 'ghost@uni.example', 'Not enrolled', 'No account has this address.'],
      ['4', 'not an address', 'Not enrolled', 'Not an e-mail address.'],
    ]);
    const enrolled = page.getByRole('table', { name: 'Students enrolled in CS101' });
    await expect.poll(() => enrolled.locator('tbody tr').count(), SLOW).toBe(1);
    expect((await api(`/api/v1/admin/courses/${course.id}/enrollments`)).items).toEqual([{ id: student.id, email: student.email, full_name: 'Sam' }]);
    await checkPage(page, 'admin-courses-roster-report');

    // Timetable: a slot whose end is before its start is refused beside the end; then added, edited, deleted.
    await page.getByLabel('Day', { exact: true }).selectOption({ label: 'Tuesday' });
    await page.getByLabel('Start', { exact: true }).fill('09:00');
    await page.getByLabel('End', { exact: true }).fill('08:30');
    await page.getByLabel('Room', { exact: true }).selectOption({ label: 'Lecture hall A' });
    await page.getByRole('button', { name: 'Add slot' }).click();
    await expect.poll(() => page.locator('form.courses-slot [role="alert"]').textContent(), SLOW).toContain('End: end must be after start.');
    expect(await page.getByLabel('End', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    await checkPage(page, 'admin-courses-slot-error');
    await page.getByLabel('End', { exact: true }).fill('10:30');
    await page.getByRole('button', { name: 'Add slot' }).click();
    const slots = page.getByRole('table', { name: 'Weekly slots of CS101' });
    await slots.waitFor();
    expect(await cells(slots.locator('tbody tr').first())).toEqual(['Tuesday', '09:00', '10:30', 'Lecture hall A', 'Edit Tuesday 09:00Delete Tuesday 09:00']);
    let timetable = (await api(`/api/v1/admin/courses/${course.id}/timetable`)).items;
    expect(timetable).toMatchObject([{ weekday: 2, start: '09:00', end: '10:30', room_id: room.body.id }]);
    await checkPage(page, 'admin-courses-timetable');

    await page.getByRole('button', { name: 'Edit Tuesday 09:00' }).click();
    await expect.poll(() => page.evaluate('document.activeElement.name'), SLOW).toBe('weekday');
    await page.getByLabel('Day', { exact: true }).selectOption({ label: 'Thursday' });
    await page.getByLabel('End', { exact: true }).fill('11:00');
    await page.getByRole('button', { name: 'Save slot' }).click();
    await expect.poll(() => page.locator('#status').textContent(), SLOW).toBe('Slot changed: Thursday, 09:00–11:00.');
    const slotId = timetable[0].id;
    timetable = (await api(`/api/v1/admin/courses/${course.id}/timetable`)).items;
    expect(timetable).toMatchObject([{ id: slotId, weekday: 4, start: '09:00', end: '11:00', room_id: room.body.id }]);
    expect(await cells(slots.locator('tbody tr').first())).toEqual(['Thursday', '09:00', '11:00', 'Lecture hall A', 'Edit Thursday 09:00Delete Thursday 09:00']);

    await page.getByRole('button', { name: 'Delete Thursday 09:00' }).click();
    const slotDialog = page.getByRole('dialog', { name: 'Delete this slot?' });
    await slotDialog.waitFor();
    await page.keyboard.press('Escape');
    await slotDialog.waitFor({ state: 'detached' });
    expect((await api(`/api/v1/admin/courses/${course.id}/timetable`)).items).toHaveLength(1);
    await page.getByRole('button', { name: 'Delete Thursday 09:00' }).click();
    await slotDialog.getByRole('button', { name: 'Delete slot' }).click();
    await page.getByText('No weekly slots yet.').waitFor();
    expect((await api(`/api/v1/admin/courses/${course.id}/timetable`)).items).toEqual([]);

    // Removing a student asks first, in a dialog reachable by keyboard.
    await page.getByRole('button', { name: 'Remove Sam' }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Remove this student from the course?' });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain(`Sam (${student.email}) will no longer be enrolled in CS101.`);
    await checkPage(page, 'admin-courses-remove-dialog');
    await dialog.getByRole('button', { name: 'Remove from course' }).click();
    await page.getByText('No students are enrolled yet.').waitFor();
    expect(await page.evaluate('document.activeElement.id')).toBe('course-roster-h');
    await expect.poll(() => page.locator('#status').textContent(), SLOW).toBe('Sam was removed from the course.');
    expect((await api(`/api/v1/admin/courses/${course.id}/enrollments`)).items).toEqual([]);
    await checkPage(page, 'admin-courses-removed');

    // The only failed answers are the three refusals the test provoked; no console error, no CSP violation.
    expect(ownErrors(errors)).toEqual([
      '400 /api/v1/admin/courses',
      `400 /api/v1/admin/courses/${course.id}/policy`,
      `400 /api/v1/admin/courses/${course.id}/timetable`,
    ]);
    await context.close();
  }, 90_000);

  it('imports a OneRoster bundle: a dry run writes nothing, the import writes it, a file that is no bundle is refused', async () => {
    const admin = await h.user('admin', 'olga');
    const bundle = file('sis.zip', zipBundle(generateBundle({ students: 3, teachers: 1, classes: 2, classesPerStudent: 1 })));
    const { page, context, errors } = await openConsole(srv, admin);
    page.setDefaultTimeout(10_000);
    await go(page, 'admin/courses');
    const codes = async () => (await h.http().get('/api/v1/admin/courses').set(admin.auth).expect(200)).body.items.map((c: { code: string }) => c.code).sort();
    const before = await codes();

    await page.getByLabel('Bundle (zip file)').setInputFiles(bundle);
    await page.getByLabel('Check only (dry run: write nothing)').check();
    await page.getByRole('button', { name: 'Import bundle' }).click();
    const kinds = page.getByRole('table', { name: 'Changes by kind of record' });
    await kinds.waitFor();
    expect(await page.locator('.courses-report .courses-summary').textContent()).toMatch(/^Dry run, nothing written: \d+ would be created/);
    expect(await cells(kinds.getByRole('row', { name: /^Courses/ }))).toEqual(['Courses', '2', '0', '0', '0']);
    expect(await codes()).toEqual(before);
    await checkPage(page, 'admin-courses-import-dry');

    await page.getByLabel('Check only (dry run: write nothing)').uncheck();
    await page.getByRole('button', { name: 'Import bundle' }).click();
    await expect.poll(() => page.locator('.courses-report .courses-summary').textContent(), SLOW).toMatch(/^Imported: \d+ created/);
    expect(await cells(kinds.getByRole('row', { name: /^Enrolments/ }))).toEqual(['Enrolments', '3', '0', '0', '0']);
    expect(await codes()).toEqual([...before, 'C0-A', 'C1-A'].sort());
    await page.getByRole('link', { name: 'C1-A' }).waitFor();
    expect(await cells(page.getByRole('table', { name: 'Files of the bundle' }).getByRole('row', { name: /^users\.csv/ }))).toEqual(['users.csv', 'bulk (the whole set)', '4']);
    await checkPage(page, 'admin-courses-imported');

    await page.getByLabel('Bundle (zip file)').setInputFiles(file('notes.zip', 'this is not a zip file'));
    await page.getByRole('button', { name: 'Import bundle' }).click();
    await expect.poll(() => page.locator('#courses-import-h ~ form [role="alert"]').textContent(), SLOW).toMatch(/^Failed: /);
    expect(await page.locator('.courses-report').textContent()).toBe('');
    await checkPage(page, 'admin-courses-import-refused');
    // The refusal the test provoked, and nothing else.
    expect(ownErrors(errors)).toEqual(['400 /api/v1/admin/imports/oneroster']);
    await context.close();
  }, 60_000);

  it('speaks German on the list and on a course', async () => {
    const admin = await h.user('admin', 'greta');
    const teacher = await h.user('teacher', 'Jens');
    const course = await h.http().post('/api/v1/admin/courses').set(admin.auth).send({ code: 'DE1', name: 'Deutsch', teacher_id: teacher.id }).expect(201);
    const { page, context, errors } = await openConsole(srv, admin);
    await page.getByLabel('Language').selectOption('de');
    await go(page, 'admin/courses');
    await page.getByRole('heading', { level: 1, name: 'Kurse' }).waitFor();
    await page.getByRole('button', { name: 'Kurs anlegen' }).waitFor();
    await checkPage(page, 'admin-courses-de');
    await go(page, `admin/courses?id=${course.body.id}`);
    await page.getByRole('heading', { level: 1, name: 'Kurs DE1: Deutsch' }).waitFor();
    expect(await page.getByLabel('Nachweis der Anwesenheit im Raum').inputValue()).toBe('room');
    await page.getByText('0 Studierende eingeschrieben.').waitFor(); // the roster is read after the heading
    await checkPage(page, 'admin-courses-course-de');
    expect(ownErrors(errors)).toEqual([]);
    await context.close();
  }, 30_000);
});

/**
 * The teacher's past sessions and students pages in Chromium, on the analytics term
 * (test/cloud/analytics-fixture.ts): the teacher opens a past session, excuses an absent student
 * with a reason in the dialog (a missing reason is refused first), sees the change marked with
 * who and why, finds who is below the minimum, opens that student's history and sees the
 * excused session there. Each state passes axe-core; the database holds the override and its audit entry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAnalyticsWorld, type AnalyticsWorld } from '../cloud/analytics-fixture.js';
import { checkPage, go, openConsole, serveConsole, type ConsoleServer } from '../helpers/console.js';
import { SLOW } from '../helpers/browser.js';

let world: AnalyticsWorld;
let srv: ConsoleServer;

beforeAll(async () => {
  world = await buildAnalyticsWorld();
  srv = await serveConsole(world.h);
}, 60_000);
afterAll(async () => {
  await srv?.close();
  await world?.h.close();
});

describe('teacher records in the console', () => {
  it('excuses an absent student on a past session, then finds the student below the minimum and the excused session in the history', async () => {
    const { page, context, errors } = await openConsole(srv, world.teacher);
    page.setDefaultTimeout(SLOW.timeout);
    const { dan } = world.student;

    // The course's sessions, newest first, with their counts.
    await page.getByRole('link', { name: 'Past sessions' }).click();
    await page.getByRole('heading', { level: 1, name: 'Past sessions' }).waitFor();
    const sessions = page.getByRole('table', { name: 'Sessions of CS101, newest first' });
    await sessions.waitFor();
    // S1…S5: four ended and the live one; Berlin time.
    expect(await sessions.locator('tbody tr').count()).toBe(5);
    const s1Row = sessions.getByRole('row').filter({ hasText: 'Sep 7, 2026' });
    expect(await s1Row.textContent()).toContain('ended');
    expect(await s1Row.getByRole('rowheader').textContent()).toContain('10:00');
    await checkPage(page, 'teacher-records-sessions');

    // One session: Dan never checked in.
    await s1Row.getByRole('link').click();
    await page.getByRole('heading', { level: 1, name: /^CS101: session of/ }).waitFor();
    const roster = page.getByRole('table', { name: 'Attendance of every enrolled student' });
    const danRow = roster.getByRole('row').filter({ hasText: 'Dan' });
    expect(await danRow.textContent()).toContain('absent');
    expect(await danRow.textContent()).toContain('Counted in only 0 % of the session (too little).');
    expect(await roster.getByRole('row').filter({ hasText: 'Cem' }).textContent()).toContain('Arrived late.');
    await checkPage(page, 'teacher-records-session');

    // Escape closes the dialog without a change, the focus back on the button that opened it.
    const adaButton = roster.getByRole('button', { name: 'Change status: Ada' });
    await adaButton.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'Change the status of Ada' }).waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'hidden' });
    expect(await page.evaluate('document.activeElement.dataset.student')).toBe(world.student.ada.id);

    // The dialog refuses a missing reason, then saves.
    await danRow.getByRole('button', { name: 'Change status: Dan' }).click();
    const dialog = page.getByRole('dialog', { name: 'Change the status of Dan' });
    await dialog.waitFor();
    expect(await dialog.getByLabel('New status').inputValue()).toBe('excused');
    await dialog.getByRole('button', { name: 'Save the change' }).click();
    expect(await dialog.getByRole('alert').textContent()).toBe('Give a reason of at least 3 characters.');
    expect(await page.evaluate('document.activeElement.name')).toBe('reason');
    await checkPage(page, 'teacher-records-dialog-error');
    await page.keyboard.type('Sick note from the doctor');
    await page.keyboard.press('Enter'); // a new line in the reason, not a submit
    await page.keyboard.press('Shift+Tab'); // back to the status, which stays "excused"
    await dialog.getByRole('button', { name: 'Save the change' }).press('Enter');
    await dialog.waitFor({ state: 'hidden' });
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Dan is now excused.' }).count(), SLOW).toBe(1);
    const changed = roster.getByRole('row').filter({ hasText: 'Dan' });
    expect(await changed.textContent()).toContain('set by hand');
    expect(await changed.textContent()).toContain('The rules decided: absent.');
    expect(await changed.textContent()).toMatch(/Set to excused by Grace on .*: “Sick note from the doctor”/);
    expect(await page.evaluate('document.activeElement.dataset.student')).toBe(dan.id);
    await checkPage(page, 'teacher-records-session-excused');

    // What the server now holds: the override by the teacher and its audit entry.
    const row = await world.h.store.db.selectFrom('attendance').selectAll().where('session_id', '=', world.sessions.s1).where('student_id', '=', dan.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'absent', override_status: 'excused', override_reason: 'Sick note from the doctor', override_by: world.teacher.id });
    const audit = await world.h.store.db.selectFrom('audit_log').selectAll().where('action', '=', 'attendance.override').where('target', '=', `${world.sessions.s1}/${dan.id}`).execute();
    expect(audit).toHaveLength(1);
    expect(await world.h.store.db.selectFrom('attendance').select('override_status').where('session_id', '=', world.sessions.s1).where('student_id', '=', world.student.ada.id).executeTakeFirstOrThrow()).toEqual({ override_status: null });

    // The students: Dan is below the minimum, said in words, and first.
    await page.getByRole('link', { name: 'Students', exact: true }).click();
    const students = page.getByRole('table', { name: /^Attendance in CS101, / });
    await students.waitFor();
    expect(await page.getByText('1 of 5 students are below the minimum of 75 %. Sessions held: 4.').count()).toBe(1);
    const first = students.locator('tbody tr').first();
    expect(await first.getByRole('rowheader').textContent()).toBe('Dan');
    expect(await first.textContent()).toContain('below minimum');
    expect(await first.textContent()).toContain('0 %');
    await checkPage(page, 'teacher-records-students');
    await page.getByLabel('Only students below the minimum').check();
    await page.getByRole('button', { name: 'Show' }).click();
    await expect.poll(() => page.getByRole('table', { name: /^Attendance in CS101/ }).locator('tbody tr').count(), SLOW).toBe(1);
    expect(page.url()).toContain('below=1');

    // Dan's history: the excused session with who and why; the totals leave it out.
    await page.getByRole('link', { name: 'History of Dan' }).click();
    await page.getByRole('heading', { level: 1, name: 'Dan in CS101' }).waitFor();
    const historyTable = page.getByRole('table', { name: 'Every ended session of CS101, newest first' });
    expect(await historyTable.locator('tbody tr').count()).toBe(4);
    const excused = historyTable.getByRole('row').filter({ hasText: 'Sep 7, 2026' });
    expect(await excused.textContent()).toContain('excused');
    expect(await excused.textContent()).toContain('Sick note from the doctor');
    expect(await page.getByText('Attendance over these sessions: 0 %').count()).toBe(1);
    expect(await page.locator('dl.facts').textContent()).toMatch(/Absent3.*Excused1/);
    await checkPage(page, 'teacher-records-history');

    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);

  it('shows a course without sessions or students as empty, in German too', async () => {
    const { page, context, errors } = await openConsole(srv, world.teacher);
    await go(page, `teacher/sessions?course=${world.noTermCourseId}`);
    expect(await page.getByText('This course has had no sessions yet.').count()).toBe(1);
    await checkPage(page, 'teacher-records-sessions-empty');
    await go(page, `teacher/students?course=${world.noTermCourseId}`);
    // No term: the month is chosen instead.
    expect(await page.getByLabel('Period').inputValue()).toBe('month');
    expect(await page.getByText('No students are enrolled in this course.').count()).toBe(1);
    await checkPage(page, 'teacher-records-students-empty');
    await page.getByLabel('Language').selectOption('de');
    await page.getByRole('heading', { level: 1, name: 'Studierende' }).waitFor();
    await go(page, `teacher/students?course=${world.courseId}&student=${world.student.ben.id}`);
    const row = page.getByRole('table', { name: 'Alle beendeten Sitzungen von CS101, die neueste zuerst' }).getByRole('row').filter({ hasText: 'entschuldigt' });
    expect(await row.textContent()).toContain("Auf entschuldigt gesetzt von Grace am");
    await checkPage(page, 'teacher-records-history-de');
    expect(errors).toEqual([]);
    await context.close();
  });

  it("answers another teacher's student history with the page's error, not someone else's records", async () => {
    const { page, context, errors } = await openConsole(srv, world.otherTeacher, { failedResponses: false });
    await go(page, `teacher/students?course=${world.courseId}&student=${world.student.dan.id}`);
    expect(await page.getByRole('alert').textContent()).toBe('This page could not be shown: course not found');
    expect(await page.locator('main').getByText('Dan', { exact: true }).count()).toBe(0);
    expect(errors.filter((e) => !e.includes('/history'))).toEqual([]);
    await context.close();
  });
});

/**
 * The teacher's session page in Chromium, used as a teacher would: the course's room preselected
 * from the timetable, a start without a room refused in the form, the start with the honest
 * "no gateway confirmation", phones appearing in the live roster as students submit tokens (no
 * reload), the running session picked up after a reload, the end confirmed in a dialog (Escape
 * keeps it running). Then with a room gateway on MQTT: its confirmation of the start and the end,
 * and the check-ins it witnessed with their relay flags in words.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';
import { checkPage, openConsole, serveConsole, type ConsoleServer } from '../helpers/console.js';
import { SLOW } from '../helpers/browser.js';
import { frameAt, setupCourse, slotAround, type CourseFixture, type TestUser } from '../helpers/fixtures.js';
import { parseCommand } from '../../shared/mqtt/messages.js';
import { windowIndex } from '../../shared/token.js';
import { connectGateway, connectOutcome, envelope, eventually, gatewayRow, provision, startBrokerHarness, type BrokerHarness } from '../cloud/broker-harness.js';
import { checkinData, enrolCheckinPhone } from '../cloud/checkin-fixture.js';
import type { Page } from 'playwright-core';

const PERIOD = 300;

const rowOf = (page: Page, who: TestUser) => page.locator('main tbody tr').filter({ hasText: who.email });
const statusOf = (page: Page, who: TestUser) => rowOf(page, who).locator('.status-chip').textContent();

describe('without a gateway link', () => {
  let h: CloudHarness;
  let srv: ConsoleServer;
  let f: CourseFixture;
  beforeAll(async () => {
    h = await createCloudHarness();
    srv = await serveConsole(h);
    f = await setupCourse(h, { students: 3, code: 'TS1', policy: { require_biometric: false, require_proximity: false, min_presence: 0.5, late_after_min: 3 } });
    await h.http().post('/api/v1/admin/rooms').set(f.admin.auth).send({ name: 'Room TS1-annex' });
    await slotAround(h, f, h.clock());
  });
  afterAll(async () => {
    await srv?.close();
    await h?.close();
  });

  it('tells a teacher without courses so', async () => {
    const newcomer = await h.user('teacher', 'newcomer');
    const { page, context, errors } = await openConsole(srv, newcomer);
    await page.getByText('You do not teach any course yet.').waitFor();
    await checkPage(page, 'teacher-session-no-courses');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('starts a session, fills the live roster as students submit, picks it up after a reload and ends it after confirming', async () => {
    const [ann, ben, cat] = f.students as [TestUser, TestUser, TestUser];
    const { page, context, errors } = await openConsole(srv, f.teacher);
    await page.getByRole('heading', { level: 1, name: 'Session' }).waitFor();
    // The room of the slot running now is preselected; the rooms say whether they have a gateway.
    const room = page.getByLabel('Room');
    await expect.poll(() => room.inputValue(), SLOW).toBe(f.roomId);
    expect(await room.locator('option:checked').textContent()).toBe('Room TS1 — no gateway');
    expect(await page.getByText('From the timetable: now').textContent()).toBe('From the timetable: now, Monday 07:00–09:00 in Room TS1.');
    expect(await page.getByLabel('Course').locator('option:checked').textContent()).toBe('TS1 — Algorithms');
    await checkPage(page, 'teacher-session-start');

    // No room: the form says so and starts nothing.
    await room.selectOption({ label: 'Choose a room' });
    await page.getByRole('button', { name: 'Start session' }).click();
    expect(await page.getByRole('alert').first().textContent()).toBe('Choose the room the class is in.');
    expect(await room.getAttribute('aria-invalid')).toBe('true');
    await checkPage(page, 'teacher-session-form-error');
    expect(await h.store.sessions.liveOfCourse(f.courseId)).toEqual([]);

    await room.selectOption({ label: 'Room TS1 — no gateway' });
    await page.getByRole('button', { name: 'Start session' }).press('Enter');
    await page.getByRole('heading', { name: 'Live session of TS1 — Algorithms' }).waitFor();
    const [live] = await h.store.sessions.liveOfCourse(f.courseId);
    expect(live).toMatchObject({ room_id: f.roomId, period_s: PERIOD, source: 'cloud' });
    expect(await page.locator('.ts-gateway').textContent()).toBe('No gateway confirmation: this server is not connected to any gateways.');
    await expect.poll(() => page.getByText('Updating live as students check in.').count(), SLOW).toBe(1);
    await expect.poll(() => page.locator('main tbody tr').count(), SLOW).toBe(3);
    for (const s of f.students) expect(await statusOf(page, s)).toBe('absent so far');
    await checkPage(page, 'teacher-session-live-empty');

    // Students submit the room's tokens as their phones do; the page is never reloaded.
    await page.evaluate('window.notReloaded = true');
    const submit = async (s: TestUser) => {
      const res = await h.http().post('/api/v1/student/token/submit').set(s.auth).send({ frame: frameAt(f, live!.id, PERIOD, h.clock()) });
      expect(res.body.status, JSON.stringify(res.body)).toBe('accepted');
    };
    await submit(ann);
    await expect.poll(() => statusOf(page, ann), SLOW).toBe('present');
    expect(await rowOf(page, ann).locator('td').nth(1).textContent()).toBe('1 of 1');
    const checkedIn = page.locator('.ts-counts div').filter({ hasText: 'Checked in' }).locator('dd');
    expect(await checkedIn.textContent()).toBe('1');
    // Ben's first token is of the second window: late (the course counts 3 minutes on as late).
    h.clock.advance(PERIOD * 1000);
    await submit(ben);
    await expect.poll(() => statusOf(page, ben), SLOW).toBe('late');
    await expect.poll(() => checkedIn.textContent(), SLOW).toBe('2');
    expect(await page.locator('.ts-counts div').filter({ hasText: 'Late' }).locator('dd').textContent()).toBe('1');
    expect(await statusOf(page, cat)).toBe('absent so far');
    expect(await rowOf(page, ben).locator('td').nth(1).textContent()).toBe('1 of 2');
    expect(await page.evaluate('window.notReloaded')).toBe(true);
    await checkPage(page, 'teacher-session-live-rows');

    // A reload finds the running session again.
    await page.reload();
    await page.getByRole('heading', { name: 'Live session of TS1 — Algorithms' }).waitFor();
    await expect.poll(() => checkedIn.textContent(), SLOW).toBe('2');
    expect(await page.locator('.ts-gateway').textContent()).toBe('No gateway confirmation: this server is not connected to any gateways.');

    // Ending asks first; Escape keeps the session running.
    const end = page.getByRole('button', { name: 'End session' });
    await end.click();
    const dialog = page.getByRole('dialog', { name: 'End this session?' });
    await dialog.waitFor();
    expect(await dialog.locator('p').first().textContent()).toBe('Attendance is then decided for all 3 enrolled students; 1 of them have not checked in.');
    await checkPage(page, 'teacher-session-end-dialog');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await page.evaluate('document.activeElement.textContent')).toBe('End session');
    expect((await h.store.sessions.get(live!.id))?.state).toBe('live');

    h.clock.advance(60_000);
    await end.click();
    await page.getByRole('button', { name: 'Yes, end the session' }).click();
    await page.getByRole('heading', { name: 'Session of TS1 — Algorithms ended' }).waitFor();
    expect(await page.locator('.ts-gateway').textContent()).toBe('No gateway confirmation: this server is not connected to any gateways.');
    await expect.poll(() => statusOf(page, cat), SLOW).toBe('absent');
    expect(await statusOf(page, ann)).toBe('present');
    expect(await statusOf(page, ben)).toBe('late');
    expect(await page.locator('caption').textContent()).toBe('Every enrolled student, final status');
    expect((await h.store.sessions.get(live!.id))?.state).toBe('ended');
    const records = await h.http().get(`/api/v1/teacher/session/${live!.id}/attendance`).set(f.teacher.auth);
    expect(Object.fromEntries(records.body.items.map((i: { full_name: string; status: string; provisional: boolean }) => [i.full_name, [i.status, i.provisional]])))
      .toEqual({ studenta: ['present', false], studentb: ['late', false], studentc: ['absent', false] });
    await checkPage(page, 'teacher-session-ended');

    // Another session can be started from here.
    await page.getByRole('button', { name: 'Start another session' }).click();
    await page.getByRole('button', { name: 'Start session' }).click();
    await page.getByRole('heading', { name: 'Live session of TS1 — Algorithms' }).waitFor();
    // Ended elsewhere (another window) while the dialog is open: the page shows the end without a reload.
    const [second] = await h.store.sessions.liveOfCourse(f.courseId);
    await page.getByRole('button', { name: 'End session' }).click();
    expect((await h.http().post(`/api/v1/teacher/session/${second!.id}/end`).set(f.teacher.auth)).status).toBe(200);
    await page.getByRole('heading', { name: 'Session of TS1 — Algorithms ended' }).waitFor(SLOW);
    expect(await page.getByRole('dialog').count()).toBe(0);
    await expect.poll(() => page.locator('#status').textContent(), SLOW).toBe("The session was ended elsewhere (by the room's gateway or in another window).");
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('with the room gateway on MQTT', () => {
  let b: BrokerHarness;
  let srv: ConsoleServer;
  let f: CourseFixture;
  let client: MqttClient;
  let topics: Awaited<ReturnType<typeof provision>>['topics'];
  let answerDelayMs = 0;
  beforeAll(async () => {
    b = await startBrokerHarness({ ackTimeoutMs: 300 });
    srv = await serveConsole(b.h);
    f = await setupCourse(b.h, { students: 3, code: 'TS2', policy: { require_biometric: false } });
    const g = await provision(b, f);
    topics = g.topics;
    client = connectGateway(b, g);
    expect(await connectOutcome(client)).toBe('connected');
    // The gateway confirms every command, as gateway/ does, after `answerDelayMs`.
    client.on('message', (_t, payload) => {
      const parsed = parseCommand(payload);
      if (!parsed.ok) return;
      setTimeout(() => client.publish(g.topics.events, envelope('command.result', { command_id: parsed.value.id, ok: true }), { qos: 1 }), answerDelayMs);
    });
    await client.subscribeAsync(g.topics.cmd, { qos: 1 });
    await client.publishAsync(g.topics.status, JSON.stringify({ state: 'online', at: new Date().toISOString(), version: 't', checkin: true }), { qos: 1, retain: true });
    await eventually(async () => (await gatewayRow(b, g.gatewayId)).checkin_service === 1, 5000, 'the gateway online with its check-in service');
  });
  afterAll(async () => {
    await client?.publishAsync(topics.status, '', { qos: 1, retain: true });
    client?.end(true);
    await srv?.close();
    await b?.close();
  });

  it("shows the gateway's confirmation of start and end, and the witnessed check-ins with their relay flags in words", async () => {
    const [ann, ben, cat] = f.students as [TestUser, TestUser, TestUser];
    const phones = [await enrolCheckinPhone(b.h, ann), await enrolCheckinPhone(b.h, ben), await enrolCheckinPhone(b.h, cat)];
    const { page, context, errors } = await openConsole(srv, f.teacher);
    const room = page.getByLabel('Room');
    await room.selectOption({ label: 'Room TS2 — gateway online' });
    // The gateway answers the start only after the cloud stopped waiting: the page says it waits, then that it confirmed.
    answerDelayMs = 1200;
    await page.getByRole('button', { name: 'Start session' }).click();
    await page.getByRole('heading', { name: 'Live session of TS2 — Algorithms' }).waitFor();
    expect(await page.locator('.ts-gateway').textContent()).toBe("Waiting: the room's gateway is online but has not confirmed the start yet.");
    await checkPage(page, 'teacher-session-gateway-waiting');
    await expect.poll(() => page.locator('.ts-gateway').textContent(), SLOW).toBe("Confirmed: the room's gateway has started the session.");
    answerDelayMs = 0;
    const [live] = await b.h.store.sessions.liveOfCourse(f.courseId);
    const w = windowIndex(b.h.clock(), live!.period_s);

    // Ann's and Ben's check-ins come over the same link (one phone for two students), Cat's slowly.
    const checkin = (i: number, o: { peer: string; latencyMs: number }) =>
      client.publishAsync(topics.events, envelope('checkin.received', checkinData(f, live!.id, w, phones[i]!, o)), { qos: 1 });
    await checkin(0, { peer: 'aa:bb:cc:dd:ee:01', latencyMs: 150 });
    await checkin(1, { peer: 'aa:bb:cc:dd:ee:01', latencyMs: 160 });
    await checkin(2, { peer: 'aa:bb:cc:dd:ee:03', latencyMs: 2600 });
    await expect.poll(() => rowOf(page, cat).locator('td').nth(2).textContent(), SLOW).toBe('1');
    await expect.poll(() => rowOf(page, ann).locator('.ts-flag').allTextContents(), SLOW)
      .toEqual(['Check: checked in over the same phone connection as studentb; one device may be checking in for several students.']);
    expect(await rowOf(page, ben).locator('.ts-flag').allTextContents())
      .toEqual(['Check: checked in over the same phone connection as studenta; one device may be checking in for several students.']);
    expect(await rowOf(page, cat).locator('.ts-flag').allTextContents())
      .toEqual(['Check: answered slowly in 1 window(s) (up to 2,600 ms; a phone in the room answers within 1,500 ms); the check-in may have been relayed from elsewhere.']);
    expect(await statusOf(page, cat)).toBe('present');
    await checkPage(page, 'teacher-session-live-gateway');

    await page.getByRole('button', { name: 'End session' }).click();
    await page.getByRole('button', { name: 'Yes, end the session' }).click();
    await page.getByRole('heading', { name: 'Session of TS2 — Algorithms ended' }).waitFor();
    // Answered at once, but on a busy machine possibly after the cloud's short wait: then the page asks again.
    await expect.poll(() => page.locator('.ts-gateway').textContent(), SLOW).toBe("Confirmed: the room's gateway has ended the session.");
    const cmd = await b.h.store.commands.forSession(live!.id, 'session.end');
    expect(cmd?.state).toBe('confirmed');
    await checkPage(page, 'teacher-session-ended-gateway');
    expect(errors).toEqual([]);
    await context.close();
  });
});

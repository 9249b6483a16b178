/**
 * Presence under `require_proximity` (docs/api.md, "Proof of proximity"), over real MQTT: in a room
 * with a gateway only the windows the gateway witnessed count, so a student whose phone checked in
 * is present, while the forwarding attack — every frame submitted over HTTP, the phone never in
 * the room — ends absent with `not_witnessed`. The submit answer, the teacher's list and the
 * student's own records show the witnessed windows; a course that turns the policy off, or a room
 * without a gateway, counts submitted windows as before.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { windowIndex, windowStartMs } from '../../shared/token.js';
import { connectGateway, connectOutcome, envelope, eventually, gatewayRow, provision, setupCourse, startBrokerHarness, type BrokerHarness, type ProvisionedGateway } from './broker-harness.js';
import { frameAt, type CourseFixture, type TestUser } from '../helpers/fixtures.js';
import { checkinData, enrolCheckinPhone, type CheckinPhone } from './checkin-fixture.js';

const PERIOD = 60;
const WINDOWS = 4;
let b: BrokerHarness;
let f: CourseFixture;
let g: ProvisionedGateway;
let client: MqttClient;
let phones: CheckinPhone[];

beforeAll(async () => {
  b = await startBrokerHarness({ ackTimeoutMs: 200 });
  f = await setupCourse(b.h, { students: 3, code: 'CKA1', policy: { require_biometric: false } });
  g = await provision(b, f);
  client = connectGateway(b, g);
  expect(await connectOutcome(client)).toBe('connected');
  // The room's gateway says it serves the GATT check-in: that is what makes the default require it.
  await client.publishAsync(g.topics.status, JSON.stringify({ state: 'online', at: new Date().toISOString(), version: 't', checkin: true }), { qos: 1, retain: true });
  await eventually(async () => (await gatewayRow(b, g.gatewayId)).checkin_service === 1, 5000, 'the check-in service on record');
  phones = [];
  for (const s of f.students) phones.push(await enrolCheckinPhone(b.h, s));
});
afterAll(async () => {
  client.end(true);
  await b.close();
});

async function startAtWindow(fx: CourseFixture): Promise<{ sessionId: string; w0: number }> {
  const w0 = windowIndex(b.h.clock(), PERIOD) + 1;
  b.h.clock.set(windowStartMs(w0, PERIOD));
  const res = await b.h.http().post('/api/v1/teacher/session/start').set(fx.teacher.auth).send({ course_id: fx.courseId, room_id: fx.roomId, period_s: PERIOD });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { sessionId: res.body.session_id, w0 };
}

function submit(fx: CourseFixture, student: TestUser, sessionId: string) {
  return b.h.http().post('/api/v1/student/token/submit').set(student.auth).send({ frame: frameAt(fx, sessionId, PERIOD, b.h.clock()) });
}

async function end(fx: CourseFixture, sessionId: string) {
  const res = await b.h.http().post(`/api/v1/teacher/session/${sessionId}/end`).set(fx.teacher.auth).send({});
  expect(res.status).toBe(200);
  const list = await b.h.http().get(`/api/v1/teacher/session/${sessionId}/attendance`).set(fx.teacher.auth);
  expect(list.status).toBe(200);
  return new Map<string, { status: string; witnessed_windows: number; windows_seen: number; reasons: string[] }>(list.body.items.map((i: { student_id: string }) => [i.student_id, i]));
}

describe('in a room with a gateway (require_proximity follows the room)', () => {
  it('counts witnessed windows only: the checked-in phone is present, the forwarded frames end absent with not_witnessed', async () => {
    const [alice, bob, carol] = f.students as [TestUser, TestUser, TestUser];
    const { sessionId, w0 } = await startAtWindow(f);
    const answers: Array<{ who: string; witnessed: boolean; status: string }> = [];
    for (let i = 0; i < WINDOWS; i++) {
      b.h.clock.set(windowStartMs(w0 + i, PERIOD) + 5_000);
      // Alice's phone is in the room: it checks in with the gateway and has no internet.
      await client.publishAsync(g.topics.events, envelope('checkin.received', checkinData(f, sessionId, w0 + i, phones[0]!)), { qos: 1 });
      // Carol checks in and also submits over HTTP.
      await client.publishAsync(g.topics.events, envelope('checkin.received', checkinData(f, sessionId, w0 + i, phones[2]!)), { qos: 1 });
      const c = await submit(f, carol, sessionId);
      answers.push({ who: 'carol', witnessed: c.body.witnessed, status: c.body.status });
      // Bob is at home: a friend forwards every frame, which his phone submits in time.
      const r = await submit(f, bob, sessionId);
      answers.push({ who: 'bob', witnessed: r.body.witnessed, status: r.body.status });
    }
    expect(answers.filter((a) => a.who === 'bob')).toEqual(Array(WINDOWS).fill({ who: 'bob', witnessed: false, status: 'accepted' }));
    expect(answers.filter((a) => a.who === 'carol')).toEqual(Array(WINDOWS).fill({ who: 'carol', witnessed: true, status: 'accepted' }));

    b.h.clock.set(windowStartMs(w0 + WINDOWS, PERIOD) - 1000);
    const live = await b.h.http().get(`/api/v1/teacher/session/${sessionId}/attendance`).set(f.teacher.auth);
    expect(live.body.items.find((i: { student_id: string }) => i.student_id === bob.id)).toMatchObject({ status: 'absent', provisional: true, witnessed_windows: 0 });

    const records = await end(f, sessionId);
    expect(records.get(alice.id)).toMatchObject({ status: 'present', witnessed_windows: WINDOWS, windows_seen: WINDOWS, reasons: ['presence_ok'] });
    expect(records.get(carol.id)).toMatchObject({ status: 'present', witnessed_windows: WINDOWS, windows_seen: WINDOWS });
    expect(records.get(bob.id)).toMatchObject({ status: 'absent', witnessed_windows: 0, windows_seen: 0, reasons: ['presence_low', 'not_witnessed'] });

    // The submissions were recorded all the same.
    expect(await b.h.store.db.selectFrom('submissions').select('w').where('session_id', '=', sessionId).where('student_id', '=', bob.id).execute()).toHaveLength(WINDOWS);

    const own = await b.h.http().get('/api/v1/student/attendance').set(bob.auth);
    expect(own.body.items[0]).toMatchObject({ session_id: sessionId, status: 'absent', witnessed_windows: 0, reasons: ['presence_low', 'not_witnessed'] });
    const alices = await b.h.http().get('/api/v1/student/attendance').set(alice.auth);
    expect(alices.body.items[0]).toMatchObject({ session_id: sessionId, status: 'present', witnessed_windows: WINDOWS });

    // The course's session report says how many of the class the room witnessed.
    const report = await b.h.http().get(`/api/v1/teacher/analytics/session_counts?course_id=${f.courseId}`).set(f.teacher.auth);
    expect(report.status, JSON.stringify(report.body)).toBe(200);
    expect(report.body.items.find((i: { session_id: string }) => i.session_id === sessionId)).toMatchObject({ enrolled: f.students.length, present: 2, witnessed: 2 });
  });

  it('a course that turns require_proximity off counts submitted windows; null gives the room its default back', async () => {
    const bob = f.students[1]!;
    const off = await b.h.http().put(`/api/v1/admin/courses/${f.courseId}/policy`).set(f.admin.auth).send({ require_proximity: false });
    expect([off.status, off.body.policy.require_proximity]).toEqual([200, false]);
    const { sessionId, w0 } = await startAtWindow(f);
    for (let i = 0; i < WINDOWS; i++) {
      b.h.clock.set(windowStartMs(w0 + i, PERIOD) + 5_000);
      expect((await submit(f, bob, sessionId)).body).toMatchObject({ status: 'accepted', witnessed: false });
    }
    b.h.clock.set(windowStartMs(w0 + WINDOWS, PERIOD) - 1000);
    expect((await end(f, sessionId)).get(bob.id)).toMatchObject({ status: 'present', witnessed_windows: 0, reasons: ['presence_ok'] });

    const back = await b.h.http().put(`/api/v1/admin/courses/${f.courseId}/policy`).set(f.admin.auth).send({ require_proximity: null });
    expect([back.status, back.body.policy.require_proximity]).toEqual([200, null]);
  });
});

describe("in a room whose gateway does not serve the check-in (an older gateway's status)", () => {
  it('the default (null) counts submitted windows, since nobody could be witnessed there', async () => {
    const bob = f.students[1]!;
    await client.publishAsync(g.topics.status, JSON.stringify({ state: 'online', at: new Date().toISOString(), version: 'old' }), { qos: 1, retain: true });
    await eventually(async () => (await gatewayRow(b, g.gatewayId)).checkin_service === 0, 5000, 'no check-in service on record');
    try {
      const { sessionId, w0 } = await startAtWindow(f);
      for (let i = 0; i < WINDOWS; i++) {
        b.h.clock.set(windowStartMs(w0 + i, PERIOD) + 5_000);
        expect((await submit(f, bob, sessionId)).body).toMatchObject({ status: 'accepted' });
      }
      b.h.clock.set(windowStartMs(w0 + WINDOWS, PERIOD) - 1000);
      expect((await end(f, sessionId)).get(bob.id)).toMatchObject({ status: 'present', witnessed_windows: 0, reasons: ['presence_ok'] });
    } finally {
      await client.publishAsync(g.topics.status, JSON.stringify({ state: 'online', at: new Date().toISOString(), version: 't', checkin: true }), { qos: 1, retain: true });
      await eventually(async () => (await gatewayRow(b, g.gatewayId)).checkin_service === 1, 5000, 'the check-in service on record again');
    }
  });
});

describe('a check-in delivered after the session ended', () => {
  it("re-decides that student's stored record (the gateway's outbox drained late)", async () => {
    const alice = f.students[0]!;
    const { sessionId, w0 } = await startAtWindow(f);
    const late: string[] = [];
    for (let i = 0; i < WINDOWS; i++) {
      b.h.clock.set(windowStartMs(w0 + i, PERIOD) + 5_000);
      const data = checkinData(f, sessionId, w0 + i, phones[0]!);
      // The last two are still in the gateway's outbox when the teacher ends the session.
      if (i < WINDOWS - 2) await client.publishAsync(g.topics.events, envelope('checkin.received', data), { qos: 1 });
      else late.push(envelope('checkin.received', data));
    }
    b.h.clock.set(windowStartMs(w0 + WINDOWS, PERIOD) - 1000);
    expect((await end(f, sessionId)).get(alice.id)).toMatchObject({ status: 'absent', witnessed_windows: 2 });
    b.h.clock.advance(30_000);
    for (const e of late) await client.publishAsync(g.topics.events, e, { qos: 1 });
    const list = await b.h.http().get(`/api/v1/teacher/session/${sessionId}/attendance`).set(f.teacher.auth);
    expect(list.body.items.find((i: { student_id: string }) => i.student_id === alice.id)).toMatchObject({ status: 'present', witnessed_windows: WINDOWS, provisional: false });
  });
});

describe('in a room without a gateway', () => {
  it('the default (null) counts submitted windows; require_proximity on makes them not count', async () => {
    const fx = await setupCourse(b.h, { students: 1, code: 'CKA2', policy: { require_biometric: false } });
    const [dan] = fx.students as [TestUser];
    expect((await b.h.http().get(`/api/v1/admin/courses/${fx.courseId}`).set(fx.admin.auth)).body.policy.require_proximity).toBeNull();
    for (const [policy, expected] of [[null, { status: 'present', reasons: ['presence_ok'] }], [true, { status: 'absent', reasons: ['presence_low', 'not_witnessed'] }]] as const) {
      await b.h.http().put(`/api/v1/admin/courses/${fx.courseId}/policy`).set(fx.admin.auth).send({ require_proximity: policy });
      const { sessionId, w0 } = await startAtWindow(fx);
      for (let i = 0; i < WINDOWS; i++) {
        b.h.clock.set(windowStartMs(w0 + i, PERIOD) + 5_000);
        expect((await submit(fx, dan, sessionId)).status).toBe(200);
      }
      b.h.clock.set(windowStartMs(w0 + WINDOWS, PERIOD) - 1000);
      expect((await end(fx, sessionId)).get(dan.id)).toMatchObject(expected);
    }
  });
});

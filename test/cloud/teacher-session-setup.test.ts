/**
 * What the console's session page reads before and after it starts a session: the rooms with the
 * state of their gateway, the course's timetable with the slot now or next, and the gateway's
 * confirmation of the start or end read again later (without MQTT, with a gateway that answers,
 * with one that is offline, and in a room without one).
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudHarness, type CloudHarness } from '../helpers/cloud.js';
import { setupCourse, type CourseFixture } from '../helpers/fixtures.js';
import { parseCommand } from '../../shared/mqtt/messages.js';
import { suggestedSlot } from '../../cloud/http/routes/teacher-sessions.js';
import type { CourseSlot } from '../../cloud/store/schema.js';
import { connectGateway, connectOutcome, envelope, eventually, gatewayRow, provision, startBrokerHarness, type BrokerHarness } from './broker-harness.js';

let h: CloudHarness;
let f: CourseFixture;
beforeAll(async () => {
  h = await createCloudHarness(); // 2026-09-07 08:00 UTC, a Monday
  f = await setupCourse(h, { students: 1, code: 'TSS1' });
});
afterAll(async () => {
  await h?.close();
});

describe('GET /api/v1/teacher/rooms', () => {
  it("lists every room with its gateway's state, for teachers and admins only", async () => {
    const before = await h.http().get('/api/v1/teacher/rooms').set(f.teacher.auth);
    expect(before.status).toBe(200);
    expect(before.body.items).toContainEqual({ id: f.roomId, name: 'Room TSS1', gateway: null });
    const admin = await h.http().get('/api/v1/teacher/rooms').set(f.admin.auth);
    expect(admin.body.items).toEqual(before.body.items);
    expect(JSON.stringify(admin.body)).not.toMatch(/secret|code/);
    expect((await h.http().get('/api/v1/teacher/rooms').set(f.students[0]!.auth)).status).toBe(403);
    expect((await h.http().get('/api/v1/teacher/rooms')).status).toBe(401);
  });
});

describe('GET /api/v1/teacher/courses/:id/timetable', () => {
  it('gives the slots with their room and the one running now, else the next one', async () => {
    const empty = await h.http().get(`/api/v1/teacher/courses/${f.courseId}/timetable`).set(f.teacher.auth);
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual({ timezone: 'UTC', items: [], suggested: null });

    const other = await h.http().post('/api/v1/admin/rooms').set(f.admin.auth).send({ name: 'Room TSS1-B' });
    const put = await h.http().put(`/api/v1/admin/courses/${f.courseId}/timetable`).set(f.admin.auth).send({
      slots: [{ weekday: 1, start: '07:30', end: '09:00', room_id: f.roomId }, { weekday: 2, start: '10:00', end: '11:30', room_id: other.body.id, period_s: 30 }],
    });
    expect(put.status).toBe(200);
    const [monday, tuesday] = put.body.items as Array<{ id: string }>;

    const now = await h.http().get(`/api/v1/teacher/courses/${f.courseId}/timetable`).set(f.teacher.auth);
    expect(now.body.items).toEqual([
      { id: monday!.id, weekday: 1, start: '07:30', end: '09:00', room_id: f.roomId, room_name: 'Room TSS1', period_s: null },
      { id: tuesday!.id, weekday: 2, start: '10:00', end: '11:30', room_id: other.body.id, room_name: 'Room TSS1-B', period_s: 30 },
    ]);
    expect(now.body.suggested).toEqual({ slot_id: monday!.id, when: 'now' });

    h.clock.set(Date.UTC(2026, 8, 7, 9, 0)); // Monday 09:00: the slot has just ended
    const next = await h.http().get(`/api/v1/teacher/courses/${f.courseId}/timetable`).set(f.teacher.auth);
    expect(next.body.suggested).toEqual({ slot_id: tuesday!.id, when: 'next' });
    h.clock.set(Date.UTC(2026, 8, 7, 8, 0));
  });

  it("reads the wall clock of the institution's time zone and looks a week ahead", () => {
    const slot = { id: 's', course_id: 'c', room_id: 'r', weekday: 1, start_time: '09:30', end_time: '10:00', period_s: null, created_at: 0 } satisfies CourseSlot;
    const friday = { ...slot, id: 'f', weekday: 5 };
    // Tuesday noon: the next is Friday's, then Monday's of the week after.
    expect(suggestedSlot([slot, friday], Date.UTC(2026, 8, 8, 12, 0), 'UTC')).toEqual({ slot_id: 'f', when: 'next' });
    expect(suggestedSlot([slot, friday], Date.UTC(2026, 8, 11, 12, 0), 'UTC')).toEqual({ slot_id: 's', when: 'next' });
    expect(suggestedSlot([], Date.UTC(2026, 8, 11, 12, 0), 'UTC')).toBeNull();
    // 08:00 UTC on a Monday in September is 10:00 in Berlin: the slot is over; in UTC it is next.
    expect(suggestedSlot([slot], Date.UTC(2026, 8, 7, 7, 45), 'Europe/Berlin')).toEqual({ slot_id: 's', when: 'now' });
    expect(suggestedSlot([slot], Date.UTC(2026, 8, 7, 7, 45), 'UTC')).toEqual({ slot_id: 's', when: 'next' });
  });

  it("refuses another teacher's course, a student and an unknown course", async () => {
    const stranger = await h.user('teacher', 'stranger');
    const refused = await h.http().get(`/api/v1/teacher/courses/${f.courseId}/timetable`).set(stranger.auth);
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('forbidden');
    expect((await h.http().get(`/api/v1/teacher/courses/${f.courseId}/timetable`).set(f.students[0]!.auth)).status).toBe(403);
    const unknown = await h.http().get('/api/v1/teacher/courses/0190a0a0-0000-7000-8000-000000000000/timetable').set(f.teacher.auth);
    expect(unknown.status).toBe(404);
    expect((await h.http().get('/api/v1/teacher/courses/not-a-uuid/timetable').set(f.teacher.auth)).status).toBe(400);
  });
});

describe('GET /api/v1/teacher/session/:id/gateway without a gateway link', () => {
  it('answers ack null (MQTT disabled) to the teacher, and refuses another teacher', async () => {
    const start = await h.http().post('/api/v1/teacher/session/start').set(f.teacher.auth).send({ course_id: f.courseId, room_id: f.roomId });
    expect(start.status).toBe(201);
    expect(start.body.gateway).toBeNull();
    const read = await h.http().get(`/api/v1/teacher/session/${start.body.session_id}/gateway`).set(f.teacher.auth);
    expect(read.status).toBe(200);
    expect(read.body).toEqual({ command: 'session.start', ack: null });
    const stranger = await h.user('teacher', 'other');
    expect((await h.http().get(`/api/v1/teacher/session/${start.body.session_id}/gateway`).set(stranger.auth)).status).toBe(403);
    expect((await h.http().post(`/api/v1/teacher/session/${start.body.session_id}/end`).set(f.teacher.auth)).status).toBe(200);
    const ended = await h.http().get(`/api/v1/teacher/session/${start.body.session_id}/gateway`).set(f.teacher.auth);
    expect(ended.body).toEqual({ command: 'session.end', ack: null });
  });
});

describe('GET /api/v1/teacher/session/:id/gateway with MQTT', () => {
  let b: BrokerHarness;
  let client: MqttClient | undefined;
  beforeAll(async () => {
    b = await startBrokerHarness({ ackTimeoutMs: 1000 });
  });
  afterAll(async () => {
    client?.end(true);
    await b?.close();
  });

  it('reports confirmed for a gateway that answers, for the start and then the end', async () => {
    const fx = await setupCourse(b.h, { students: 1, code: 'TSS2' });
    const g = await provision(b, fx);
    client = connectGateway(b, g);
    expect(await connectOutcome(client)).toBe('connected');
    const c = client;
    c.on('message', (_t, payload) => {
      const parsed = parseCommand(payload);
      if (parsed.ok) c.publish(g.topics.events, envelope('command.result', { command_id: parsed.value.id, ok: true }), { qos: 1 });
    });
    await c.subscribeAsync(g.topics.cmd, { qos: 1 });
    await c.publishAsync(g.topics.status, JSON.stringify({ state: 'online', at: new Date().toISOString(), version: 't' }), { qos: 1, retain: true });
    await eventually(async () => (await gatewayRow(b, g.gatewayId)).state === 'online', 5000, 'online');

    const rooms = await b.h.http().get('/api/v1/teacher/rooms').set(fx.teacher.auth);
    expect(rooms.body.items).toContainEqual({ id: fx.roomId, name: 'Room TSS2', gateway: 'online' });
    const start = await b.h.http().post('/api/v1/teacher/session/start').set(fx.teacher.auth).send({ course_id: fx.courseId, room_id: fx.roomId });
    expect(start.body.gateway).toMatchObject({ state: 'confirmed', gateway_id: g.gatewayId });
    const read = await b.h.http().get(`/api/v1/teacher/session/${start.body.session_id}/gateway`).set(fx.teacher.auth);
    expect(read.body).toEqual({ command: 'session.start', ack: { state: 'confirmed', gateway_id: g.gatewayId, command_id: start.body.gateway.command_id } });
    const end = await b.h.http().post(`/api/v1/teacher/session/${start.body.session_id}/end`).set(fx.teacher.auth);
    expect(end.body.gateway.state).toBe('confirmed');
    const ended = await b.h.http().get(`/api/v1/teacher/session/${start.body.session_id}/gateway`).set(fx.teacher.auth);
    expect(ended.body).toEqual({ command: 'session.end', ack: { state: 'confirmed', gateway_id: g.gatewayId, command_id: end.body.gateway.command_id } });
    await c.publishAsync(g.topics.status, '', { qos: 1, retain: true });
  });

  it('reports queued while the gateway is offline, cancelled when the unsent start is withdrawn, no_gateway in a room without one', async () => {
    const fx = await setupCourse(b.h, { students: 1, code: 'TSS3' });
    const g = await provision(b, fx);
    const rooms = await b.h.http().get('/api/v1/teacher/rooms').set(fx.teacher.auth);
    expect(rooms.body.items).toContainEqual({ id: fx.roomId, name: 'Room TSS3', gateway: 'never_connected' });
    const start = await b.h.http().post('/api/v1/teacher/session/start').set(fx.teacher.auth).send({ course_id: fx.courseId, room_id: fx.roomId });
    expect(start.body.gateway).toMatchObject({ state: 'queued', gateway_id: g.gatewayId });
    const read = await b.h.http().get(`/api/v1/teacher/session/${start.body.session_id}/gateway`).set(fx.teacher.auth);
    expect(read.body).toEqual({ command: 'session.start', ack: { state: 'queued', gateway_id: g.gatewayId, command_id: start.body.gateway.command_id } });
    const end = await b.h.http().post(`/api/v1/teacher/session/${start.body.session_id}/end`).set(fx.teacher.auth);
    expect(end.body.gateway.state).toBe('cancelled');
    const ended = await b.h.http().get(`/api/v1/teacher/session/${start.body.session_id}/gateway`).set(fx.teacher.auth);
    expect(ended.body.ack).toMatchObject({ state: 'cancelled', gateway_id: g.gatewayId });

    const bare = await setupCourse(b.h, { students: 1, code: 'TSS4' });
    const s = await b.h.http().post('/api/v1/teacher/session/start').set(bare.teacher.auth).send({ course_id: bare.courseId, room_id: bare.roomId });
    expect(s.body.gateway).toEqual({ state: 'no_gateway', gateway_id: null, command_id: null });
    const r = await b.h.http().get(`/api/v1/teacher/session/${s.body.session_id}/gateway`).set(bare.teacher.auth);
    expect(r.body).toEqual({ command: 'session.start', ack: { state: 'no_gateway', gateway_id: null, command_id: null } });
  });
});

/**
 * Remote sessions and timetables (docs/operations.md): session start/end publish commands to the room's
 * gateway, the answer (`command.result`) is tracked and reported in the session response; a
 * command for an offline gateway waits in the cloud's command table and reaches the gateway when
 * it reconnects — also after the cloud (and with it the embedded broker's memory) restarted.
 */
import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseCommand } from '../../shared/mqtt/messages.js';
import { connectGateway, connectOutcome, envelope, eventually, provision, setupCourse, startBrokerHarness, type BrokerHarness, type ProvisionedGateway } from './broker-harness.js';
import type { CourseFixture } from '../helpers/fixtures.js';

interface Received { id: string; type: string; data: Record<string, unknown> }

let b: BrokerHarness;
let f: CourseFixture;
let g: ProvisionedGateway;
const clients: MqttClient[] = [];

/** A gateway that validates each command with the shared schema and answers it. */
async function fakeGateway(answer: (cmd: Received) => { ok: boolean; error?: { code: string; message: string } } = () => ({ ok: true })) {
  const received: Received[] = [];
  const client = connectGateway(b, g, { reconnectPeriod: 0 });
  clients.push(client);
  client.on('message', (_topic, payload) => {
    const parsed = parseCommand(payload);
    if (!parsed.ok) throw new Error(`the cloud sent an invalid command: ${parsed.message}`);
    const cmd = parsed.value as Received;
    received.push(cmd);
    client.publish(g.topics.events, envelope('command.result', { command_id: cmd.id, ...answer(cmd) }), { qos: 1 });
  });
  expect(await connectOutcome(client)).toBe('connected');
  await client.subscribeAsync(g.topics.cmd, { qos: 1 });
  await client.publishAsync(g.topics.status, JSON.stringify({ state: 'online', at: new Date().toISOString(), version: 't' }), { qos: 1, retain: true });
  await eventually(async () => (await b.h.store.db.selectFrom('gateways').select('state').where('id', '=', g.gatewayId).executeTakeFirstOrThrow()).state === 'online', 5000, 'online');
  return { client, received };
}

beforeEach(async () => {
  b = await startBrokerHarness();
  f = await setupCourse(b.h);
  g = await provision(b, f);
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.end(true);
  await b.close();
});

const start = () => b.h.http().post('/api/v1/teacher/session/start').set(f.teacher.auth).send({ course_id: f.courseId, room_id: f.roomId, period_s: 60 });
const end = (id: string) => b.h.http().post(`/api/v1/teacher/session/${id}/end`).set(f.teacher.auth);

describe('remote start and end', () => {
  it("the session response says the room's gateway confirmed", async () => {
    const gw = await fakeGateway();
    const started = await start();
    expect(started.status).toBe(201);
    expect(started.body.gateway).toMatchObject({ state: 'confirmed', gateway_id: g.gatewayId });
    expect(gw.received[0]).toMatchObject({ type: 'session.start', data: { session_id: started.body.session_id, course_id: f.courseId, period_s: 60 } });
    const ended = await end(started.body.session_id);
    expect(ended.status).toBe(200);
    expect(ended.body.gateway).toMatchObject({ state: 'confirmed' });
    expect(gw.received.map((c) => c.type)).toEqual(['session.start', 'session.end']);
  });

  it("reports the gateway's refusal", async () => {
    await fakeGateway(() => ({ ok: false, error: { code: 'ends_in_past', message: 'nope' } }));
    const started = await start();
    expect(started.body.gateway).toMatchObject({ state: 'failed', error: { code: 'ends_in_past', message: 'nope' } });
  });

  it('an answer later than the wait is still recorded; the response said pending', async () => {
    const client = connectGateway(b, g, { reconnectPeriod: 0 });
    clients.push(client);
    client.on('message', (_topic, payload) => {
      const cmd = JSON.parse(payload.toString()) as { id: string };
      // Past the harness's 1.5 s wait for the confirmation.
      setTimeout(() => client.publish(g.topics.events, envelope('command.result', { command_id: cmd.id, ok: true }), { qos: 1 }), 1800);
    });
    expect(await connectOutcome(client)).toBe('connected');
    await client.subscribeAsync(g.topics.cmd, { qos: 1 });
    await client.publishAsync(g.topics.status, JSON.stringify({ state: 'online', at: new Date().toISOString(), version: 't' }), { qos: 1, retain: true });
    await eventually(async () => (await b.h.store.db.selectFrom('gateways').select('state').where('id', '=', g.gatewayId).executeTakeFirstOrThrow()).state === 'online', 5000, 'online');
    const started = await start();
    expect(started.status).toBe(201);
    expect(started.body.gateway).toMatchObject({ state: 'pending', gateway_id: g.gatewayId });
    await eventually(async () => (await b.h.store.db.selectFrom('gateway_commands').select('state').where('id', '=', started.body.gateway.command_id).executeTakeFirstOrThrow()).state === 'confirmed', 5000, 'the late confirmation');
  });

  it('a room without a gateway says so and still starts', async () => {
    const other = await setupCourse(b.h, { code: 'CS300' });
    const res = await b.h.http().post('/api/v1/teacher/session/start').set(other.teacher.auth).send({ course_id: other.courseId, room_id: other.roomId });
    expect(res.status).toBe(201);
    expect(res.body.gateway).toEqual({ state: 'no_gateway', gateway_id: null, command_id: null });
  });
});

describe('offline gateway', () => {
  it('the session starts, the command is queued, and it reaches the gateway when it connects', async () => {
    const started = await start();
    expect(started.status).toBe(201);
    expect(started.body.gateway).toMatchObject({ state: 'queued', gateway_id: g.gatewayId });
    const list = await b.h.http().get('/api/v1/admin/gateways').set(f.admin.auth);
    expect(list.body.items[0].pending_commands).toBe(1);

    const gw = await fakeGateway();
    await eventually(() => gw.received.length >= 1, 5000, 'the queued command');
    expect(gw.received[0]).toMatchObject({ id: started.body.gateway.command_id, type: 'session.start' });
    await eventually(async () => (await b.h.store.db.selectFrom('gateway_commands').select('state').executeTakeFirstOrThrow()).state === 'confirmed', 5000, 'confirmed');
  });

  it('pending commands survive a cloud restart', async () => {
    const started = await start();
    expect(started.body.gateway.state).toBe('queued');
    await b.restartBridge(); // the embedded broker's memory is gone; the command table is not
    const gw = await fakeGateway();
    await eventually(() => gw.received.length >= 1, 5000, 'the start');
    expect(gw.received[0]).toMatchObject({ type: 'session.start', data: { session_id: started.body.session_id } });
    const ended = await end(started.body.session_id);
    expect(ended.body.gateway.state).toBe('confirmed');
    expect(gw.received.map((c) => c.type)).toEqual(['session.start', 'session.end']);
  });

  it('a session started and ended while the gateway was away never reaches it', async () => {
    const started = await start();
    const ended = await end(started.body.session_id);
    expect(ended.body.gateway).toMatchObject({ state: 'cancelled', gateway_id: g.gatewayId });
    const gw = await fakeGateway();
    const ping = await b.h.deps.gateways!.send(f.roomId, 'ping', {});
    await eventually(() => gw.received.length >= 1, 5000, 'the ping');
    expect(gw.received.map((c) => c.id)).toEqual([ping.id]);
  });
});

describe('timetables', () => {
  it("sends the room's timetable when a slot is added, and again on change", async () => {
    const gw = await fakeGateway();
    const slot = await b.h.http().post(`/api/v1/admin/courses/${f.courseId}/timetable`).set(f.admin.auth).send({ weekday: 1, start: '09:00', end: '10:30', room_id: f.roomId, period_s: 120 });
    expect(slot.status).toBe(201);
    expect(slot.body.sent).toEqual([{ room_id: f.roomId, command_id: expect.any(String) }]);
    await eventually(() => gw.received.length >= 1, 5000, 'timetable.set');
    expect(gw.received[0]).toMatchObject({ type: 'timetable.set', data: { timezone: 'UTC', slots: [{ course_id: f.courseId, weekday: 1, start: '09:00', end: '10:30', period_s: 120 }] } });

    const overlap = await b.h.http().post(`/api/v1/admin/courses/${f.courseId}/timetable`).set(f.admin.auth).send({ weekday: 1, start: '10:00', end: '11:00', room_id: f.roomId });
    expect(overlap.status).toBe(409);
    const bad = await b.h.http().post(`/api/v1/admin/courses/${f.courseId}/timetable`).set(f.admin.auth).send({ weekday: 7, start: '11:00', end: '10:00', room_id: f.roomId });
    expect(bad.status).toBe(400);

    const del = await b.h.http().delete(`/api/v1/admin/courses/${f.courseId}/timetable/${slot.body.id}`).set(f.admin.auth);
    expect(del.status).toBe(200);
    await eventually(() => gw.received.length >= 2, 5000, 'the emptied timetable');
    expect(gw.received[1]).toMatchObject({ type: 'timetable.set', data: { slots: [] } });
  });
});

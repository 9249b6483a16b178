/**
 * The session's check-in keys sent to the room's gateway (`checkin_keys.set`, cloud/bridge/checkin-keys.ts)
 * over the real embedded broker, to a gateway that says it serves the GATT check-in and answers
 * every command: when a session starts (the teacher's, right after its session.start; the
 * gateway's own timetable start, once the cloud recorded it) the set holds exactly the active
 * devices' keys of the course's students — not a revoked device, not another course's student,
 * no name nor e-mail — and a change during the session (a new enrolment, a revoked device) sends at once
 * the new set. A gateway that does not serve the check-in gets no keys.
 */
import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../shared/ids.js';
import { keySetDigest } from '../../shared/mqtt/checkin-keys.js';
import { parseCommand } from '../../shared/mqtt/messages.js';
import { connectGateway, connectOutcome, envelope, eventually, provision, setupCourse, startBrokerHarness, type BrokerHarness, type ProvisionedGateway } from './broker-harness.js';
import { slotAround, type CourseFixture, type TestUser } from '../helpers/fixtures.js';
import { enrolCheckinPhone, type CheckinPhone } from './checkin-fixture.js';

interface Received { id: string; type: string; data: Record<string, unknown> }
interface KeysPart { session_id: string; digest: string; part: number; parts: number; keys: Array<Record<string, string>> }

let b: BrokerHarness;
let f: CourseFixture;
let other: CourseFixture;
let g: ProvisionedGateway;
let alice: CheckinPhone;
let bobRevoked: CheckinPhone;
let dora: CheckinPhone;
const clients: MqttClient[] = [];

/** A gateway that validates each command with the shared schema, answers it ok, and says whether it serves the check-in. */
async function fakeGateway(checkin: boolean) {
  const received: Received[] = [];
  const offline = JSON.stringify({ state: 'offline', at: new Date().toISOString(), version: 't' });
  const client = connectGateway(b, g, { reconnectPeriod: 0, will: { topic: g.topics.status, payload: Buffer.from(offline), qos: 1, retain: true } });
  clients.push(client);
  client.on('message', (_topic, payload) => {
    const parsed = parseCommand(payload);
    if (!parsed.ok) throw new Error(`the cloud sent an invalid command: ${parsed.message}`);
    received.push(parsed.value as Received);
    client.publish(g.topics.events, envelope('command.result', { command_id: parsed.value.id, ok: true }), { qos: 1 });
  });
  expect(await connectOutcome(client)).toBe('connected');
  await client.subscribeAsync(g.topics.cmd, { qos: 1 });
  await client.publishAsync(g.topics.status, JSON.stringify({ state: 'online', at: new Date().toISOString(), version: 't', checkin }), { qos: 1, retain: true });
  await eventually(async () => (await b.h.store.gateways.get(g.gatewayId))?.state === 'online', 5000, 'online');
  const sets = () => received.filter((c) => c.type === 'checkin_keys.set').map((c) => c.data as unknown as KeysPart);
  return { client, received, sets };
}

/** The keys of the newest set the gateway got for the session. */
const keyIdsOf = (part: KeysPart | undefined) => part?.keys.map((k) => k.key_id);
const sortedIds = (...phones: CheckinPhone[]) => phones.map((p) => p.keyId).sort();

beforeEach(async () => {
  b = await startBrokerHarness();
  f = await setupCourse(b.h, { students: 3, code: 'KEY1', policy: { require_biometric: false } });
  other = await setupCourse(b.h, { students: 1, code: 'KEY2' });
  g = await provision(b, f);
  alice = await enrolCheckinPhone(b.h, f.students[0]!);
  bobRevoked = await enrolCheckinPhone(b.h, f.students[1]!);
  const revoked = await b.h.http().post(`/api/v1/teacher/biometric/devices/${bobRevoked.deviceId}/revoke`).set(f.teacher.auth).send({ reason: 'lost phone' });
  expect(revoked.status).toBe(200);
  // The third student has no device; Dora is in the other course only.
  dora = await enrolCheckinPhone(b.h, other.students[0]!);
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.end(true);
  await b.close();
});

const start = () => b.h.http().post('/api/v1/teacher/session/start').set(f.teacher.auth).send({ course_id: f.courseId, room_id: f.roomId, period_s: 60 });

async function enrol(student: TestUser): Promise<void> {
  const res = await b.h.http().post(`/api/v1/admin/courses/${f.courseId}/enrollments`).set(f.admin.auth).send({ student_ids: [student.id] });
  expect(res.body.enrolled).toBe(1);
}

describe("the session's check-in keys", () => {
  it("a teacher's start sends, after session.start, exactly the active keys of the course's students, and nothing else about them", async () => {
    const gw = await fakeGateway(true);
    const started = await start();
    expect(started.status).toBe(201);
    expect(started.body.gateway).toMatchObject({ state: 'confirmed' });
    await eventually(() => gw.sets().length === 1, 5000, 'the keys');
    expect(gw.received.map((c) => c.type)).toEqual(['session.start', 'checkin_keys.set']);
    const [set] = gw.sets();
    expect(set).toEqual({ v: 1, session_id: started.body.session_id, digest: keySetDigest([alice.keyId]), part: 0, parts: 1, keys: [{ key_id: alice.keyId, key: expect.any(String) }] });
    // The key is the one Alice's phone enrolled (its id is the SPKI's), and nothing names her.
    const stored = await b.h.store.checkins.keyHolder(alice.keyId);
    expect(set!.keys[0]!.key).toBe(stored!.spki);
    const raw = JSON.stringify(set);
    for (const s of [...f.students, ...other.students]) {
      expect(raw).not.toContain(s.email);
      expect(raw).not.toContain(s.id);
    }
    expect(keyIdsOf(set)).not.toContain(bobRevoked.keyId);
    expect(keyIdsOf(set)).not.toContain(dora.keyId);
    await eventually(async () => (await b.h.store.db.selectFrom('gateway_commands').select('state').where('type', '=', 'checkin_keys.set').executeTakeFirstOrThrow()).state === 'confirmed', 5000, 'acknowledged');
  });

  it('a new enrolment or a revoked device during the session sends the new set at once', async () => {
    const gw = await fakeGateway(true);
    const started = await start();
    await eventually(() => gw.sets().length === 1, 5000, 'the first set');
    // Dora joins this course too: her active device's key is added.
    await enrol(other.students[0]!);
    await eventually(() => gw.sets().length === 2, 5000, 'the set after the enrolment');
    expect(keyIdsOf(gw.sets()[1])).toEqual(sortedIds(alice, dora));
    expect(gw.sets()[1]).toMatchObject({ session_id: started.body.session_id, digest: keySetDigest([alice.keyId, dora.keyId]) });

    // Alice revokes her phone: the set without it follows at once, not at the periodic check.
    const revoked = await b.h.http().post(`/api/v1/student/biometric/devices/${alice.deviceId}/revoke`).set(f.students[0]!.auth).send({});
    expect(revoked.status).toBe(200);
    await eventually(() => gw.sets().length === 3, 5000, 'the set after the revocation');
    expect(keyIdsOf(gw.sets()[2])).toEqual([dora.keyId]);
    // Nothing changed since: the next check sends nothing.
    await b.bridge.hub.checkinKeys.syncLive();
    await new Promise((r) => setTimeout(r, 300));
    expect(gw.sets()).toHaveLength(3);
  });

  it('a gateway offline at the start gets its session and then its keys when it connects', async () => {
    // It said once that it serves the check-in, then went away.
    const first = await fakeGateway(true);
    first.client.end(true);
    await eventually(async () => (await b.h.store.gateways.get(g.gatewayId))?.state === 'offline', 5000, 'offline');
    const started = await start();
    expect(started.body.gateway).toMatchObject({ state: 'queued' });
    const gw = await fakeGateway(true);
    await eventually(() => gw.sets().length >= 1, 5000, 'the queued keys');
    expect(gw.received.map((c) => c.type).slice(0, 2)).toEqual(['session.start', 'checkin_keys.set']);
    expect(keyIdsOf(gw.sets().at(-1))).toEqual([alice.keyId]);
  });

  it("the gateway's own timetable start gets the keys once the cloud recorded it", async () => {
    b.h.clock.set(Date.UTC(2026, 8, 7, 12, 0));
    await slotAround(b.h, f, b.h.clock());
    const gw = await fakeGateway(true);
    const sessionId = uuidv7();
    const recorded = new Promise<void>((resolve) => {
      const off = b.bridge.onIngested((o) => o.result === 'applied' && o.type === 'session.started' && (off(), resolve()));
    });
    await gw.client.publishAsync(g.topics.events, envelope('session.started', {
      session_id: sessionId, room_code: f.roomCode, course_id: f.courseId, period_s: 60, started_at: new Date(b.h.clock()).toISOString(), ends_at: null, source: 'timetable',
    }), { qos: 1 });
    await recorded;
    await eventually(() => gw.sets().length === 1, 5000, 'the keys of the timetable session');
    expect(gw.sets()[0]).toMatchObject({ session_id: sessionId, keys: [{ key_id: alice.keyId }] });
    // The room's timetable went out when its slot was made; the gateway's own session needs no start.
    expect(gw.received.map((c) => c.type).filter((t) => t !== 'timetable.set')).toEqual(['checkin_keys.set']);
  });

  it('a gateway that does not serve the check-in gets no keys', async () => {
    const gw = await fakeGateway(false);
    await start();
    await enrol(other.students[0]!);
    await b.bridge.hub.checkinKeys.syncLive();
    await new Promise((r) => setTimeout(r, 300));
    expect(gw.received.map((c) => c.type)).toEqual(['session.start']);
  });
});

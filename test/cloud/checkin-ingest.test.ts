/**
 * `checkin.received` from the room's gateway over real MQTT (docs/api.md, "Proof of proximity"):
 * a verified check-in becomes one witnessed window of the phone's student, with the gateway's
 * RSSI, peer and latency; a redelivered event and a second check-in for the same window count
 * once (and are announced once, after the commit, to the live roster); a wrong signature, an unknown key, a revoked or pending device, a student not in the
 * course and a session of another room are refused with their reason, change nothing else, and
 * neither stop the gateway's other events nor count against the gateway.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../shared/ids.js';
import { windowIndex, windowStartMs } from '../../shared/token.js';
import { connectGateway, connectOutcome, envelope, gatewayRow, provision, setupCourse, startBrokerHarness, type BrokerHarness, type ProvisionedGateway } from './broker-harness.js';
import type { CourseFixture } from '../helpers/fixtures.js';
import type { Session } from '../../cloud/store/schema.js';
import { checkinData, enrolCheckinPhone, newCheckinKey, type CheckinPhone } from './checkin-fixture.js';

const PERIOD = 60;
let b: BrokerHarness;
let f: CourseFixture;
let g: ProvisionedGateway;
let client: MqttClient;
let session: Session;
let w0: number;
let alice: CheckinPhone;

beforeAll(async () => {
  b = await startBrokerHarness({ ackTimeoutMs: 200 });
  f = await setupCourse(b.h, { students: 3, code: 'CKI1', policy: { require_biometric: false } });
  g = await provision(b, f);
  client = connectGateway(b, g);
  expect(await connectOutcome(client)).toBe('connected');
  alice = await enrolCheckinPhone(b.h, f.students[0]!);
  w0 = windowIndex(b.h.clock(), PERIOD);
  b.h.clock.set(windowStartMs(w0, PERIOD) + 1000);
  const course = (await b.h.store.courses.get(f.courseId))!;
  const room = (await b.h.store.rooms.get(f.roomId))!;
  session = await b.h.store.sessions.start({ course, room, periodS: PERIOD, startedAt: b.h.clock(), source: 'cloud', startedBy: f.teacher.id });
});
afterAll(async () => {
  client.end(true);
  await b.close();
});

const db = () => b.h.store.db;
/** Resolves on the PUBACK, which the cloud sends only once the event has committed. */
const publish = (payload: string) => client.publishAsync(g.topics.events, payload, { qos: 1 });
const witnessed = () => db().selectFrom('witnessed_windows').select(['student_id', 'w', 'rssi', 'peer', 'latency_ms', 'key_id', 'gateway_id']).where('session_id', '=', session.id).orderBy('w').execute();
const refusals = () => db().selectFrom('checkin_refusals').select(['event_id', 'reason', 'key_id', 'w']).orderBy('id').execute();
const ingested = (id: string) => db().selectFrom('ingested_events').select('id').where('id', '=', id).executeTakeFirst();

describe('a verified check-in', () => {
  it("becomes a witnessed window of the phone's student, once however often it is delivered", async () => {
    const id = uuidv7();
    const event = envelope('checkin.received', checkinData(f, session.id, w0, alice, { rssi: -58, peer: 'aa:bb:cc:dd:ee:01', latencyMs: 210 }), id);
    // The live roster hears of it once, after the commit (the row is there when the event comes).
    const heard: Array<Promise<unknown>> = [];
    const owner = {};
    b.h.deps.events.on('checkin.witnessed', owner, (e) => void heard.push(witnessed().then((rows) => ({ e, rows: rows.length }))));
    try {
      await publish(event);
      await publish(event); // at-least-once on the wire
    } finally {
      b.h.deps.events.off(owner);
    }
    expect(await witnessed()).toEqual([{ student_id: f.students[0]!.id, w: w0, rssi: -58, peer: 'aa:bb:cc:dd:ee:01', latency_ms: 210, key_id: alice.keyId, gateway_id: g.gatewayId }]);
    expect(await ingested(id)).toEqual({ id });
    expect(await Promise.all(heard)).toEqual([{ e: { session_id: session.id, student_id: f.students[0]!.id, w: w0 }, rows: 1 }]);
  });

  it('a second check-in for the same window (another event id) counts once', async () => {
    const second = uuidv7();
    await publish(envelope('checkin.received', checkinData(f, session.id, w0, alice, { peer: 'aa:bb:cc:dd:ee:02' }), second));
    expect(await ingested(second)).toEqual({ id: second });
    expect(await witnessed()).toHaveLength(1);
    expect((await witnessed())[0]!.peer).toBe('aa:bb:cc:dd:ee:01');
  });

  it('a check-in for the next window adds that window', async () => {
    b.h.clock.advance(PERIOD * 1000);
    await publish(envelope('checkin.received', checkinData(f, session.id, w0 + 1, alice)));
    expect((await witnessed()).map((r) => r.w)).toEqual([w0, w0 + 1]);
  });
});

describe('a refused check-in', () => {
  async function expectRefused(data: ReturnType<typeof checkinData>, reason: string) {
    const before = await witnessed();
    const id = uuidv7();
    await publish(envelope('checkin.received', data, id));
    expect(await ingested(id)).toEqual({ id });
    expect((await refusals()).find((r) => r.event_id === id)).toEqual({ event_id: id, reason, key_id: data.key_id, w: data.w });
    expect(await witnessed()).toEqual(before);
  }

  it('with a signature the enrolled key did not make (also: the key_id of one phone, signed by another)', async () => {
    await expectRefused(checkinData(f, session.id, w0 + 1, alice, { signWith: newCheckinKey().privateKey }), 'signature_invalid');
    const bob = await enrolCheckinPhone(b.h, f.students[1]!);
    await expectRefused(checkinData(f, session.id, w0 + 1, alice, { keyId: bob.keyId }), 'signature_invalid');
  });

  it('with a key no device holds', async () => {
    await expectRefused(checkinData(f, session.id, w0 + 1, alice, { keyId: '00'.repeat(16) }), 'key_unknown');
  });

  it("with the key of a revoked device, or of a device still waiting for approval", async () => {
    const carol = f.students[2]!;
    const first = await enrolCheckinPhone(b.h, carol);
    const second = await enrolCheckinPhone(b.h, carol); // a second device: pending
    await expectRefused(checkinData(f, session.id, w0 + 1, second), 'device_pending');
    const revoke = await b.h.http().post(`/api/v1/teacher/biometric/devices/${first.deviceId}/revoke`).set(f.teacher.auth).send({ reason: 'lost phone' });
    expect(revoke.status).toBe(200);
    await expectRefused(checkinData(f, session.id, w0 + 1, first), 'device_revoked');
  });

  it("with the key of a student who is not in the session's course", async () => {
    const outsider = await b.h.user('student', 'outsider');
    await expectRefused(checkinData(f, session.id, w0 + 1, await enrolCheckinPhone(b.h, outsider)), 'not_enrolled');
  });

  it("for a session of another room, or one the cloud does not know, or a window outside the session", async () => {
    const other = await setupCourse(b.h, { students: 0, code: 'CKI2' });
    const course = (await b.h.store.courses.get(other.courseId))!;
    const room = (await b.h.store.rooms.get(other.roomId))!;
    const foreign = await b.h.store.sessions.start({ course, room, periodS: PERIOD, startedAt: b.h.clock(), source: 'cloud', startedBy: other.teacher.id });
    await expectRefused(checkinData(other, foreign.id, w0 + 1, alice), 'wrong_room');
    await expectRefused(checkinData(f, uuidv7(), w0 + 1, alice), 'unknown_session');
    await expectRefused(checkinData(f, session.id, w0 - 1, alice), 'window_outside_session');
    await expectRefused(checkinData(f, session.id, w0 + 5, alice), 'window_outside_session');
  });

  it("is not held against the gateway, and its other events go on being applied", async () => {
    const row = await gatewayRow(b, g.gatewayId);
    expect([row.rejected_events, row.last_rejection]).toEqual([0, null]);
    await publish(envelope('checkin.received', checkinData(f, session.id, w0 + 1, alice, { keyId: 'ff'.repeat(16) })));
    const rotated = uuidv7();
    await publish(envelope('token.rotated', { session_id: session.id, w: w0 + 1, advertised_at: new Date(b.h.clock()).toISOString() }, rotated));
    expect(await ingested(rotated)).toEqual({ id: rotated });
  });
});

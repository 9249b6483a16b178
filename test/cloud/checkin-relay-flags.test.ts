/**
 * Relay flags in the teacher's attendance list (docs/api.md, "Proof of proximity"), from check-ins
 * ingested over real MQTT: one BLE peer delivering check-ins for two students, a check-in slower
 * than a phone needs, and one key witnessed in two rooms in overlapping windows. Flags change no
 * status; a student with none has an empty list. The thresholds' edges are checked on the pure rule.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { windowIndex, windowStartMs } from '../../shared/token.js';
import { RELAY_LATENCY_MS, relayFlags } from '../../cloud/domain/relay-flags.js';
import { connectGateway, connectOutcome, envelope, provision, setupCourse, startBrokerHarness, type BrokerHarness, type ProvisionedGateway } from './broker-harness.js';
import type { CourseFixture } from '../helpers/fixtures.js';
import { checkinData, enrolCheckinPhone, type CheckinPhone } from './checkin-fixture.js';

const PERIOD = 60;
let b: BrokerHarness;
let f: CourseFixture;
let other: CourseFixture;
const clients: MqttClient[] = [];

beforeAll(async () => {
  b = await startBrokerHarness({ ackTimeoutMs: 200 });
  f = await setupCourse(b.h, { students: 4, code: 'CKR1', policy: { require_biometric: false } });
  other = await setupCourse(b.h, { students: 0, code: 'CKR2', policy: { require_biometric: false } });
});
afterAll(async () => {
  for (const c of clients) c.end(true);
  await b.close();
});

async function gatewayFor(fx: CourseFixture): Promise<{ g: ProvisionedGateway; client: MqttClient }> {
  const g = await provision(b, fx);
  const client = connectGateway(b, g);
  clients.push(client);
  expect(await connectOutcome(client)).toBe('connected');
  return { g, client };
}

async function startSession(fx: CourseFixture): Promise<string> {
  const res = await b.h.http().post('/api/v1/teacher/session/start').set(fx.teacher.auth).send({ course_id: fx.courseId, room_id: fx.roomId, period_s: PERIOD });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.session_id;
}

describe('relay flags', () => {
  it('flag a shared BLE peer, a slow check-in and a key in two rooms at once; others have none', async () => {
    const [alice, bob, carol, dan] = f.students;
    const enrol = await b.h.http().post(`/api/v1/admin/courses/${other.courseId}/enrollments`).set(f.admin.auth).send({ student_ids: [carol!.id] });
    expect(enrol.status).toBe(200);
    const phones: CheckinPhone[] = [];
    for (const s of [alice!, bob!, carol!, dan!]) phones.push(await enrolCheckinPhone(b.h, s));
    const room1 = await gatewayFor(f);
    const room2 = await gatewayFor(other);

    const w = windowIndex(b.h.clock(), PERIOD) + 1;
    b.h.clock.set(windowStartMs(w, PERIOD));
    const sessionId = await startSession(f);
    const elsewhere = await startSession(other);
    b.h.clock.advance(10_000);
    const send = (c: { client: MqttClient; g: ProvisionedGateway }, data: unknown) => c.client.publishAsync(c.g.topics.events, envelope('checkin.received', data), { qos: 1 });
    // One phone in the room relays for Alice and Bob: both check-ins come from its address.
    await send(room1, checkinData(f, sessionId, w, phones[0]!, { peer: 'aa:aa:aa:aa:aa:01' }));
    await send(room1, checkinData(f, sessionId, w, phones[1]!, { peer: 'aa:aa:aa:aa:aa:01' }));
    // Carol's key answers in both rooms in the same window; her second answer is slow.
    await send(room1, checkinData(f, sessionId, w, phones[2]!, { peer: 'aa:aa:aa:aa:aa:03', latencyMs: 2400 }));
    await send(room2, checkinData(other, elsewhere, w, phones[2]!, { peer: 'aa:aa:aa:aa:aa:04' }));
    // Dan is simply there.
    await send(room1, checkinData(f, sessionId, w, phones[3]!, { peer: 'aa:aa:aa:aa:aa:05', latencyMs: RELAY_LATENCY_MS }));

    const list = await b.h.http().get(`/api/v1/teacher/session/${sessionId}/attendance`).set(f.teacher.auth);
    expect(list.status).toBe(200);
    const flagsOf = (id: string) => list.body.items.find((i: { student_id: string }) => i.student_id === id).flags;
    const pair = [alice!.id, bob!.id].sort();
    expect(flagsOf(alice!.id)).toEqual([{ kind: 'shared_peer', evidence: { peer: 'aa:aa:aa:aa:aa:01', student_ids: pair } }]);
    expect(flagsOf(bob!.id)).toEqual([{ kind: 'shared_peer', evidence: { peer: 'aa:aa:aa:aa:aa:01', student_ids: pair } }]);
    expect(flagsOf(carol!.id)).toEqual([
      { kind: 'slow_checkin', evidence: { windows: [w], max_latency_ms: 2400, threshold_ms: RELAY_LATENCY_MS } },
      { kind: 'two_rooms', evidence: { key_id: phones[2]!.keyId, w, other_room_id: other.roomId, other_session_id: elsewhere, other_w: w } },
    ]);
    expect(flagsOf(dan!.id)).toEqual([]);
    // The override answer carries them too.
    const put = await b.h.http().put(`/api/v1/teacher/session/${sessionId}/attendance/${carol!.id}`).set(f.teacher.auth).send({ status: 'excused', reason: 'checked in person' });
    expect(put.body.flags.map((fl: { kind: string }) => fl.kind)).toEqual(['slow_checkin', 'two_rooms']);
  });

  it('the two-rooms flag needs overlapping windows (periods may differ)', () => {
    const own = [{ student_id: 's', w: 100, key_id: 'k', peer: 'p', latency_ms: 100 }];
    // Window 100 of 60 s is [6000 s, 6060 s); window 50 of 120 s is [6000 s, 6120 s): overlaps. 51 does not.
    const at = (w: number) => [{ key_id: 'k', w, period_s: 120, room_id: 'r2', session_id: 'x' }];
    expect(relayFlags(60, own, at(50)).get('s')?.map((fl) => fl.kind)).toEqual(['two_rooms']);
    expect(relayFlags(60, own, at(51)).get('s')).toBeUndefined();
    expect(relayFlags(60, own, [{ ...at(50)[0]!, key_id: 'other' }]).get('s')).toBeUndefined();
  });
});

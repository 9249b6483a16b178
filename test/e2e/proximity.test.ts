/**
 * Proof of proximity end to end: the cloud with its embedded broker, a gateway process on the
 * virtual radio serving the GATT check-in on the real bleno, and phones made of the real noble
 * (scripts/classroom/checkin-phone.ts) that enrolled a passkey with a check-in key. The course
 * keeps the default require_proximity, so only windows the gateway witnessed count: a phone that
 * checks in is present (also one without internet, whose check-ins reach the cloud through the
 * gateway's outbox), a student at home who submits every frame a friend forwards is absent,
 * not_witnessed. One phone checking in for two students is flagged shared_peer. A gateway cut off
 * from the broker keeps witnessing, and each check-in reaches the cloud once when the link returns.
 * The cloud sends the gateway the session's check-in keys, so a phone whose key was never enrolled
 * is answered unknown_key by the gateway on its first try, and nothing of it reaches the cloud.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedToken, newClassroom, startGateway, startWorld, submit, waitGateway, type RoomGateway, type World } from './world.js';
import type { Classroom, Person } from '../../scripts/classroom/api.js';
import { GattPhone, enrolCheckinKey, type CheckinKey } from '../../scripts/classroom/checkin-phone.js';
import { checkinKeyOf } from '../../shared/checkin-phone.js';
import type { HeardFrame } from '../../scripts/classroom/phones.js';
import { eventually } from '../helpers/eventually.js';

const PERIOD_S = 10;
const WINDOWS = 2;
/** The latest a session starts into its first window, so that every phone gets its turn in it. */
const START_BY_MS = 2_000;

interface AttendanceRecord {
  student_id: string;
  full_name: string;
  status: string;
  reasons: string[];
  windows_seen: number;
  windows_total: number;
  witnessed_windows: number;
  flags: Array<{ kind: string; evidence: { peer?: string; student_ids?: string[] } }>;
}

let w: World;
let c: Classroom;
let gw: RoomGateway;
const keys = new Map<string, CheckinKey>();
let phoneA: GattPhone;
let phoneB: GattPhone;
let sharedPhone: GattPhone;

beforeAll(async () => {
  w = await startWorld();
  c = await newClassroom(w, { courseCode: 'PHY101', courseName: 'Physics', roomName: 'Hall C', teacherName: 'Lise Meitner',
    studentNames: ['Marie Curie', 'Niels Bohr', 'Paul Dirac', 'Emmy Noether', 'Max Born'],
    // Biometric verification has its own tests (test/cloud/biometric-*); require_proximity is left to its default.
    policy: { require_biometric: false } });
  gw = await startGateway(w, c, 'gw-hallc');
  expect((await waitGateway(w, gw.gatewayId, () => true, 1000, 'the gateway')).checkin_service).toBe(true);
  const origin = w.config.webauthn.origins[0]!;
  for (const s of c.students) keys.set(s.id, await enrolCheckinKey(w.api, s, origin));
  phoneA = await GattPhone.start(10, w.hub, w.logger);
  phoneB = await GattPhone.start(11, w.hub, w.logger);
  sharedPhone = await GattPhone.start(12, w.hub, w.logger);
}, 90_000);
afterAll(async () => {
  await w?.close();
});

/** Starts a session early in a window (so its first window has room for every phone); resolves with its id. */
async function startSession(): Promise<string> {
  await eventually(() => Date.now() % (PERIOD_S * 1000) < START_BY_MS, PERIOD_S * 1000, 'the start of a window');
  const start = await w.api.must<{ session_id: string }>(201, 'POST', '/api/v1/teacher/session/start', { token: c.teacher.token, body: { course_id: c.courseId, room_id: c.roomId, period_s: PERIOD_S } });
  return start.session_id;
}

function heardIn(sessionId: string, window: number): Promise<HeardFrame> {
  return w.phones.waitFor((f) => f.roomCode === c.roomCode && f.w === window && f.token === expectedToken(gw.roomSecret, sessionId, f.w), (PERIOD_S + 3) * 1000, `window ${window} on air`);
}

async function attendance(sessionId: string): Promise<Map<string, AttendanceRecord>> {
  const list = await w.api.must<{ items: AttendanceRecord[] }>(200, 'GET', `/api/v1/teacher/session/${sessionId}/attendance`, { token: c.teacher.token });
  return new Map(list.items.map((r) => [r.full_name, r]));
}

async function checkIn(phone: GattPhone, student: Person, window: number): Promise<void> {
  const { receipt } = await phone.checkIn(c.roomCode, keys.get(student.id)!);
  expect(receipt).toEqual({ status: 'queued', w: window });
}

describe('proof of proximity with a gateway process', () => {
  it('counts the phones the gateway witnessed, with or without internet, and not the student at home who submits forwarded frames', async () => {
    const [marie, niels, paul] = c.students as [Person, Person, Person];
    const sessionId = await startSession();
    const first = await heardIn(sessionId, Math.floor(Date.now() / (PERIOD_S * 1000)));
    for (let window = first.w; window < first.w + WINDOWS; window++) {
      const frame = await heardIn(sessionId, window);
      // Marie checks in over GATT and also submits what she heard; Niels's phone has no internet: GATT only.
      await Promise.all([checkIn(phoneA, marie, window), checkIn(phoneB, niels, window)]);
      expect((await submit(w, marie.token, frame.frame)).body.status).toBe('accepted');
      // Paul is at home: a friend in the room forwards each frame and he submits it in time.
      const forwarded = await w.api.must<{ status: string; witnessed: boolean }>(200, 'POST', '/api/v1/student/token/submit', { token: paul.token, body: { frame: frame.frame, rssi: -60 } });
      expect(forwarded).toMatchObject({ status: 'accepted', witnessed: false });
    }
    // The check-ins travel through the gateway's outbox and the broker; wait until the cloud has them all.
    await eventually(async () => {
      const live = await attendance(sessionId);
      return live.get('Marie Curie')?.witnessed_windows === WINDOWS && live.get('Niels Bohr')?.witnessed_windows === WINDOWS;
    }, 15_000, 'the witnessed windows at the cloud');

    await w.api.must(200, 'POST', `/api/v1/teacher/session/${sessionId}/end`, { token: c.teacher.token });
    const list = await attendance(sessionId);
    expect(list.get('Marie Curie')).toMatchObject({ status: 'present', windows_total: WINDOWS, witnessed_windows: WINDOWS });
    expect(list.get('Niels Bohr')).toMatchObject({ status: 'present', windows_total: WINDOWS, witnessed_windows: WINDOWS });
    // His submissions were all accepted, but under require_proximity only witnessed windows count.
    expect(list.get('Paul Dirac')).toMatchObject({ status: 'absent', windows_seen: 0, windows_total: WINDOWS, witnessed_windows: 0, reasons: ['presence_low', 'not_witnessed'] });
    // Each phone checked in with its own address: no flag.
    for (const name of ['Marie Curie', 'Niels Bohr', 'Paul Dirac']) expect(list.get(name)!.flags).toEqual([]);

    // Niels never called the API: what he is counted for came from the gateway, which witnessed his own phone.
    const rows = await w.cloud.store.db.selectFrom('ingested_events').select('id').where('gateway_id', '=', gw.gatewayId).where('type', '=', 'checkin.received').execute();
    expect(rows.length).toBeGreaterThanOrEqual(2 * WINDOWS);
  }, 60_000);

  it('flags one phone checking in for two students as shared_peer in the teacher\'s list', async () => {
    const [, , , emmy, max] = c.students as [Person, Person, Person, Person, Person];
    const sessionId = await startSession();
    const frame = await heardIn(sessionId, Math.floor(Date.now() / (PERIOD_S * 1000)));
    await checkIn(sharedPhone, emmy, frame.w);
    await checkIn(sharedPhone, max, frame.w);
    await eventually(async () => {
      const live = await attendance(sessionId);
      return live.get('Emmy Noether')?.witnessed_windows === 1 && live.get('Max Born')?.witnessed_windows === 1;
    }, 15_000, 'both check-ins at the cloud');
    await w.api.must(200, 'POST', `/api/v1/teacher/session/${sessionId}/end`, { token: c.teacher.token });

    const list = await attendance(sessionId);
    for (const name of ['Emmy Noether', 'Max Born']) {
      const flag = list.get(name)!.flags.find((f) => f.kind === 'shared_peer');
      expect(flag?.evidence.peer).toBe(sharedPhone.address);
      expect([...flag!.evidence.student_ids!].sort()).toEqual([emmy.id, max.id].sort());
    }
    expect(list.get('Marie Curie')!.flags).toEqual([]);
  }, 40_000);

  it('the gateway cut off from the broker keeps witnessing: every check-in reaches the cloud exactly once when the link returns', async () => {
    const [marie, niels] = c.students as [Person, Person];
    const sessionId = await startSession();
    const first = await heardIn(sessionId, Math.floor(Date.now() / (PERIOD_S * 1000)));
    await w.cloud.bridge!.stop(); // the broker goes away, and with it everything it held in memory
    for (let window = first.w; window < first.w + WINDOWS; window++) {
      await heardIn(sessionId, window);
      await Promise.all([checkIn(phoneA, marie, window), checkIn(phoneB, niels, window)]);
    }
    // Nothing reached the cloud meanwhile: the check-ins wait in the gateway's outbox.
    expect((await attendance(sessionId)).get('Marie Curie')!.witnessed_windows).toBe(0);
    const applied = new Map<string, number>();
    const stopCounting = w.cloud.bridge!.onIngested((o) => {
      if (o.result === 'applied' && o.type === 'checkin.received') applied.set(o.id, (applied.get(o.id) ?? 0) + 1);
    });
    await w.cloud.bridge!.start();
    // After the outage the gateway's reconnect backoff may wait up to about 20 s.
    await eventually(async () => {
      const live = await attendance(sessionId);
      return live.get('Marie Curie')?.witnessed_windows === WINDOWS && live.get('Niels Bohr')?.witnessed_windows === WINDOWS;
    }, 45_000, 'the witnessed windows after the link returned', 200);
    stopCounting();
    expect([...applied.values()]).toEqual(new Array(2 * WINDOWS).fill(1));
    const rows = await w.cloud.store.db.selectFrom('witnessed_windows').select(['student_id', 'w']).where('session_id', '=', sessionId).execute();
    expect(rows).toHaveLength(2 * WINDOWS);
    await w.api.must(200, 'POST', `/api/v1/teacher/session/${sessionId}/end`, { token: c.teacher.token });
    const list = await attendance(sessionId);
    expect(list.get('Marie Curie')).toMatchObject({ status: 'present', witnessed_windows: WINDOWS });
    expect(list.get('Niels Bohr')).toMatchObject({ status: 'present', witnessed_windows: WINDOWS });
  }, 90_000);

  it("a phone whose key was never enrolled is answered unknown_key by the gateway at once, which the cloud never hears of", async () => {
    const [marie] = c.students as [Person];
    const sessionId = await startSession();
    const frame = await heardIn(sessionId, Math.floor(Date.now() / (PERIOD_S * 1000)));
    // The session's keys reach the gateway right after its start (docs/protocol.md, "The session's check-in keys").
    await eventually(async () => (await w.cloud.store.db.selectFrom('gateway_commands').select('state').where('session_id', '=', sessionId).where('type', '=', 'checkin_keys.set').executeTakeFirst())?.state === 'confirmed', 10_000, 'the keys confirmed by the gateway');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const stranger: CheckinKey = { privateKey, keyId: checkinKeyOf(privateKey).keyId };
    const refused = await sharedPhone.checkIn(c.roomCode, stranger, { timeoutMs: 10_000 });
    expect(refused).toMatchObject({ receipt: { status: 'unknown_key', w: frame.w }, attempts: 1 });
    // An enrolled phone is still queued and counted.
    await checkIn(phoneA, marie, frame.w);
    await eventually(async () => (await attendance(sessionId)).get('Marie Curie')?.witnessed_windows === 1, 15_000, "Marie's check-in at the cloud");
    const refusals = await w.cloud.store.db.selectFrom('checkin_refusals').select('key_id').where('session_id', '=', sessionId).execute();
    expect(refusals).toEqual([]);
    await w.api.must(200, 'POST', `/api/v1/teacher/session/${sessionId}/end`, { token: c.teacher.token });
  }, 40_000);
});

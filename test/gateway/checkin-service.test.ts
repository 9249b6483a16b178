/**
 * The gateway's GATT check-in logic (gateway/ble/checkin-service.ts) against a real gateway store,
 * the real rotation and phones made of shared/checkin-phone.ts with real P-256 keys: every receipt
 * status, and the checkin.received outbox row exactly as the cloud will read it.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CheckinService } from '../../gateway/ble/checkin-service.js';
import { GatewayEvents } from '../../gateway/events.js';
import { OnAirEncoder } from '../../gateway/on-air.js';
import { Rotation } from '../../gateway/rotation.js';
import { SessionManager } from '../../gateway/sessions.js';
import type { GatewayStore } from '../../gateway/store/store.js';
import {
  CHECKIN_LENGTH, NONCE_TTL_MS, checkinMessage, decodeChallenge, encodeReceipt, verifyCheckin, type Receipt,
} from '../../shared/checkin.js';
import { answerChallenge, checkinKeyOf } from '../../shared/checkin-phone.js';
import { eventDataSchemas } from '../../shared/mqtt/messages.js';
import { memoryLogger } from '../fakes/memory-logger.js';
import { RecordingAdvertiser } from '../fakes/recording-advertiser.js';
import { ROOM_CODE, ROOM_SECRET_HEX, SESSION_ID, classroomConfig, memoryStore, outboxEvents } from './classroom.js';

/** docs/protocol.md golden vectors: window 5890752 starts at 1767225600000 (period 300). */
const W0 = 5890752;
const W0_START = 1767225600000;
const OTHER_SESSION = '0192f3a0-7c00-7000-8000-000000000002';

interface Phone {
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyId: Buffer;
}

function newPhone(): Phone {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { privateKey, publicKey, keyId: checkinKeyOf(privateKey).keyId };
}

describe('gateway check-in service', () => {
  let store: GatewayStore;
  let sessions: SessionManager;
  let rotation: Rotation;
  let service: CheckinService;
  let logs: ReturnType<typeof memoryLogger>;
  const encoder = new OnAirEncoder({ roomCode: ROOM_CODE, roomSecret: Buffer.from(ROOM_SECRET_HEX, 'hex'), companyId: 0xffff, localName: 'ATT' });

  beforeEach(async () => {
    vi.useFakeTimers({ now: W0_START + 120_000 });
    logs = memoryLogger();
    const events = new GatewayEvents(logs.log);
    store = memoryStore(classroomConfig(), events);
    const advertiser = new RecordingAdvertiser();
    await advertiser.start();
    sessions = new SessionManager({ store, events, roomCode: ROOM_CODE, log: logs.log });
    rotation = new Rotation({ store, events, sessions, advertiser, encoder, idleFrame: () => false, log: logs.log });
    rotation.start();
    service = new CheckinService({ store, roomCode: ROOM_CODE, onAir: () => rotation.current(), log: logs.log });
  });

  afterEach(() => {
    rotation.stop();
    store.close();
    vi.useRealTimers();
  });

  const startSession = (id = SESSION_ID) => sessions.start({ id, courseId: 'CS101', periodS: 300, endsAt: null, source: 'cloud' }, Date.now());
  const checkins = () => outboxEvents(store).filter((e) => e.type === 'checkin.received');

  /** What the phone writes for the challenge it read, signed over the token on air in that window. */
  function answer(phone: Phone, challenge: Buffer, sessionId = SESSION_ID): Buffer {
    const decoded = decodeChallenge(challenge);
    if (!decoded.ok) throw new Error(decoded.reason);
    const { w } = decoded.value;
    const result = answerChallenge({ challenge, advertised: { roomCode: ROOM_CODE, w, token: encoder.token(sessionId, w) }, privateKey: phone.privateKey, keyId: phone.keyId });
    if (!result.ok) throw new Error(result.reason);
    return result.value;
  }

  function checkIn(connectionId: string, phone: Phone): Receipt | null {
    const challenge = service.challenge(connectionId);
    if (!challenge) throw new Error('no challenge');
    return service.checkin(connectionId, answer(phone, challenge));
  }

  describe('a phone in the room', () => {
    it('reads a challenge for this room and the window on air, writes its answer and gets queued; the outbox holds the event the cloud verifies', () => {
      startSession();
      const phone = newPhone();
      expect(service.connect('c1', 'AA:BB:CC:DD:EE:01')).toBe(true);
      service.rssi('c1', -58);

      const challenge = service.challenge('c1')!;
      expect(challenge).toHaveLength(25);
      const decoded = decodeChallenge(challenge);
      expect(decoded).toMatchObject({ ok: true, value: { roomCode: ROOM_CODE, w: W0 } });
      const nonce = (decoded as { value: { nonce: Buffer } }).value.nonce;

      vi.advanceTimersByTime(850);
      const written = answer(phone, challenge);
      const receivedAt = Date.now();
      expect(service.checkin('c1', written)).toEqual({ status: 'queued', w: W0 });
      expect(service.receipt('c1')).toEqual(encodeReceipt({ status: 'queued', w: W0 }));

      const rows = checkins();
      expect(rows).toHaveLength(1);
      const envelope = rows[0] as unknown as { at: string; data: unknown };
      expect(envelope.at).toBe(new Date(receivedAt).toISOString());
      const data = eventDataSchemas['checkin.received'].parse(envelope.data);
      expect(data).toEqual({
        session_id: SESSION_ID,
        w: W0,
        key_id: phone.keyId.toString('hex'),
        nonce: nonce.toString('hex'),
        signature: written.subarray(33, 97).toString('hex'),
        rssi: -58,
        peer: 'aa:bb:cc:dd:ee:01',
        latency_ms: 850,
      });
      // What the cloud does: rebuild the message from the room code and token(w), verify with the registered key.
      const message = checkinMessage(ROOM_CODE, data.w, Buffer.from(data.nonce, 'hex'), encoder.token(SESSION_ID, data.w));
      expect(verifyCheckin(phone.publicKey, message, Buffer.from(data.signature, 'hex'))).toBe(true);
    });

    it('sends a null RSSI when the controller gave none or an impossible value', () => {
      startSession();
      service.connect('c1', 'aa:bb:cc:dd:ee:01');
      service.rssi('c1', 127); // HCI: "RSSI not available"
      expect(checkIn('c1', newPhone())).toMatchObject({ status: 'queued' });
      expect(checkins()[0]!.data.rssi).toBeNull();
    });

    it('answers the challenge of several phones connected at once, each with its own nonce and its own row', () => {
      startSession();
      const phones = [newPhone(), newPhone(), newPhone()];
      phones.forEach((_, i) => service.connect(`c${i}`, `aa:bb:cc:dd:ee:0${i}`));
      const challenges = phones.map((_, i) => service.challenge(`c${i}`)!);
      expect(new Set(challenges.map((c) => c.toString('hex'))).size).toBe(3);
      const receipts = phones.map((phone, i) => service.checkin(`c${i}`, answer(phone, challenges[i]!)));
      expect(receipts).toEqual(phones.map(() => ({ status: 'queued', w: W0 })));
      const rows = checkins();
      expect(rows.map((r) => r.data.key_id).sort()).toEqual(phones.map((p) => p.keyId.toString('hex')).sort());
      expect(rows.map((r) => r.data.peer).sort()).toEqual(['aa:bb:cc:dd:ee:00', 'aa:bb:cc:dd:ee:01', 'aa:bb:cc:dd:ee:02']);
    });

    it('refuses a peer that has no BLE address', () => {
      startSession();
      expect(service.connect('c1', 'not-an-address')).toBe(false);
      expect(service.challenge('c1')).toBeNull();
      expect(service.connected()).toBe(0);
    });
  });

  describe('duplicate', () => {
    it('the same key twice in one window is a duplicate and adds no row; another key, or the next window, is queued', () => {
      startSession();
      const phone = newPhone();
      service.connect('c1', 'aa:bb:cc:dd:ee:01');
      expect(checkIn('c1', phone)).toEqual({ status: 'queued', w: W0 });
      expect(checkIn('c1', phone)).toEqual({ status: 'duplicate', w: W0 });
      service.connect('c2', 'aa:bb:cc:dd:ee:02');
      expect(checkIn('c2', phone)).toEqual({ status: 'duplicate', w: W0 });
      expect(service.receipt('c2')).toEqual(encodeReceipt({ status: 'duplicate', w: W0 }));
      expect(checkins()).toHaveLength(1);

      expect(checkIn('c2', newPhone())).toEqual({ status: 'queued', w: W0 });
      vi.advanceTimersByTime(300_000);
      expect(checkIn('c1', phone)).toEqual({ status: 'queued', w: W0 + 1 });
      expect(checkins().map((r) => r.data.w)).toEqual([W0, W0, W0 + 1]);
    });
  });

  describe('nonce_unknown', () => {
    let phone: Phone;
    beforeEach(() => {
      startSession();
      phone = newPhone();
      service.connect('c1', 'aa:bb:cc:dd:ee:01');
      service.connect('c2', 'aa:bb:cc:dd:ee:02');
    });

    it('a write before any challenge was read', () => {
      const other = service.challenge('c2')!;
      expect(service.checkin('c1', answer(phone, other))).toEqual({ status: 'nonce_unknown', w: W0 });
      expect(checkins()).toHaveLength(0);
    });

    it("a nonce of another connection (a relayed challenge), which stays valid for its own connection", () => {
      service.challenge('c1');
      const other = service.challenge('c2')!;
      expect(service.checkin('c1', answer(phone, other))).toMatchObject({ status: 'nonce_unknown' });
      expect(service.checkin('c2', answer(phone, other))).toMatchObject({ status: 'queued' });
      expect(checkins()).toHaveLength(1);
      expect(checkins()[0]!.data.peer).toBe('aa:bb:cc:dd:ee:02');
    });

    it('the same nonce used twice', () => {
      const challenge = service.challenge('c1')!;
      const written = answer(phone, challenge);
      expect(service.checkin('c1', written)).toMatchObject({ status: 'queued' });
      expect(service.checkin('c1', written)).toEqual({ status: 'nonce_unknown', w: W0 });
      expect(service.checkin('c1', answer(newPhone(), challenge))).toMatchObject({ status: 'nonce_unknown' });
      expect(checkins()).toHaveLength(1);
    });

    it('a nonce older than NONCE_TTL_MS, which is used up by the attempt', () => {
      const challenge = service.challenge('c1')!;
      vi.advanceTimersByTime(NONCE_TTL_MS + 1);
      expect(service.checkin('c1', answer(phone, challenge))).toEqual({ status: 'nonce_unknown', w: W0 });
      expect(checkins()).toHaveLength(0);
    });

    it('is still valid at exactly NONCE_TTL_MS', () => {
      const challenge = service.challenge('c1')!;
      vi.advanceTimersByTime(NONCE_TTL_MS);
      expect(service.checkin('c1', answer(phone, challenge))).toMatchObject({ status: 'queued', w: W0 });
      expect(checkins()[0]!.data.latency_ms).toBe(NONCE_TTL_MS);
    });

    it('the previous challenge of the connection, once a new one was read', () => {
      const first = service.challenge('c1')!;
      const second = service.challenge('c1')!;
      expect(service.checkin('c1', answer(phone, first))).toMatchObject({ status: 'nonce_unknown' });
      expect(service.checkin('c1', answer(phone, second))).toMatchObject({ status: 'queued' });
    });

    it('a challenge of a session that was replaced before the write', () => {
      const challenge = service.challenge('c1')!;
      startSession(OTHER_SESSION);
      expect(service.checkin('c1', answer(phone, challenge))).toEqual({ status: 'nonce_unknown', w: W0 });
      expect(checkins()).toHaveLength(0);
    });

    it('a nonce of a connection that disconnected, also when the same peer connects again', () => {
      const challenge = service.challenge('c1')!;
      service.disconnect('c1');
      expect(service.checkin('c1', answer(phone, challenge))).toBeNull();
      service.connect('c1', 'aa:bb:cc:dd:ee:01');
      expect(service.checkin('c1', answer(phone, challenge))).toMatchObject({ status: 'nonce_unknown' });
      expect(checkins()).toHaveLength(0);
    });
  });

  describe('the window boundary', () => {
    it('a challenge read just before the boundary is answered after it, for its own window, until the nonce expires', () => {
      vi.setSystemTime(W0_START + 300_000 - 3_000);
      startSession();
      const phone = newPhone();
      service.connect('c1', 'aa:bb:cc:dd:ee:01');
      const challenge = service.challenge('c1')!;
      vi.advanceTimersByTime(5_000); // the rotation moved to W0 + 1
      expect(rotation.current()).toMatchObject({ kind: 'session', w: W0 + 1 });
      expect(service.checkin('c1', answer(phone, challenge))).toEqual({ status: 'queued', w: W0 });
      expect(checkins()[0]!.data).toMatchObject({ w: W0, latency_ms: 5_000 });
      // The same key in the new window is a check-in of its own.
      expect(checkIn('c1', phone)).toEqual({ status: 'queued', w: W0 + 1 });
    });
  });

  describe('malformed', () => {
    const cases: Array<[string, (b: Buffer) => Buffer]> = [
      ['truncated', (b) => b.subarray(0, CHECKIN_LENGTH - 1)],
      ['oversized', (b) => Buffer.concat([b, Buffer.of(0)])],
      ['bad version', (b) => Buffer.concat([Buffer.of(0x02), b.subarray(1)])],
      ['empty', () => Buffer.alloc(0)],
    ];
    it.each(cases)('%s: malformed, no row, and the outstanding nonce still answers', (_name, spoil) => {
      startSession();
      const phone = newPhone();
      service.connect('c1', 'aa:bb:cc:dd:ee:01');
      const written = answer(phone, service.challenge('c1')!);
      expect(service.checkin('c1', spoil(written))).toEqual({ status: 'malformed', w: W0 });
      expect(service.receipt('c1')).toEqual(encodeReceipt({ status: 'malformed', w: W0 }));
      expect(checkins()).toHaveLength(0);
      expect(service.checkin('c1', written)).toMatchObject({ status: 'queued' });
    });
  });

  describe('no_session', () => {
    it('between sessions there is no challenge to read, and a write is no_session', () => {
      service.connect('c1', 'aa:bb:cc:dd:ee:01');
      expect(service.challenge('c1')).toBeNull();
      const written = Buffer.concat([Buffer.of(1), Buffer.alloc(96, 7)]);
      expect(service.checkin('c1', written)).toEqual({ status: 'no_session', w: 0 });
      expect(checkins()).toHaveLength(0);
    });

    it('a session that ended between the read and the write', () => {
      startSession();
      service.connect('c1', 'aa:bb:cc:dd:ee:01');
      const challenge = service.challenge('c1')!;
      sessions.end(SESSION_ID, 'command', Date.now());
      expect(service.checkin('c1', answer(newPhone(), challenge))).toEqual({ status: 'no_session', w: W0 });
      expect(checkins()).toHaveLength(0);
    });
  });

  it('answers nothing, writes nothing and keeps no nonce when the store cannot record the check-in', () => {
    startSession();
    service.connect('c1', 'aa:bb:cc:dd:ee:01');
    const written = answer(newPhone(), service.challenge('c1')!);
    store.db.exec('DROP TABLE outbox');
    expect(service.checkin('c1', written)).toBeNull();
    expect(logs.lines.some((l) => l.msg === 'check-in could not be recorded')).toBe(true);
    expect(service.checkin('c1', written)).toMatchObject({ status: 'nonce_unknown' });
  });

  it('writes exactly one outbox row per queued check-in across a class', () => {
    startSession();
    const phones = Array.from({ length: 12 }, newPhone);
    const receipts: Array<Receipt | null> = [];
    phones.forEach((phone, i) => {
      const id = `c${i}`;
      service.connect(id, `aa:bb:cc:dd:ee:${i.toString(16).padStart(2, '0')}`);
      receipts.push(checkIn(id, phone), checkIn(id, phone));
      service.disconnect(id);
    });
    expect(receipts.filter((r) => r?.status === 'queued')).toHaveLength(12);
    expect(receipts.filter((r) => r?.status === 'duplicate')).toHaveLength(12);
    expect(checkins()).toHaveLength(12);
    expect(new Set(checkins().map((r) => r.data.key_id)).size).toBe(12);
    expect(service.connected()).toBe(0);
  });
});

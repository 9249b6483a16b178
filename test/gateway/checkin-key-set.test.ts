/**
 * The session's check-in keys on the gateway (gateway/checkin-keys.ts, gateway/ble/checkin-service.ts):
 * `checkin_keys.set` commands through the real command handler into the real store (a file, so
 * that a restart is a real reopen), and the check-in service with the real rotation and phones made
 * of shared/checkin-phone.ts. With the set, an unknown key is `unknown_key` and a wrong signature
 * `bad_signature`, and neither reaches the outbox; without one everything is queued, as before.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CheckinService } from '../../gateway/ble/checkin-service.js';
import { CommandHandler } from '../../gateway/command-handler.js';
import { GatewayEvents } from '../../gateway/events.js';
import { OnAirEncoder } from '../../gateway/on-air.js';
import { Rotation } from '../../gateway/rotation.js';
import { RuntimeConfig } from '../../gateway/runtime-config.js';
import { SessionManager } from '../../gateway/sessions.js';
import { openStore, type GatewayStore } from '../../gateway/store/store.js';
import { Timetable } from '../../gateway/timetable.js';
import { decodeChallenge, type Receipt } from '../../shared/checkin.js';
import { answerChallenge, checkinKeyOf } from '../../shared/checkin-phone.js';
import { uuidv7 } from '../../shared/ids.js';
import { KEYS_PER_PART, keySetParts, type CheckinKeyEntry } from '../../shared/mqtt/checkin-keys.js';
import { MAX_PAYLOAD_BYTES } from '../../shared/mqtt/topics.js';
import { parseCommand } from '../../shared/mqtt/messages.js';
import { memoryLogger } from '../fakes/memory-logger.js';
import { RecordingAdvertiser } from '../fakes/recording-advertiser.js';
import { ROOM_CODE, ROOM_SECRET_HEX, SESSION_ID, classroomConfig, outboxEvents, tempDir } from './classroom.js';

const W0_START = 1767225600000;
const W0 = 5890752;
const OTHER_SESSION = '0192f3a0-7c00-7000-8000-000000000002';

interface Phone {
  privateKey: KeyObject;
  keyId: Buffer;
  entry: CheckinKeyEntry;
}

function newPhone(): Phone {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const { keyId, checkinKey } = checkinKeyOf(privateKey);
  return { privateKey, keyId, entry: { key_id: keyId.toString('hex'), key: checkinKey } };
}

const envelope = (type: string, data: unknown, id = uuidv7()) => JSON.stringify({ id, type, at: new Date().toISOString(), data });

describe("the session's check-in keys on the gateway", () => {
  const encoder = new OnAirEncoder({ roomCode: ROOM_CODE, roomSecret: Buffer.from(ROOM_SECRET_HEX, 'hex'), companyId: 0xffff, localName: 'ATT' });
  const config = classroomConfig();
  let dir: ReturnType<typeof tempDir>;
  let logs: ReturnType<typeof memoryLogger>;
  let events: GatewayEvents;
  let store: GatewayStore;
  let sessions: SessionManager;
  let rotation: Rotation;
  let service: CheckinService;
  let commands: CommandHandler;
  let connections = 0;

  /** The gateway's parts on its store: what the daemon builds, without the radio and the link. */
  async function boot(): Promise<void> {
    events = new GatewayEvents(logs.log);
    store = openStore(join(dir.dir, 'gateway.db'), config.gatewayId, config.mqtt.topicPrefix, { events });
    const advertiser = new RecordingAdvertiser();
    await advertiser.start();
    sessions = new SessionManager({ store, events, roomCode: ROOM_CODE, log: logs.log });
    rotation = new Rotation({ store, events, sessions, advertiser, encoder, idleFrame: () => false, log: logs.log });
    rotation.start();
    const runtime = new RuntimeConfig(store, events, { heartbeatS: 60, defaultPeriodS: 300, idleFrame: false });
    const timetable = new Timetable({ store, events, sessions, runtime, log: logs.log, schedule: () => ({ destroy: () => undefined }) });
    commands = new CommandHandler({ store, events, sessions, runtime, timetable, log: logs.log });
    service = new CheckinService({ store, roomCode: ROOM_CODE, onAir: () => rotation.current(), log: logs.log });
  }

  function shutDown(): void {
    rotation.stop();
    store.close();
  }

  beforeEach(async () => {
    vi.useFakeTimers({ now: W0_START + 120_000 });
    dir = tempDir();
    logs = memoryLogger();
    await boot();
  });

  afterEach(() => {
    shutDown();
    dir.cleanup();
    vi.useRealTimers();
  });

  const startSession = (id = SESSION_ID) => sessions.start({ id, courseId: 'CS101', periodS: 300, endsAt: null, source: 'cloud' }, Date.now());
  const checkins = () => outboxEvents(store).filter((e) => e.type === 'checkin.received');
  const results = () => outboxEvents(store).filter((e) => e.type === 'command.result').map((e) => e.data);

  /** Sends the set as the cloud does, one command per part; returns the results. */
  function sendSet(phones: readonly Phone[], sessionId = SESSION_ID) {
    const parts = keySetParts(sessionId, phones.map((p) => p.entry))!;
    return parts.map((part) => commands.handle(envelope('checkin_keys.set', part)));
  }

  /** A phone connects, reads a challenge, answers it (signed with `signWith` if given) and gets its receipt. */
  function checkIn(phone: Phone, signWith?: KeyObject): Receipt | null {
    const id = `c${++connections}`;
    service.connect(id, `aa:bb:cc:dd:ee:${(connections % 256).toString(16).padStart(2, '0')}`);
    const challenge = service.challenge(id);
    if (!challenge) throw new Error('no challenge');
    const decoded = decodeChallenge(challenge);
    if (!decoded.ok) throw new Error(decoded.reason);
    const { w } = decoded.value;
    const sessionId = (rotation.current() as { sessionId: string }).sessionId;
    const answer = answerChallenge({ challenge, advertised: { roomCode: ROOM_CODE, w, token: encoder.token(sessionId, w) }, privateKey: signWith ?? phone.privateKey, keyId: phone.keyId });
    if (!answer.ok) throw new Error(answer.reason);
    const receipt = service.checkin(id, answer.value);
    service.disconnect(id);
    return receipt;
  }

  describe('with the set for the session', () => {
    it('an unknown key is unknown_key and nothing is queued', () => {
      startSession();
      expect(sendSet([newPhone(), newPhone()])).toEqual([expect.objectContaining({ ok: true })]);
      expect(checkIn(newPhone())).toEqual({ status: 'unknown_key', w: W0 });
      expect(checkins()).toEqual([]);
    });

    it('a known key with a signature by another key is bad_signature and nothing is queued', () => {
      startSession();
      const alice = newPhone();
      sendSet([alice]);
      expect(checkIn(alice, newPhone().privateKey)).toEqual({ status: 'bad_signature', w: W0 });
      expect(checkins()).toEqual([]);
      // The nonce was used up: the same phone answering properly on a new challenge is queued.
      expect(checkIn(alice)).toEqual({ status: 'queued', w: W0 });
    });

    it('a known key with its own signature is queued, once per window', () => {
      startSession();
      const alice = newPhone();
      const bob = newPhone();
      sendSet([alice, bob]);
      expect(checkIn(alice)).toEqual({ status: 'queued', w: W0 });
      expect(checkIn(bob)).toEqual({ status: 'queued', w: W0 });
      expect(checkIn(alice)).toEqual({ status: 'duplicate', w: W0 });
      expect(checkins().map((e) => e.data.key_id)).toEqual([alice.entry.key_id, bob.entry.key_id]);
    });

    it('an empty set (no enrolled student has an active device) refuses every key', () => {
      startSession();
      expect(sendSet([])).toEqual([expect.objectContaining({ ok: true })]);
      expect(checkIn(newPhone())).toEqual({ status: 'unknown_key', w: W0 });
      expect(checkins()).toEqual([]);
    });

    it('a newer set replaces the one in use: a key added is queued, a key removed is unknown_key', () => {
      startSession();
      const alice = newPhone();
      const bob = newPhone();
      sendSet([alice]);
      expect(checkIn(bob)).toMatchObject({ status: 'unknown_key' });
      sendSet([bob]);
      expect(checkIn(bob)).toMatchObject({ status: 'queued' });
      expect(checkIn(alice)).toMatchObject({ status: 'unknown_key' });
      expect(checkins().map((e) => e.data.key_id)).toEqual([bob.entry.key_id]);
    });
  });

  describe('without a set for the session', () => {
    it('any key is queued, as before: the cloud decides', () => {
      startSession();
      const stranger = newPhone();
      expect(checkIn(stranger)).toEqual({ status: 'queued', w: W0 });
      // A wrong signature too: only the cloud can tell.
      vi.advanceTimersByTime(300_000);
      expect(checkIn(stranger, newPhone().privateKey)).toEqual({ status: 'queued', w: W0 + 1 });
      expect(checkins()).toHaveLength(2);
    });

    it("another session's set does not apply; the set is dropped when its session ends", () => {
      startSession(OTHER_SESSION);
      const alice = newPhone();
      sendSet([alice], OTHER_SESSION);
      expect(checkIn(newPhone())).toMatchObject({ status: 'unknown_key' });
      startSession(SESSION_ID); // replaces OTHER_SESSION
      expect(store.checkinKeys.lookup(OTHER_SESSION, alice.entry.key_id)).toEqual({ set: false });
      expect(checkIn(newPhone())).toMatchObject({ status: 'queued' });
    });
  });

  describe('the command', () => {
    it('a set in several parts is used once every part arrived; a repeated part is answered again and changes nothing', () => {
      startSession();
      const phones = Array.from({ length: KEYS_PER_PART + 3 }, newPhone);
      const parts = keySetParts(SESSION_ID, phones.map((p) => p.entry))!;
      expect(parts.map((p) => [p.part, p.parts, p.keys.length])).toEqual([[0, 2, KEYS_PER_PART], [1, 2, 3]]);
      const first = envelope('checkin_keys.set', parts[0]);
      expect(commands.handle(first)).toMatchObject({ ok: true });
      // Half a set is no set: the gateway still queues everything.
      expect(checkIn(newPhone())).toMatchObject({ status: 'queued' });
      expect(commands.handle(first)).toMatchObject({ ok: true });
      expect(commands.handle(envelope('checkin_keys.set', parts[1]))).toMatchObject({ ok: true });
      expect(store.checkinKeys.count(SESSION_ID)).toBe(KEYS_PER_PART + 3);
      expect(checkIn(newPhone())).toMatchObject({ status: 'unknown_key' });
      vi.advanceTimersByTime(300_000);
      expect(checkIn(phones.at(-1)!)).toMatchObject({ status: 'queued' });
      expect(checkIn(phones[0]!)).toMatchObject({ status: 'queued' });
      // One result per command, the repeat answered with the first's.
      expect(results()).toHaveLength(3);
      expect(results()[1]).toEqual(results()[0]);
    });

    it('every part of the largest set fits one MQTT message and passes the shared schema', () => {
      const phones = Array.from({ length: KEYS_PER_PART }, newPhone);
      const [part] = keySetParts(SESSION_ID, phones.map((p) => p.entry))!;
      const raw = envelope('checkin_keys.set', part);
      expect(Buffer.byteLength(raw)).toBeLessThan(MAX_PAYLOAD_BYTES);
      expect(parseCommand(raw)).toMatchObject({ ok: true });
      expect(keySetParts(SESSION_ID, Array.from({ length: KEYS_PER_PART * 50 + 1 }, (_, i) => ({ ...phones[0]!.entry, key_id: i.toString(16).padStart(32, '0') })))).toBeNull();
    });

    it('is refused, and leaves no set, for a key whose id is not its own, a digest the keys do not have, or a session not live', () => {
      const alice = newPhone();
      const bob = newPhone();
      const [good] = keySetParts(SESSION_ID, [alice.entry])!;
      expect(commands.handle(envelope('checkin_keys.set', good))).toMatchObject({ ok: false, error: { code: 'unknown_session' } });
      startSession();
      const swapped = { ...good!, keys: [{ key_id: bob.entry.key_id, key: alice.entry.key }] };
      expect(commands.handle(envelope('checkin_keys.set', swapped))).toMatchObject({ ok: false, error: { code: 'invalid_key' } });
      const notAKey = { ...good!, keys: [{ key_id: alice.entry.key_id, key: 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE' }] };
      expect(commands.handle(envelope('checkin_keys.set', notAKey))).toMatchObject({ ok: false, error: { code: 'invalid_key' } });
      const [otherDigest] = keySetParts(SESSION_ID, [bob.entry])!;
      expect(commands.handle(envelope('checkin_keys.set', { ...good!, digest: otherDigest!.digest }))).toMatchObject({ ok: false, error: { code: 'digest_mismatch' } });
      expect(commands.handle(envelope('checkin_keys.set', { ...good!, v: 2 }))).toMatchObject({ ok: false, error: { code: 'invalid_data' } });
      expect(store.checkinKeys.lookup(SESSION_ID, alice.entry.key_id)).toEqual({ set: false });
      expect(checkIn(newPhone())).toMatchObject({ status: 'queued' });

      sessions.end(SESSION_ID, 'command', Date.now());
      expect(commands.handle(envelope('checkin_keys.set', good))).toMatchObject({ ok: false, error: { code: 'session_not_live' } });
    });
  });

  it('the set survives a restart of the gateway, and is dropped when the session ends', async () => {
    startSession();
    const alice = newPhone();
    sendSet([alice]);
    shutDown();
    await boot();
    expect(checkIn(newPhone())).toMatchObject({ status: 'unknown_key' });
    expect(checkIn(alice)).toMatchObject({ status: 'queued' });
    sessions.end(SESSION_ID, 'command', Date.now());
    expect(store.db.prepare('SELECT (SELECT count(*) FROM checkin_keys) + (SELECT count(*) FROM checkin_key_sets) + (SELECT count(*) FROM checkin_key_parts) AS n').get()).toEqual({ n: 0 });
  });
});

/**
 * The bleno wiring of the check-in (gateway/ble/bleno-gatt.ts) driven the way bleno's own GATT
 * server drives it (lib/hci-socket/gatt.js: 'readRequest' with an offset for Read and Read Blob,
 * 'writeRequest', 'subscribe'), on bleno's real PrimaryService and Characteristic classes. What the
 * radio test (gatt-checkin.test.ts) cannot reach with noble's 256-byte MTU: long reads at an
 * offset, a write at an offset, ATT error codes, a second central, the gateway's own timeouts.
 * The bleno object around those classes is a stand-in: it records setServices and disconnect.
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BlenoGatt } from '../../gateway/ble/bleno-gatt.js';
import { CheckinService } from '../../gateway/ble/checkin-service.js';
import { GatewayEvents } from '../../gateway/events.js';
import { OnAirEncoder } from '../../gateway/on-air.js';
import { Rotation } from '../../gateway/rotation.js';
import { SessionManager } from '../../gateway/sessions.js';
import type { GatewayStore } from '../../gateway/store/store.js';
import { ATTENDANCE_SERVICE_UUID, CHALLENGE_CHAR_UUID, CHECKIN_CHAR_UUID, RECEIPT_CHAR_UUID, decodeChallenge, encodeReceipt } from '../../shared/checkin.js';
import { memoryLogger } from '../fakes/memory-logger.js';
import { RecordingAdvertiser } from '../fakes/recording-advertiser.js';
import { ROOM_CODE, ROOM_SECRET_HEX, SESSION_ID, classroomConfig, memoryStore, outboxEvents } from '../gateway/classroom.js';

const require = createRequire(import.meta.url);
const PrimaryService = require('@abandonware/bleno/lib/primary-service') as new (o: unknown) => { uuid: string; characteristics: Characteristic[] };
const Characteristic = require('@abandonware/bleno/lib/characteristic') as new (o: unknown) => Characteristic;

interface Characteristic extends EventEmitter {
  uuid: string;
  properties: string[];
}

const W0 = 5890752;
const W0_START = 1767225600000;
const PHONE = 'aa:bb:cc:dd:ee:01';

class StandInBleno extends EventEmitter {
  readonly PrimaryService = PrimaryService;
  readonly Characteristic = Characteristic;
  services: Array<{ uuid: string; characteristics: Characteristic[] }> = [];
  disconnects = 0;
  rssiReads = 0;
  setServices(services: Array<{ uuid: string; characteristics: Characteristic[] }>, callback?: (error?: Error | null) => void): void {
    this.services = services;
    callback?.(null);
  }
  disconnect(): void {
    this.disconnects++;
  }
  updateRssi(): void {
    this.rssiReads++;
  }
}

describe('check-in service on bleno', () => {
  let store: GatewayStore;
  let rotation: Rotation;
  let service: CheckinService;
  let gatt: BlenoGatt;
  let bleno: StandInBleno;
  let logs: ReturnType<typeof memoryLogger>;

  beforeEach(async () => {
    vi.useFakeTimers({ now: W0_START + 120_000 });
    logs = memoryLogger();
    const events = new GatewayEvents(logs.log);
    store = memoryStore(classroomConfig(), events);
    const advertiser = new RecordingAdvertiser();
    await advertiser.start();
    const sessions = new SessionManager({ store, events, roomCode: ROOM_CODE, log: logs.log });
    const encoder = new OnAirEncoder({ roomCode: ROOM_CODE, roomSecret: Buffer.from(ROOM_SECRET_HEX, 'hex'), companyId: 0xffff, localName: 'ATT' });
    rotation = new Rotation({ store, events, sessions, advertiser, encoder, idleFrame: () => false, log: logs.log });
    rotation.start();
    sessions.start({ id: SESSION_ID, courseId: 'CS101', periodS: 300, endsAt: null, source: 'cloud' }, Date.now());
    service = new CheckinService({ store, roomCode: ROOM_CODE, onAir: () => rotation.current(), log: logs.log });
    gatt = new BlenoGatt({ service, logger: logs.log });
    bleno = new StandInBleno();
    gatt.attach(bleno);
  });

  afterEach(() => {
    gatt.detach();
    rotation.stop();
    store.close();
    vi.useRealTimers();
  });

  const characteristic = (uuid: string) => bleno.services[0]!.characteristics.find((c) => c.uuid === uuid.replaceAll('-', ''))!;
  const read = (uuid: string, offset = 0) =>
    new Promise<[number, Buffer | null]>((resolve) => characteristic(uuid).emit('readRequest', offset, (result: number, data: Buffer | null) => resolve([result, data])));
  const write = (data: Buffer, offset = 0) =>
    new Promise<number>((resolve) => characteristic(CHECKIN_CHAR_UUID).emit('writeRequest', data, offset, false, resolve));

  it('registers the attendance service with the three characteristics and their properties', () => {
    expect(bleno.services.map((s) => s.uuid)).toEqual([ATTENDANCE_SERVICE_UUID.replaceAll('-', '')]);
    expect(characteristic(CHALLENGE_CHAR_UUID).properties).toEqual(['read']);
    expect(characteristic(CHECKIN_CHAR_UUID).properties).toEqual(['write']);
    expect(characteristic(RECEIPT_CHAR_UUID).properties).toEqual(['read', 'notify']);
  });

  it('a long read continues the same challenge at its offset; past the end is Invalid Offset', async () => {
    bleno.emit('accept', PHONE);
    const [ok, first] = await read(CHALLENGE_CHAR_UUID);
    expect(ok).toBe(0);
    expect(decodeChallenge(first!)).toMatchObject({ ok: true, value: { roomCode: ROOM_CODE, w: W0 } });
    expect(await read(CHALLENGE_CHAR_UUID, 22)).toEqual([0, first!.subarray(22)]);
    expect(await read(CHALLENGE_CHAR_UUID, 26)).toEqual([0x07, null]);
  });

  it('answers Unlikely Error (0x0E) when no phone is connected, and for a receipt before any write', async () => {
    expect(await read(CHALLENGE_CHAR_UUID)).toEqual([0x0e, null]);
    expect(await write(Buffer.alloc(97))).toBe(0x0e);
    bleno.emit('accept', PHONE);
    expect(await read(RECEIPT_CHAR_UUID)).toEqual([0x0e, null]);
  });

  it('a write at an offset is malformed; the receipt is notified to a subscriber and readable, also at an offset', async () => {
    bleno.emit('accept', PHONE);
    const notified: Buffer[] = [];
    characteristic(RECEIPT_CHAR_UUID).emit('subscribe', 20, (data: Buffer) => notified.push(data));
    expect(await write(Buffer.alloc(97, 1), 5)).toBe(0);
    const malformed = encodeReceipt({ status: 'malformed', w: W0 });
    expect(notified).toEqual([malformed]);
    expect(await read(RECEIPT_CHAR_UUID)).toEqual([0, malformed]);
    expect(await read(RECEIPT_CHAR_UUID, 2)).toEqual([0, malformed.subarray(2)]);
    expect(outboxEvents(store).filter((e) => e.type === 'checkin.received')).toHaveLength(0);
  });

  it('reads the RSSI when a phone connects and forgets the phone when it disconnects', async () => {
    bleno.emit('accept', PHONE);
    expect(bleno.rssiReads).toBe(1);
    await read(CHALLENGE_CHAR_UUID);
    expect(service.connected()).toBe(1);
    bleno.emit('disconnect', PHONE);
    expect(service.connected()).toBe(0);
    expect(await read(CHALLENGE_CHAR_UUID)).toEqual([0x0e, null]);
  });

  it('a second central while one is connected: the older one is forgotten, as bleno serves only the newer link', async () => {
    bleno.emit('accept', PHONE);
    bleno.emit('accept', 'aa:bb:cc:dd:ee:02');
    expect(service.connected()).toBe(1);
    expect(logs.lines.some((l) => l.msg === 'a second central connected; bleno serves the newer link only')).toBe(true);
    // A phone's address is personal data: never in a log line at warn or info.
    expect(logs.lines.filter((l) => JSON.stringify(l).includes(PHONE) && l.level > 20)).toEqual([]);
    // The older link's late disconnect does not end the newer one's state.
    bleno.emit('disconnect', PHONE);
    expect((await read(CHALLENGE_CHAR_UUID))[0]).toBe(0);
  });

  it('ends a connection 15 s after it began, and 1 s after its receipt', async () => {
    bleno.emit('accept', PHONE);
    vi.advanceTimersByTime(14_999);
    expect(bleno.disconnects).toBe(0);
    vi.advanceTimersByTime(1);
    expect(bleno.disconnects).toBe(1);
    bleno.emit('disconnect', PHONE);

    bleno.emit('accept', PHONE);
    await write(Buffer.alloc(3));
    vi.advanceTimersByTime(999);
    expect(bleno.disconnects).toBe(1);
    vi.advanceTimersByTime(1);
    expect(bleno.disconnects).toBe(2);
    bleno.emit('disconnect', PHONE);
    vi.advanceTimersByTime(20_000);
    expect(bleno.disconnects).toBe(2);
  });

  it('detach removes its listeners and the service, and forgets every phone', () => {
    bleno.emit('accept', PHONE);
    gatt.detach();
    expect(bleno.listenerCount('accept') + bleno.listenerCount('disconnect') + bleno.listenerCount('rssiUpdate')).toBe(0);
    expect(bleno.services).toEqual([]);
    expect(service.connected()).toBe(0);
    vi.advanceTimersByTime(20_000);
    expect(bleno.disconnects).toBe(0);
  });

  it('logs, and does not throw, when bleno refuses the service', () => {
    gatt.detach();
    const refusing = new StandInBleno();
    refusing.setServices = () => {
      throw new Error('no adapter');
    };
    expect(() => gatt.attach(refusing)).not.toThrow();
    expect(logs.lines.some((l) => l.msg === 'check-in service could not be set')).toBe(true);
    expect(refusing.listenerCount('accept')).toBe(0);
  });
});

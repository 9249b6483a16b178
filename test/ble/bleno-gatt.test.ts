/**
 * The bleno wiring of the check-in (gateway/ble/bleno-gatt.ts) driven the way bleno's own GATT
 * server drives it (lib/hci-socket/gatt.js: 'readRequest' with an offset for Read and Read Blob,
 * 'writeRequest', 'subscribe'), on bleno's real PrimaryService and Characteristic classes, with
 * the services each link gets from BlenoGatt as a LinkServer (bleno-links.ts). What the radio tests
 * (gatt-checkin.test.ts, gatt-multi-link.test.ts) cannot reach with noble's 256-byte MTU: long
 * reads at an offset, a write at an offset, ATT error codes, the gateway's own timeouts per link.
 * The links around those classes are a stand-in: it opens and closes links on the server and
 * records disconnect and Read RSSI per handle.
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BlenoGatt, type LinkHost } from '../../gateway/ble/bleno-gatt.js';
import type { LinkServer } from '../../gateway/ble/bleno-links.js';
import { CheckinService } from '../../gateway/ble/checkin-service.js';
import { GatewayEvents } from '../../gateway/events.js';
import { OnAirEncoder } from '../../gateway/on-air.js';
import { Rotation } from '../../gateway/rotation.js';
import { SessionManager } from '../../gateway/sessions.js';
import type { GatewayStore } from '../../gateway/store/store.js';
import {
  ATTENDANCE_SERVICE_UUID, CHALLENGE_CHAR_UUID, CHECKIN_CHAR_UUID, RECEIPT_CHAR_UUID, decodeChallenge, decodeReceipt, encodeCheckin, encodeReceipt,
} from '../../shared/checkin.js';
import { memoryLogger } from '../fakes/memory-logger.js';
import { RecordingAdvertiser } from '../fakes/recording-advertiser.js';
import { ROOM_CODE, ROOM_SECRET_HEX, SESSION_ID, classroomConfig, memoryStore, outboxEvents } from '../gateway/classroom.js';

const require = createRequire(import.meta.url);
const PrimaryService = require('@abandonware/bleno/lib/primary-service') as new (o: unknown) => Service;
const Characteristic = require('@abandonware/bleno/lib/characteristic') as new (o: unknown) => Characteristic;

interface Characteristic extends EventEmitter {
  uuid: string;
  properties: string[];
}
interface Service {
  uuid: string;
  characteristics: Characteristic[];
}

const W0 = 5890752;
const W0_START = 1767225600000;
const PHONE = 'aa:bb:cc:dd:ee:01';
const OTHER_PHONE = 'aa:bb:cc:dd:ee:02';

/** bleno's PrimaryService/Characteristic classes, and links that open and close on the server. */
class StandInLinks implements LinkHost {
  readonly bleno = Object.assign(new EventEmitter(), { PrimaryService, Characteristic });
  server: LinkServer | null = null;
  /** The services each open link got, by handle. */
  readonly services = new Map<number, Service[]>();
  disconnects: number[] = [];
  rssiReads: number[] = [];
  serve(server: LinkServer | null): void {
    this.server = server;
  }
  disconnect(handle: number): void {
    this.disconnects.push(handle);
  }
  readRssi(handle: number): void {
    this.rssiReads.push(handle);
  }
  open(handle: number, address: string): void {
    this.services.set(handle, this.server!.open({ handle, address, addressType: 'public' }) as Service[]);
  }
  close(handle: number, address: string, reason = 0x13): void {
    this.server?.close({ handle, address, addressType: 'public' }, reason);
  }
}

describe('check-in service on bleno', () => {
  let store: GatewayStore;
  let rotation: Rotation;
  let service: CheckinService;
  let gatt: BlenoGatt;
  let links: StandInLinks;
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
    links = new StandInLinks();
    gatt.attach(links.bleno, links);
  });

  afterEach(() => {
    gatt.detach();
    rotation.stop();
    store.close();
    vi.useRealTimers();
  });

  const characteristic = (uuid: string, handle = 0x40) => links.services.get(handle)![0]!.characteristics.find((c) => c.uuid === uuid.replaceAll('-', ''))!;
  const read = (uuid: string, offset = 0, handle = 0x40) =>
    new Promise<[number, Buffer | null]>((resolve) => characteristic(uuid, handle).emit('readRequest', offset, (result: number, data: Buffer | null) => resolve([result, data])));
  const write = (data: Buffer, offset = 0, handle = 0x40) =>
    new Promise<number>((resolve) => characteristic(CHECKIN_CHAR_UUID, handle).emit('writeRequest', data, offset, false, resolve));
  const checkinFor = (challenge: Buffer) => {
    const decoded = decodeChallenge(challenge);
    if (!decoded.ok) throw new Error(decoded.reason);
    return encodeCheckin({ keyId: Buffer.alloc(16, challenge[24]!), nonce: decoded.value.nonce, signature: Buffer.alloc(64, 7) });
  };
  const receiptOf = async (handle: number) => {
    const [result, data] = await read(RECEIPT_CHAR_UUID, 0, handle);
    expect(result).toBe(0);
    const decoded = decodeReceipt(data!);
    if (!decoded.ok) throw new Error(decoded.reason);
    return decoded.value;
  };

  it('serves each link the attendance service with the three characteristics and their properties, as objects of its own', () => {
    links.open(0x40, PHONE);
    links.open(0x41, OTHER_PHONE);
    for (const handle of [0x40, 0x41]) {
      expect(links.services.get(handle)!.map((s) => s.uuid)).toEqual([ATTENDANCE_SERVICE_UUID.replaceAll('-', '')]);
      expect(characteristic(CHALLENGE_CHAR_UUID, handle).properties).toEqual(['read']);
      expect(characteristic(CHECKIN_CHAR_UUID, handle).properties).toEqual(['write']);
      expect(characteristic(RECEIPT_CHAR_UUID, handle).properties).toEqual(['read', 'notify']);
    }
    expect(characteristic(CHALLENGE_CHAR_UUID, 0x40)).not.toBe(characteristic(CHALLENGE_CHAR_UUID, 0x41));
    expect(service.connected()).toBe(2);
  });

  it('a long read continues the same challenge at its offset; past the end is Invalid Offset', async () => {
    links.open(0x40, PHONE);
    const [ok, first] = await read(CHALLENGE_CHAR_UUID);
    expect(ok).toBe(0);
    expect(decodeChallenge(first!)).toMatchObject({ ok: true, value: { roomCode: ROOM_CODE, w: W0 } });
    expect(await read(CHALLENGE_CHAR_UUID, 22)).toEqual([0, first!.subarray(22)]);
    expect(await read(CHALLENGE_CHAR_UUID, 26)).toEqual([0x07, null]);
  });

  it('answers Unlikely Error (0x0E) for a receipt before any write, and on a link that has ended', async () => {
    links.open(0x40, PHONE);
    expect(await read(RECEIPT_CHAR_UUID)).toEqual([0x0e, null]);
    links.close(0x40, PHONE);
    // bleno may still hold the ended link's characteristics: they answer nothing any more.
    expect(await read(CHALLENGE_CHAR_UUID)).toEqual([0x0e, null]);
    expect(await write(Buffer.alloc(97))).toBe(0x0e);
  });

  it('a write at an offset is malformed; the receipt is notified to the link\'s subscriber and readable, also at an offset', async () => {
    links.open(0x40, PHONE);
    links.open(0x41, OTHER_PHONE);
    const notified: Buffer[] = [];
    const notifiedOther: Buffer[] = [];
    characteristic(RECEIPT_CHAR_UUID).emit('subscribe', 20, (data: Buffer) => notified.push(data));
    characteristic(RECEIPT_CHAR_UUID, 0x41).emit('subscribe', 20, (data: Buffer) => notifiedOther.push(data));
    expect(await write(Buffer.alloc(97, 1), 5)).toBe(0);
    const malformed = encodeReceipt({ status: 'malformed', w: W0 });
    expect(notified).toEqual([malformed]);
    expect(notifiedOther).toEqual([]);
    expect(await read(RECEIPT_CHAR_UUID)).toEqual([0, malformed]);
    expect(await read(RECEIPT_CHAR_UUID, 2)).toEqual([0, malformed.subarray(2)]);
    expect(await read(RECEIPT_CHAR_UUID, 0, 0x41)).toEqual([0x0e, null]);
    expect(outboxEvents(store).filter((e) => e.type === 'checkin.received')).toHaveLength(0);
  });

  it('two links at once: each its own nonce; one link\'s nonce written on the other is nonce_unknown and does not use it up', async () => {
    links.open(0x40, PHONE);
    links.open(0x41, OTHER_PHONE);
    const a = (await read(CHALLENGE_CHAR_UUID, 0, 0x40))[1]!;
    const b = (await read(CHALLENGE_CHAR_UUID, 0, 0x41))[1]!;
    expect(a.subarray(9)).not.toEqual(b.subarray(9));
    expect(await write(checkinFor(a), 0, 0x41)).toBe(0);
    expect(await receiptOf(0x41)).toEqual({ status: 'nonce_unknown', w: W0 });
    expect(await write(checkinFor(a), 0, 0x40)).toBe(0);
    expect(await receiptOf(0x40)).toEqual({ status: 'queued', w: W0 });
    const rows = outboxEvents(store).filter((e) => e.type === 'checkin.received');
    expect(rows.map((r) => r.data.peer)).toEqual([PHONE]);
  });

  it('reads the RSSI of each link as it opens, keeps it per link, and forgets a link when it closes, the other untouched', async () => {
    links.open(0x40, PHONE);
    links.open(0x41, OTHER_PHONE);
    expect(links.rssiReads).toEqual([0x40, 0x41]);
    links.server!.rssi({ handle: 0x41, address: OTHER_PHONE, addressType: 'public' }, -48);
    const b = (await read(CHALLENGE_CHAR_UUID, 0, 0x41))[1]!;
    links.close(0x40, PHONE, 0x08);
    expect(service.connected()).toBe(1);
    expect(await write(checkinFor(b), 0, 0x41)).toBe(0);
    expect(outboxEvents(store).filter((e) => e.type === 'checkin.received').map((e) => [e.data.peer, e.data.rssi])).toEqual([[OTHER_PHONE, -48]]);
  });

  it('ends each link 15 s after it began, and 1 s after its receipt, whatever the other links do', async () => {
    links.open(0x40, PHONE);
    vi.advanceTimersByTime(10_000);
    links.open(0x41, OTHER_PHONE);
    vi.advanceTimersByTime(4_999);
    expect(links.disconnects).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(links.disconnects).toEqual([0x40]);
    links.close(0x40, PHONE, 0x16);

    await write(Buffer.alloc(3), 0, 0x41);
    vi.advanceTimersByTime(999);
    expect(links.disconnects).toEqual([0x40]);
    vi.advanceTimersByTime(1);
    expect(links.disconnects).toEqual([0x40, 0x41]);
    links.close(0x41, OTHER_PHONE, 0x16);
    vi.advanceTimersByTime(20_000);
    expect(links.disconnects).toEqual([0x40, 0x41]);
  });

  it('a link without a usable peer address gets no service and is ended', () => {
    links.open(0x40, 'not-an-address');
    expect(links.services.get(0x40)).toEqual([]);
    expect(links.disconnects).toEqual([0x40]);
    expect(service.connected()).toBe(0);
  });

  it('detach stops serving, ends the links it served and forgets every phone; their timers are gone', () => {
    links.open(0x40, PHONE);
    links.open(0x41, OTHER_PHONE);
    gatt.detach();
    expect(links.server).toBeNull();
    expect(links.disconnects).toEqual([0x40, 0x41]);
    expect(service.connected()).toBe(0);
    vi.advanceTimersByTime(20_000);
    expect(links.disconnects).toEqual([0x40, 0x41]);
  });

  it('logs, and does not throw, when the links refuse the server', () => {
    gatt.detach();
    const refusing = new StandInLinks();
    refusing.serve = () => {
      throw new Error('no adapter');
    };
    expect(() => gatt.attach(refusing.bleno, refusing)).not.toThrow();
    expect(logs.lines.some((l) => l.msg === 'check-in service could not be set')).toBe(true);
  });

  it('never logs a phone\'s address above debug', async () => {
    links.open(0x40, PHONE);
    await write(Buffer.alloc(3));
    links.close(0x40, PHONE);
    expect(logs.lines.some((l) => JSON.stringify(l).includes(PHONE) && l.level === 20)).toBe(true);
    expect(logs.lines.filter((l) => JSON.stringify(l).includes(PHONE) && l.level > 20)).toEqual([]);
  });
});

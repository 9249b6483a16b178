/**
 * Several phones at once on the gateway's GATT check-in (docs/gateway.md §The check-in service):
 * the real gateway daemon, its BlenoAdvertiser and check-in service on the real bleno with its
 * links (gateway/ble/bleno-links.ts) on virtual hci0, and phones made of the real noble (hci1…)
 * plus shared/checkin-phone.ts. Ten phones hold links at the same time, each with its own nonce;
 * the room's beacon stays on air while phones are connected; a phone that vanishes mid-write
 * frees its link and its nonce without disturbing the others; the outbox holds one check-in per
 * phone.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVirtualAwareAdvertiser, createVirtualAwareScanner, ensureVirtualController } from '../../gateway/ble/radio.js';
import { InProcessAir, type AirPacket } from '../../gateway/ble/virtual/air.js';
import type { DataPdu } from '../../gateway/ble/virtual/air-link.js';
import { VirtualController } from '../../gateway/ble/virtual/controller.js';
import { controllerRegistry } from '../../gateway/ble/virtual/hci-socket.js';
import { installVirtualHci } from '../../gateway/ble/virtual/install.js';
import type { Scanner, ScanReport } from '../../gateway/ble/advertiser.js';
import { GatewayDaemon } from '../../gateway/daemon.js';
import { GatewayEvents } from '../../gateway/events.js';
import type { GatewayStore } from '../../gateway/store/store.js';
import { findAttendanceFrame } from '../../shared/advertisement.js';
import { decodeChallenge } from '../../shared/checkin.js';
import { answerChallenge, checkinKeyOf } from '../../shared/checkin-phone.js';
import type { Frame } from '../../shared/frame.js';
import { eventDataSchemas } from '../../shared/mqtt/messages.js';
import { eventually } from '../helpers/eventually.js';
import { ROOM_CODE, SESSION_ID, classroomConfig, memoryStore, outboxEvents } from '../gateway/classroom.js';
import { abandonLink, hearRoom, openCheckin, startCentral, whileConnected, writeCheckin, type CheckinCharacteristics, type Noble, type NoblePeripheral } from './central.js';
import { payloadForWindow, testLogger } from './classroom.js';

const GATEWAY = 'c0:ff:ee:00:09:00';
const phoneAddress = (n: number): string => `c0:ff:ee:00:09:${n.toString(16).padStart(2, '0')}`;
const PHONES = 14;
/** Links the gateway serves at once; its controller holds a few more, so the host's limit is the one that shows. */
const MAX_LINKS = 10;
const SCANNER_HCI = 30;
const ATT_WRITE_REQUEST = 0x12;
const isAirData = (packet: AirPacket): packet is DataPdu => (packet as { kind?: string }).kind === 'data';

interface Phone {
  n: number;
  noble: Noble;
  privateKey: KeyObject;
  keyId: Buffer;
}

interface Connected {
  phone: Phone;
  peripheral: NoblePeripheral;
  frame: Frame;
  chars: CheckinCharacteristics;
}

const air = new InProcessAir();
let gatewayController: VirtualController;
let store: GatewayStore;
let daemon: GatewayDaemon;
let scanner: Scanner;
const phones: Phone[] = [];
const phoneControllers: VirtualController[] = [];

beforeAll(async () => {
  const logger = testLogger();
  const config = classroomConfig({ mqtt_url: 'mqtt://127.0.0.1:1', heartbeat_s: 3600 });
  const events = new GatewayEvents(logger);
  store = memoryStore(config, events);
  // The gateway's controller, made here for its connection limit; createVirtualAwareAdvertiser finds it.
  installVirtualHci();
  gatewayController = new VirtualController({ deviceId: 0, air, address: GATEWAY, airIntervalMs: 30, rssi: -61, rssiJitterDb: 0, maxConnections: MAX_LINKS + 2 });
  controllerRegistry().set(0, gatewayController);
  const { advertiser, controller } = createVirtualAwareAdvertiser({ kind: 'virtual', logger, maxLinks: MAX_LINKS });
  expect(controller).toBe(gatewayController);
  daemon = new GatewayDaemon({ config, store, events, advertiser, log: logger, version: 'test', radioKind: 'virtual', env: {} });
  await daemon.start();
  daemon.sessions.start({ id: SESSION_ID, courseId: 'CS101', periodS: 300, endsAt: null, source: 'cloud' }, Date.now());
  for (let n = 1; n <= PHONES; n++) {
    phoneControllers[n] = ensureVirtualController(n, logger, { air, address: phoneAddress(n), rssi: -55, rssiJitterDb: 0 });
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    phones[n] = { n, noble: await startCentral(n), privateKey, keyId: checkinKeyOf(privateKey).keyId };
  }
  ({ scanner } = createVirtualAwareScanner({ kind: 'virtual', logger, hciDeviceId: SCANNER_HCI, virtual: { air, address: 'c0:ff:ee:00:09:ff' } }));
  await scanner.start();
}, 60_000);

afterAll(async () => {
  await scanner?.stop();
  await daemon?.stop();
  store?.close();
  await air.close();
});

/** Hears the room and opens a link, trying again when the link fails (phones answering the same advertising event collide: 0x3E). */
async function connect(phone: Phone, attempts = 30): Promise<Connected> {
  for (let attempt = 1; ; attempt++) {
    const { peripheral, frame } = await hearRoom(phone.noble, ROOM_CODE, GATEWAY);
    try {
      return { phone, peripheral, frame, chars: await openCheckin(peripheral) };
    } catch (error) {
      if (attempt >= attempts) throw error;
      await abandonLink(peripheral);
    }
  }
}

/** The check-in value `signer` writes for the challenge it read on its own link. */
function answer(signer: Connected, challenge: Buffer): Buffer {
  const answered = answerChallenge({ challenge, advertised: signer.frame, privateKey: signer.phone.privateKey, keyId: signer.phone.keyId });
  if (!answered.ok) throw new Error(answered.reason);
  return answered.value;
}

const linksUp = () => gatewayController.connections().filter((c) => c.role === 'peripheral').length;

const checkinRows = () =>
  outboxEvents(store)
    .filter((e) => e.type === 'checkin.received')
    .map((e) => eventDataSchemas['checkin.received'].parse(e.data));

async function disconnectAll(connected: Connected[]): Promise<void> {
  await Promise.all(connected.map((c) => (c.peripheral.state === 'connected' ? c.peripheral.disconnectAsync() : undefined)));
  await eventually(() => daemon.checkins.connected() === 0 && linksUp() === 0, 5_000, 'every link gone');
}

describe('GATT check-in with several phones at once', () => {
  it('ten phones hold links at once: each its own challenge and a queued receipt; a nonce of phone A written by phone B is nonce_unknown', async () => {
    const ten = phones.slice(1, 11);
    const connected = await Promise.all(ten.map((phone) => connect(phone)));
    expect(linksUp()).toBe(10);
    expect(daemon.checkins.connected()).toBe(10);
    // At the limit the gateway waits for a link to end before it advertises again.
    expect(gatewayController.linkLayer().advertisingEnabled).toBe(false);

    const challenges = await Promise.all(connected.map((c) => whileConnected(c.peripheral, c.chars.challenge.readAsync())));
    const nonces = challenges.map((challenge) => {
      const decoded = decodeChallenge(challenge);
      if (!decoded.ok) throw new Error(decoded.reason);
      return decoded.value.nonce.toString('hex');
    });
    expect(new Set(nonces).size).toBe(10);

    const [a, b] = connected as [Connected, Connected];
    const w = (daemon.rotation.current() as { w: number }).w;
    // B writes what A signed for A's nonce: the nonce is not B's link's.
    expect(await whileConnected(b.peripheral, writeCheckin(b.chars, answer(a, challenges[0]!)))).toEqual({ status: 'nonce_unknown', w });
    // ... and it did not use A's nonce up; B's own nonce was not touched either, but B must read a new one.
    expect(await whileConnected(a.peripheral, writeCheckin(a.chars, answer(a, challenges[0]!)))).toEqual({ status: 'queued', w });
    const fresh = await whileConnected(b.peripheral, b.chars.challenge.readAsync());
    const receipts = await Promise.all(
      connected.slice(1).map((c, i) => whileConnected(c.peripheral, writeCheckin(c.chars, answer(c, i === 0 ? fresh : challenges[i + 1]!)))),
    );
    expect(receipts).toEqual(Array.from({ length: 9 }, () => ({ status: 'queued', w })));

    const rows = checkinRows();
    expect(rows.map((r) => r.peer).sort()).toEqual(ten.map((p) => phoneAddress(p.n)).sort());
    for (const phone of ten) {
      expect(rows.filter((r) => r.key_id === phone.keyId.toString('hex'))).toEqual([expect.objectContaining({ peer: phoneAddress(phone.n), session_id: SESSION_ID, w, rssi: -61 })]);
    }
    await disconnectAll(connected);
    await eventually(() => gatewayController.linkLayer().advertisingEnabled, 3_000, 'advertising once links are free');
  }, 60_000);

  it('while three phones are connected a scanner still receives the room\'s token beacon', async () => {
    const three = await Promise.all(phones.slice(11, 14).map((phone) => connect(phone)));
    expect(linksUp()).toBe(3);
    const w = (daemon.rotation.current() as { w: number }).w;
    const expected = findAttendanceFrame(payloadForWindow(w).advertisingData);
    const heard: ScanReport[] = [];
    const onReport = (report: ScanReport): void => {
      if (report.address === GATEWAY) heard.push(report);
    };
    scanner.on('report', onReport);
    try {
      await eventually(() => heard.length >= 5, 3_000, 'five advertising events from the gateway');
    } finally {
      scanner.off('report', onReport);
    }
    expect(heard.map((r) => findAttendanceFrame(r.advertisingData))).toEqual(heard.map(() => expected));
    // The phones kept their links all along.
    expect(linksUp()).toBe(3);
    expect(three.every((c) => c.peripheral.state === 'connected')).toBe(true);
    await disconnectAll(three);
  }, 30_000);

  it('a phone that vanishes mid-write frees its link and its nonce; the others complete; the outbox holds one check-in per phone', async () => {
    // New keys for the phones of this test: a key is taken once per window.
    const fresh = phones.slice(1, 5).map((p) => {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      return { ...p, privateKey, keyId: checkinKeyOf(privateKey).keyId };
    });
    const before = checkinRows().length;
    const connected = await Promise.all(fresh.map((phone) => connect(phone)));
    const challenges = await Promise.all(connected.map((c) => whileConnected(c.peripheral, c.chars.challenge.readAsync())));
    const [gone, ...rest] = connected as [Connected, ...Connected[]];
    const lost = new Promise<number>((resolve) => gone.peripheral.once('disconnect', resolve));
    // The phone leaves the air as the first fragment of its ATT Write Request (opcode 0x12 after
    // the 4-byte L2CAP header) is on air: the gateway's answer never reaches it.
    const fragments: boolean[] = [];
    const stopListening = air.listen((packet) => {
      if (!isAirData(packet) || packet.from !== phoneAddress(gone.phone.n) || packet.seq === null) return;
      fragments.push(packet.start);
      if (packet.start && packet.payload[4] === ATT_WRITE_REQUEST) phoneControllers[gone.phone.n]!.leaveAir();
    });
    void gone.chars.checkin.writeAsync(answer(gone, challenges[0]!), false).catch(() => undefined);
    const receipts = await Promise.all(rest.map((c, i) => whileConnected(c.peripheral, writeCheckin(c.chars, answer(c, challenges[i + 1]!)))));
    expect(receipts.map((r) => r.status)).toEqual(['queued', 'queued', 'queued']);
    expect(await lost).toBe(0x08); // supervision timeout on the phone's side
    stopListening();
    // The whole 100-byte request went out (4 fragments of at most 27 octets) before the phone fell silent.
    expect(fragments).toEqual([true, false, false, false]);
    await eventually(() => daemon.checkins.connected() === 3 && linksUp() === 3, 3_000, 'the gateway to free the vanished phone\'s link');
    expect(rest.every((c) => c.peripheral.state === 'connected')).toBe(true);

    // Back in the room it checks in again on a new link: its earlier nonce is gone with its link.
    phoneControllers[gone.phone.n]!.joinAir();
    await abandonLink(gone.peripheral);
    const again = await connect(gone.phone);
    expect(await whileConnected(again.peripheral, writeCheckin(again.chars, answer(again, challenges[0]!)))).toMatchObject({ status: 'nonce_unknown' });
    const challenge = await whileConnected(again.peripheral, again.chars.challenge.readAsync());
    // Its first write reached the gateway before it vanished, so this one is a duplicate.
    expect(await whileConnected(again.peripheral, writeCheckin(again.chars, answer(again, challenge)))).toMatchObject({ status: 'duplicate' });

    const rows = checkinRows().slice(before);
    expect(rows.map((r) => r.key_id).sort()).toEqual(fresh.map((p) => p.keyId.toString('hex')).sort());
    await disconnectAll([...rest, again]);
  }, 60_000);
});

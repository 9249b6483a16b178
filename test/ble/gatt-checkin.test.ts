/**
 * The GATT check-in end to end on the radio: the real gateway daemon, its BlenoAdvertiser and
 * check-in service on the real bleno (virtual hci0), and phones made of the real noble (hci1…)
 * plus shared/checkin-phone.ts. A phone hears the room's frame, connects, reads the challenge,
 * signs it with its P-256 key, writes the check-in and gets the receipt by notification; the
 * daemon's outbox holds the checkin.received event. Also: the same nonce again is nonce_unknown,
 * and two phones checking in at once are both queued, each on its own link. Once the daemon holds
 * the session's check-in keys (a `checkin_keys.set` command, as its MQTT link hands it over), a
 * phone whose key is not among them is answered unknown_key, and one signing with another key
 * bad_signature, in the receipt of its first write, with nothing in the outbox.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNobleAdvertisement, type NobleAdvertisement } from '../../gateway/ble/noble-advertisement.js';
import { createVirtualAwareAdvertiser, ensureVirtualController } from '../../gateway/ble/radio.js';
import { InProcessAir } from '../../gateway/ble/virtual/air.js';
import type { VirtualController } from '../../gateway/ble/virtual/controller.js';
import { GatewayDaemon } from '../../gateway/daemon.js';
import { GatewayEvents } from '../../gateway/events.js';
import type { GatewayStore } from '../../gateway/store/store.js';
import { findAttendanceFrame } from '../../shared/advertisement.js';
import { ATTENDANCE_SERVICE_UUID, CHALLENGE_CHAR_UUID, CHECKIN_CHAR_UUID, RECEIPT_CHAR_UUID, decodeReceipt, type Receipt } from '../../shared/checkin.js';
import { answerChallenge, checkinKeyOf } from '../../shared/checkin-phone.js';
import type { Frame } from '../../shared/frame.js';
import { uuidv7 } from '../../shared/ids.js';
import { keySetParts } from '../../shared/mqtt/checkin-keys.js';
import { eventDataSchemas } from '../../shared/mqtt/messages.js';
import { eventually } from '../helpers/eventually.js';
import { ROOM_CODE, SESSION_ID, classroomConfig, memoryStore, outboxEvents } from '../gateway/classroom.js';
import { startCentral, whileConnected, type Noble, type NobleCharacteristic, type NoblePeripheral } from './central.js';
import { testLogger } from './classroom.js';

const GATEWAY = 'c0:ff:ee:00:07:00';
const GATEWAY_HEARS_DBM = -61;
const OTHER_SESSION = '0192f3a0-7c00-7000-8000-000000000002';
const KEYED_SESSION = '0192f3a0-7c00-7000-8000-000000000003';
const phoneAddress = (n: number): string => `c0:ff:ee:00:07:${n.toString(16).padStart(2, '0')}`;
const PHONES = 9;
const noDashes = (uuid: string) => uuid.replaceAll('-', '');

interface Phone {
  noble: Noble;
  privateKey: KeyObject;
  keyId: Buffer;
}

interface Visit {
  receipts: Receipt[];
  readBack: Receipt;
  attempts: number;
}

const air = new InProcessAir();
let gatewayController: VirtualController;
let store: GatewayStore;
let daemon: GatewayDaemon;
let events: GatewayEvents;
const phones: Phone[] = [];
const phoneControllers: VirtualController[] = [];

beforeAll(async () => {
  const logger = testLogger();
  const config = classroomConfig({ mqtt_url: 'mqtt://127.0.0.1:1', heartbeat_s: 3600 });
  events = new GatewayEvents(logger);
  store = memoryStore(config, events);
  const { advertiser, controller } = createVirtualAwareAdvertiser({
    kind: 'virtual',
    logger,
    virtual: { air, address: GATEWAY, airIntervalMs: 30, rssi: GATEWAY_HEARS_DBM, rssiJitterDb: 0 },
  });
  gatewayController = controller!;
  daemon = new GatewayDaemon({ config, store, events, advertiser, log: logger, version: 'test', radioKind: 'virtual', env: {} });
  await daemon.start();
  daemon.sessions.start({ id: SESSION_ID, courseId: 'CS101', periodS: 300, endsAt: null, source: 'cloud' }, Date.now());
  for (let n = 1; n <= PHONES; n++) {
    phoneControllers[n] = ensureVirtualController(n, logger, { air, address: phoneAddress(n), rssi: -55, rssiJitterDb: 0 });
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    phones[n] = { noble: await startCentral(n), privateKey, keyId: checkinKeyOf(privateKey).keyId };
  }
}, 30_000);

afterAll(async () => {
  await daemon.stop();
  store.close();
  await air.close();
});

/** Scans until the gateway's advertisement carries a frame of this room: what the app hears. */
async function hear(noble: Noble): Promise<{ peripheral: NoblePeripheral; frame: Frame }> {
  const heard = new Promise<{ peripheral: NoblePeripheral; frame: Frame }>((resolve) => {
    const onDiscover = (peripheral: NoblePeripheral & { advertisement: NobleAdvertisement }): void => {
      if (peripheral.address !== GATEWAY) return;
      const frame = findAttendanceFrame(encodeNobleAdvertisement(peripheral.advertisement));
      if (frame?.roomCode !== ROOM_CODE) return;
      noble.off('discover', onDiscover);
      resolve({ peripheral, frame });
    };
    noble.on('discover', onDiscover);
  });
  await noble.startScanningAsync([noDashes(ATTENDANCE_SERVICE_UUID)], true);
  const result = await heard;
  await noble.stopScanningAsync();
  return result;
}

function nextReceipt(characteristic: NobleCharacteristic): Promise<Receipt> {
  return new Promise((resolve, reject) =>
    characteristic.once('data', (data: Buffer) => {
      const decoded = decodeReceipt(data);
      if (decoded.ok) resolve(decoded.value);
      else reject(new Error(decoded.reason));
    }),
  );
}

interface Characteristics {
  challenge: NobleCharacteristic;
  checkin: NobleCharacteristic;
  receipt: NobleCharacteristic;
}

/** Connects to the gateway heard and discovers the check-in service, with the receipt subscribed. */
async function connectTo(peripheral: NoblePeripheral): Promise<Characteristics> {
  await peripheral.connectAsync();
  const chars = await whileConnected(
    peripheral,
    (async () => {
      const { characteristics } = await peripheral.discoverSomeServicesAndCharacteristicsAsync(
        [noDashes(ATTENDANCE_SERVICE_UUID)],
        [CHALLENGE_CHAR_UUID, CHECKIN_CHAR_UUID, RECEIPT_CHAR_UUID].map(noDashes),
      );
      const byUuid = (uuid: string) => characteristics.find((c) => c.uuid === noDashes(uuid))!;
      const found = { challenge: byUuid(CHALLENGE_CHAR_UUID), checkin: byUuid(CHECKIN_CHAR_UUID), receipt: byUuid(RECEIPT_CHAR_UUID) };
      await found.receipt.subscribeAsync();
      return found;
    })(),
  );
  return chars;
}

/** Hears the gateway and connects: a phone in the room that got its link on the first try. */
async function connect(phone: Phone): Promise<{ peripheral: NoblePeripheral; frame: Frame; chars: Characteristics }> {
  const { peripheral, frame } = await hear(phone.noble);
  return { peripheral, frame, chars: await connectTo(peripheral) };
}

/** Writes `value` to the check-in characteristic and waits for the notified receipt. */
async function write(chars: Characteristics, value: Buffer): Promise<Receipt> {
  const notified = nextReceipt(chars.receipt);
  await chars.checkin.writeAsync(value, false);
  return notified;
}

/**
 * What the app does (docs/protocol.md, "What the phone app does"), trying again when the link
 * fails as an app would; `writes` times the same answer is written on one connection.
 */
async function checkIn(phone: Phone, writes = 1, attempts = 20): Promise<Visit> {
  for (let attempt = 1; ; attempt++) {
    const { peripheral, frame } = await hear(phone.noble);
    try {
      const chars = await connectTo(peripheral);
      const visit = await whileConnected(
        peripheral,
        (async () => {
          const challenge = await chars.challenge.readAsync();
          const answer = answerChallenge({ challenge, advertised: frame, privateKey: phone.privateKey, keyId: phone.keyId });
          if (!answer.ok) throw new Error(answer.reason);
          const receipts: Receipt[] = [];
          for (let i = 0; i < writes; i++) receipts.push(await write(chars, answer.value));
          const readBack = decodeReceipt(await chars.receipt.readAsync());
          if (!readBack.ok) throw new Error(readBack.reason);
          return { receipts, readBack: readBack.value, attempts: attempt };
        })(),
      );
      await peripheral.disconnectAsync();
      return visit;
    } catch (error) {
      if (attempt >= attempts) throw error;
      // noble keeps the lost attempt's discovery waiting on the peripheral; it would answer twice.
      peripheral.removeAllListeners('servicesDiscover');
      if (peripheral.state === 'connected') await peripheral.disconnectAsync();
    }
  }
}

const disconnected = (peripheral: NoblePeripheral) => new Promise<number>((resolve) => peripheral.once('disconnect', (reason: number) => resolve(reason)));

const checkinRows = () =>
  outboxEvents(store)
    .filter((e) => e.type === 'checkin.received')
    .map((e) => eventDataSchemas['checkin.received'].parse(e.data));

describe('GATT check-in on the radio', () => {
  it('a phone reads the challenge, writes its check-in and is queued; the outbox holds the event; the beacon comes back', async () => {
    const phone = phones[1]!;
    const visit = await checkIn(phone);
    const w = (daemon.rotation.current() as { w: number }).w;
    expect(visit.receipts).toEqual([{ status: 'queued', w }]);
    expect(visit.readBack).toEqual({ status: 'queued', w });

    const rows = checkinRows();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ session_id: SESSION_ID, w, key_id: phone.keyId.toString('hex'), peer: phoneAddress(1), rssi: GATEWAY_HEARS_DBM });
    expect(rows[0]!.latency_ms).toBeLessThan(2_000);
    // The connection stopped connectable advertising; bleno starts it again once the phone has gone.
    await eventually(() => gatewayController.linkLayer().advertisingEnabled, 3_000, 'the beacon to be on air again');
    await eventually(() => daemon.checkins.connected() === 0, 3_000, 'the gateway to forget the phone');
  }, 30_000);

  it('the same nonce written a second time is nonce_unknown and adds nothing', async () => {
    const before = checkinRows().length;
    const visit = await checkIn(phones[2]!, 2);
    expect(visit.receipts.map((r) => r.status)).toEqual(['queued', 'nonce_unknown']);
    expect(visit.readBack.status).toBe('nonce_unknown');
    expect(checkinRows()).toHaveLength(before + 1);
  }, 30_000);

  it('two phones checking in at once are both queued, each with its own row', async () => {
    const before = checkinRows().length;
    const [a, b] = await Promise.all([checkIn(phones[3]!), checkIn(phones[4]!)]);
    expect(a!.receipts.map((r) => r.status)).toEqual(['queued']);
    expect(b!.receipts.map((r) => r.status)).toEqual(['queued']);
    const added = checkinRows().slice(before);
    expect(added.map((r) => r.peer).sort()).toEqual([phoneAddress(3), phoneAddress(4)]);
    expect(added.map((r) => r.key_id).sort()).toEqual([phones[3]!.keyId, phones[4]!.keyId].map((k) => k.toString('hex')).sort());
    await eventually(() => daemon.checkins.connected() === 0, 3_000, 'both phones gone');
  }, 60_000);

  it('a malformed write is answered malformed, and a phone that stays after its receipt is let go by the gateway', async () => {
    const before = checkinRows().length;
    const { peripheral, chars } = await connect(phones[5]!);
    const gone = disconnected(peripheral);
    const w = (daemon.rotation.current() as { w: number }).w;
    expect(await whileConnected(peripheral, write(chars, Buffer.from('01deadbeef', 'hex')))).toEqual({ status: 'malformed', w });
    // The phone does not disconnect: the gateway ends the link a second after the receipt (0x16 on its side, 0x13 here).
    expect(await gone).toBe(0x13);
    expect(checkinRows()).toHaveLength(before);
    await eventually(() => daemon.checkins.connected() === 0, 3_000, 'the gateway to forget the phone');
  }, 30_000);

  it('a phone that vanishes between the challenge and the write leaves nothing behind', async () => {
    const before = checkinRows().length;
    const { peripheral, chars } = await connect(phones[6]!);
    expect(await whileConnected(peripheral, chars.challenge.readAsync())).toHaveLength(25);
    expect(daemon.checkins.connected()).toBe(1);
    const gone = disconnected(peripheral);
    phoneControllers[6]!.leaveAir();
    expect(await gone).toBe(0x08); // supervision timeout
    await eventually(() => daemon.checkins.connected() === 0, 3_000, 'the gateway to forget the phone');
    phoneControllers[6]!.joinAir();
    expect(checkinRows()).toHaveLength(before);
    // The gateway goes on serving the others.
    expect((await checkIn(phones[1]!)).receipts[0]!.status).toMatch(/^(queued|duplicate)$/);
  }, 30_000);

  it('a rotation during a connection: a second phone gets in and is served, and the first is still served on its own link', async () => {
    const first = phones[8]!;
    const { peripheral, chars } = await connect(first);
    expect(gatewayController.linkLayer().advertisingEnabled).toBe(true);
    // A new session puts a new frame on air, which re-enables advertising while the phone is connected.
    daemon.sessions.start({ id: OTHER_SESSION, courseId: 'CS101', periodS: 300, endsAt: null, source: 'cloud' }, Date.now());
    await eventually(() => gatewayController.linkLayer().advertisingEnabled, 3_000, 'advertising re-enabled during the connection');
    const second = await checkIn(phones[9]!);
    expect(second.receipts.map((r) => r.status)).toEqual(['queued']);
    expect(checkinRows().at(-1)).toMatchObject({ session_id: OTHER_SESSION, peer: phoneAddress(9) });
    // The gateway serves both links (gateway/ble/bleno-links.ts): the first phone's read is answered.
    expect(await whileConnected(peripheral, chars.challenge.readAsync())).toHaveLength(25);
    await peripheral.disconnectAsync();
    peripheral.removeAllListeners('read');
    // Once it gave up, it checks in like any phone.
    await eventually(() => gatewayController.linkLayer().advertisingEnabled, 3_000, 'the beacon on air');
    expect((await checkIn(first)).receipts.map((r) => r.status)).toEqual(['queued']);
  }, 30_000);

  it('a session that ends between the challenge and the write: no_session, and no challenge to read (an ATT error, empty at the phone)', async () => {
    const before = checkinRows().length;
    const phone = phones[7]!;
    const { peripheral, frame, chars } = await connect(phone);
    const challenge = await whileConnected(peripheral, chars.challenge.readAsync());
    const answer = answerChallenge({ challenge, advertised: frame, privateKey: phone.privateKey, keyId: phone.keyId });
    if (!answer.ok) throw new Error(answer.reason);
    daemon.sessions.end(OTHER_SESSION, 'command', Date.now());
    expect((await whileConnected(peripheral, write(chars, answer.value))).status).toBe('no_session');
    expect(await whileConnected(peripheral, chars.challenge.readAsync())).toHaveLength(0);
    await peripheral.disconnectAsync();
    expect(checkinRows()).toHaveLength(before);
  }, 30_000);

  it("with the session's check-in keys: an unknown key is unknown_key and a wrong signature bad_signature at once, nothing queued; an enrolled key is queued", async () => {
    daemon.sessions.start({ id: KEYED_SESSION, courseId: 'CS101', periodS: 300, endsAt: null, source: 'cloud' }, Date.now());
    const enrolled = phones[1]!;
    const [part] = keySetParts(KEYED_SESSION, [{ key_id: enrolled.keyId.toString('hex'), key: checkinKeyOf(enrolled.privateKey).checkinKey }])!;
    const commandId = uuidv7();
    // What the daemon's MQTT link does with a message on its cmd topic.
    events.emit('command.received', Buffer.from(JSON.stringify({ id: commandId, type: 'checkin_keys.set', at: new Date().toISOString(), data: part })));
    expect(outboxEvents(store).filter((e) => e.type === 'command.result').at(-1)!.data).toEqual({ command_id: commandId, ok: true });
    await eventually(() => gatewayController.linkLayer().advertisingEnabled, 3_000, 'the beacon on air');

    const before = checkinRows().length;
    const w = (daemon.rotation.current() as { w: number }).w;
    const stranger = await checkIn(phones[2]!);
    expect(stranger.receipts).toEqual([{ status: 'unknown_key', w }]);
    expect(stranger.readBack).toEqual({ status: 'unknown_key', w });
    // Phone 3 claims the enrolled key's id but signs with its own key.
    const impostor = await checkIn({ ...phones[3]!, keyId: enrolled.keyId });
    expect(impostor.receipts).toEqual([{ status: 'bad_signature', w }]);
    expect(checkinRows()).toHaveLength(before);

    expect((await checkIn(enrolled)).receipts).toEqual([{ status: 'queued', w }]);
    expect(checkinRows().slice(before)).toMatchObject([{ session_id: KEYED_SESSION, key_id: enrolled.keyId.toString('hex'), peer: phoneAddress(1) }]);
    await eventually(() => daemon.checkins.connected() === 0, 3_000, 'the phones gone');
  }, 60_000);
});

/**
 * A phone for the connection tests: the real noble on a virtual controller, as a GATT central.
 * `visit` is what a phone does at the gateway — find it, connect, discover the test service
 * (gatt-service.ts), read, write, then disconnect — trying again when the link fails, as an app
 * would (several phones answering the same advertising event collide, and the losers' links fail
 * to be established, 0x3E). For the check-in service of docs/protocol.md §Proof of proximity:
 * `hearRoom` (scan until the room's frame is heard), `openCheckin` (connect, discover, subscribe
 * to the receipt), `writeCheckin` (write, wait for the notified receipt).
 */
import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { encodeNobleAdvertisement, type NobleAdvertisement } from '../../gateway/ble/noble-advertisement.js';
import { findAttendanceFrame } from '../../shared/advertisement.js';
import { ATTENDANCE_SERVICE_UUID, CHALLENGE_CHAR_UUID, CHECKIN_CHAR_UUID, RECEIPT_CHAR_UUID, decodeReceipt, type Receipt } from '../../shared/checkin.js';
import type { Frame } from '../../shared/frame.js';
import { READ_UUID, SERVICE_UUID, WRITE_UUID } from './gatt-service.js';

export interface NobleCharacteristic extends EventEmitter {
  uuid: string;
  readAsync(): Promise<Buffer>;
  writeAsync(data: Buffer, withoutResponse: boolean): Promise<void>;
  subscribeAsync(): Promise<void>;
}

export interface NoblePeripheral extends EventEmitter {
  address: string;
  state: string;
  connectAsync(options?: { minInterval?: number; maxInterval?: number; latency?: number; timeout?: number }): Promise<void>;
  disconnectAsync(): Promise<void>;
  discoverSomeServicesAndCharacteristicsAsync(services: string[], characteristics: string[]): Promise<{ services: Array<{ uuid: string }>; characteristics: NobleCharacteristic[] }>;
}

export interface Noble extends EventEmitter {
  readonly state: string;
  startScanningAsync(serviceUuids: string[], allowDuplicates: boolean): Promise<void>;
  stopScanningAsync(): Promise<void>;
}

const require = createRequire(import.meta.url);

/** noble on virtual hci`deviceId`, powered on (the virtual HCI socket must be installed already). */
export async function startCentral(deviceId: number): Promise<Noble> {
  const create = require('@abandonware/noble/with-custom-binding') as (options: { deviceId: number }) => Noble;
  const noble = create({ deviceId });
  if (noble.state !== 'poweredOn') {
    await new Promise<void>((resolve) => {
      const onState = (state: string): void => {
        if (state !== 'poweredOn') return;
        noble.off('stateChange', onState);
        resolve();
      };
      noble.on('stateChange', onState);
    });
  }
  return noble;
}

/** Scans until the peripheral at `address` advertises the test service. */
export async function discover(noble: Noble, address: string): Promise<NoblePeripheral> {
  const found = new Promise<NoblePeripheral>((resolve) => {
    const onDiscover = (peripheral: NoblePeripheral): void => {
      if (peripheral.address !== address) return;
      noble.off('discover', onDiscover);
      resolve(peripheral);
    };
    noble.on('discover', onDiscover);
  });
  await noble.startScanningAsync([SERVICE_UUID], false);
  const peripheral = await found;
  await noble.stopScanningAsync();
  return peripheral;
}

/** Rejects when the link drops before `work` is done (noble leaves GATT requests pending then). */
export function whileConnected<T>(peripheral: NoblePeripheral, work: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onDisconnect = (reason: number): void => reject(new Error(`disconnected (reason 0x${reason.toString(16)})`));
    peripheral.once('disconnect', onDisconnect);
    work.then(
      (value) => {
        peripheral.off('disconnect', onDisconnect);
        resolve(value);
      },
      (error: unknown) => {
        peripheral.off('disconnect', onDisconnect);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

export interface Visit {
  read: Buffer;
  attempts: number;
}

/** Connects, reads and writes `message`, disconnects; retries a failed link up to `attempts` times. */
export async function visit(peripheral: NoblePeripheral, message: Buffer, attempts = 20): Promise<Visit> {
  for (let attempt = 1; ; attempt++) {
    try {
      await peripheral.connectAsync();
      const read = await whileConnected(
        peripheral,
        (async () => {
          const { characteristics } = await peripheral.discoverSomeServicesAndCharacteristicsAsync([SERVICE_UUID], [READ_UUID, WRITE_UUID]);
          const value = await characteristics.find((c) => c.uuid === READ_UUID)!.readAsync();
          await characteristics.find((c) => c.uuid === WRITE_UUID)!.writeAsync(message, false);
          return value;
        })(),
      );
      await peripheral.disconnectAsync();
      return { read, attempts: attempt };
    } catch (error) {
      if (attempt >= attempts) throw error;
      await abandonLink(peripheral);
    }
  }
}

const noDashes = (uuid: string) => uuid.replaceAll('-', '');
const CHECKIN_SERVICE = noDashes(ATTENDANCE_SERVICE_UUID);

/** Scans until a gateway (the one at `address`, if given) advertises a frame of `roomCode`: what the app hears. */
export async function hearRoom(noble: Noble, roomCode: number, address?: string): Promise<{ peripheral: NoblePeripheral; frame: Frame }> {
  const heard = new Promise<{ peripheral: NoblePeripheral; frame: Frame }>((resolve) => {
    const onDiscover = (peripheral: NoblePeripheral & { advertisement: NobleAdvertisement }): void => {
      if (address !== undefined && peripheral.address !== address) return;
      const frame = findAttendanceFrame(encodeNobleAdvertisement(peripheral.advertisement));
      if (frame?.roomCode !== roomCode) return;
      noble.off('discover', onDiscover);
      resolve({ peripheral, frame });
    };
    noble.on('discover', onDiscover);
  });
  await noble.startScanningAsync([CHECKIN_SERVICE], true);
  const result = await heard;
  await noble.stopScanningAsync();
  return result;
}

export interface CheckinCharacteristics {
  challenge: NobleCharacteristic;
  checkin: NobleCharacteristic;
  receipt: NobleCharacteristic;
}

/** Connects and discovers the check-in service, with the receipt subscribed; rejects if the link drops meanwhile. */
export async function openCheckin(peripheral: NoblePeripheral): Promise<CheckinCharacteristics> {
  await peripheral.connectAsync();
  return whileConnected(
    peripheral,
    (async () => {
      const { characteristics } = await peripheral.discoverSomeServicesAndCharacteristicsAsync(
        [CHECKIN_SERVICE],
        [CHALLENGE_CHAR_UUID, CHECKIN_CHAR_UUID, RECEIPT_CHAR_UUID].map(noDashes),
      );
      const byUuid = (uuid: string) => characteristics.find((c) => c.uuid === noDashes(uuid))!;
      const found = { challenge: byUuid(CHALLENGE_CHAR_UUID), checkin: byUuid(CHECKIN_CHAR_UUID), receipt: byUuid(RECEIPT_CHAR_UUID) };
      await found.receipt.subscribeAsync();
      return found;
    })(),
  );
}

/** The next receipt notified on the receipt characteristic. */
export function nextReceipt(characteristic: NobleCharacteristic): Promise<Receipt> {
  return new Promise((resolve, reject) =>
    characteristic.once('data', (data: Buffer) => {
      const decoded = decodeReceipt(data);
      if (decoded.ok) resolve(decoded.value);
      else reject(new Error(decoded.reason));
    }),
  );
}

/** Writes `value` to the check-in characteristic and waits for the notified receipt. */
export async function writeCheckin(chars: CheckinCharacteristics, value: Buffer): Promise<Receipt> {
  const notified = nextReceipt(chars.receipt);
  await chars.checkin.writeAsync(value, false);
  return notified;
}

/** After a failed link: noble keeps the lost attempt's discovery waiting on the peripheral (it would answer twice). */
export async function abandonLink(peripheral: NoblePeripheral): Promise<void> {
  peripheral.removeAllListeners('servicesDiscover');
  if (peripheral.state === 'connected') await peripheral.disconnectAsync();
}

/**
 * The GATT side of the connection tests: loads the real bleno on a virtual controller and
 * serves a small service the tests define with bleno's own PrimaryService/Characteristic API —
 * a read characteristic with fixed bytes, a write-with-response one that records what it got,
 * and a notify one. Used in the test process and in the peripheral child process
 * (fixtures/gatt-peripheral.ts).
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';

export const SERVICE_UUID = '5a1e0001b0c14e6a9f3e7d2c1b0a0901';
export const READ_UUID = '5a1e0002b0c14e6a9f3e7d2c1b0a0901';
export const WRITE_UUID = '5a1e0003b0c14e6a9f3e7d2c1b0a0901';
export const NOTIFY_UUID = '5a1e0004b0c14e6a9f3e7d2c1b0a0901';
/** What the read characteristic returns: longer than one 27-byte ACL fragment on purpose. */
export const READ_VALUE = Buffer.from('att-virtual-radio read value 0123456789', 'ascii');

const RESULT_SUCCESS = 0x00;

type Callback = (result: number, data?: Buffer) => void;

interface BlenoCharacteristicOptions {
  uuid: string;
  properties: string[];
  onReadRequest?: (offset: number, callback: Callback) => void;
  onWriteRequest?: (data: Buffer, offset: number, withoutResponse: boolean, callback: (result: number) => void) => void;
  onSubscribe?: (maxValueSize: number, update: (data: Buffer) => void) => void;
  onUnsubscribe?: () => void;
}

/** The part of bleno's API these tests use (bleno ships no types). */
export interface Bleno extends EventEmitter {
  readonly state: string;
  PrimaryService: new (options: { uuid: string; characteristics: unknown[] }) => unknown;
  Characteristic: new (options: BlenoCharacteristicOptions) => unknown;
  startAdvertising(name: string, serviceUuids: string[], callback?: (error?: Error | null) => void): void;
  setServices(services: unknown[], callback?: (error?: Error | null) => void): void;
  disconnect(): void;
}

export interface TestPeripheral {
  bleno: Bleno;
  /** Every value written to the write characteristic, in order. */
  writes: Buffer[];
  /** Client addresses bleno accepted, and those it saw disconnect. */
  accepted: string[];
  disconnected: string[];
  /** Sends a notification to the subscribed central; false when nobody is subscribed. */
  notify(value: Buffer): boolean;
}

const require = createRequire(import.meta.url);

/** Loads bleno bound to virtual hci`deviceId` (the virtual HCI socket must be installed already). */
export function loadBleno(deviceId: number): Bleno {
  process.env.BLENO_HCI_DEVICE_ID = String(deviceId);
  return require('@abandonware/bleno') as Bleno;
}

/**
 * Serves the test service and advertises it under `name`; resolves once both are in place.
 * `onWrite` hears each write as it arrives (the child process reports it to its parent).
 */
export async function startTestPeripheral(bleno: Bleno, name: string, onWrite?: (value: Buffer) => void): Promise<TestPeripheral> {
  const peripheral: TestPeripheral = { bleno, writes: [], accepted: [], disconnected: [], notify: () => false };
  let subscriber: ((data: Buffer) => void) | null = null;
  peripheral.notify = (value) => {
    if (!subscriber) return false;
    subscriber(value);
    return true;
  };
  const service = new bleno.PrimaryService({
    uuid: SERVICE_UUID,
    characteristics: [
      new bleno.Characteristic({ uuid: READ_UUID, properties: ['read'], onReadRequest: (offset, callback) => callback(RESULT_SUCCESS, READ_VALUE.subarray(offset)) }),
      new bleno.Characteristic({
        uuid: WRITE_UUID,
        properties: ['write'],
        onWriteRequest: (data, _offset, _withoutResponse, callback) => {
          peripheral.writes.push(Buffer.from(data));
          onWrite?.(Buffer.from(data));
          callback(RESULT_SUCCESS);
        },
      }),
      new bleno.Characteristic({
        uuid: NOTIFY_UUID,
        properties: ['notify'],
        onSubscribe: (_maxValueSize, update) => {
          subscriber = update;
        },
        onUnsubscribe: () => {
          subscriber = null;
        },
      }),
    ],
  });
  bleno.on('accept', (address: string) => peripheral.accepted.push(address));
  bleno.on('disconnect', (address: string) => {
    subscriber = null;
    peripheral.disconnected.push(address);
  });
  await new Promise<void>((resolve, reject) => {
    const start = (): void => {
      bleno.startAdvertising(name, [SERVICE_UUID], (error) => {
        if (error) return reject(error);
        bleno.setServices([service], (setError) => (setError ? reject(setError) : resolve()));
      });
    };
    if (bleno.state === 'poweredOn') start();
    else bleno.once('stateChange', (state: string) => (state === 'poweredOn' ? start() : reject(new Error(`bleno ${state}`))));
  });
  return peripheral;
}

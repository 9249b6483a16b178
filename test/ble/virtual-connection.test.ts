/**
 * The real noble connects to the real bleno through the virtual air, in one process: a gateway
 * (bleno on hci0) serving the test's GATT service (gatt-service.ts) and phones (noble on hci1…)
 * that discover it, read, write, get a notification and disconnect. Both sides see every
 * disconnect, with the reason codes of the Core spec; ten phones are served one after another
 * (bleno holds one connection at a time, and a real controller stops connectable legacy
 * advertising when a connection is made); a phone that vanishes mid-connection ends in a
 * supervision timeout while the gateway goes on serving the others.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureVirtualController } from '../../gateway/ble/radio.js';
import { InProcessAir } from '../../gateway/ble/virtual/air.js';
import type { VirtualController } from '../../gateway/ble/virtual/controller.js';
import { eventually } from '../helpers/eventually.js';
import { discover, startCentral, visit, whileConnected, type Noble } from './central.js';
import { testLogger } from './classroom.js';
import { NOTIFY_UUID, READ_UUID, READ_VALUE, SERVICE_UUID, WRITE_UUID, loadBleno, startTestPeripheral, type TestPeripheral } from './gatt-service.js';

const GATEWAY = 'c0:ff:ee:00:05:00';
const phoneAddress = (n: number): string => `c0:ff:ee:00:05:${n.toString(16).padStart(2, '0')}`;
const PHONES = 12;

interface Disconnection {
  handle: number;
  peer: string;
  reason: number;
}

const air = new InProcessAir();
let gateway: VirtualController;
let peripheral: TestPeripheral;
const phones: VirtualController[] = [];
const centrals: Noble[] = [];
const gatewayDisconnections: Disconnection[] = [];
const phoneDisconnections = new Map<number, Disconnection[]>();

beforeAll(async () => {
  const logger = testLogger();
  gateway = ensureVirtualController(0, logger, { air, address: GATEWAY, airIntervalMs: 30, rssi: -61, rssiJitterDb: 0 });
  gateway.on('disconnection', (event: Disconnection) => gatewayDisconnections.push(event));
  for (let n = 1; n <= PHONES; n++) {
    const phone = ensureVirtualController(n, logger, { air, address: phoneAddress(n), rssi: -55, rssiJitterDb: 0 });
    phoneDisconnections.set(n, []);
    phone.on('disconnection', (event: Disconnection) => phoneDisconnections.get(n)!.push(event));
    phones[n] = phone;
  }
  peripheral = await startTestPeripheral(loadBleno(0), 'ATT GATT');
  for (let n = 1; n <= PHONES; n++) centrals[n] = await startCentral(n);
});

afterAll(async () => {
  await air.close();
});

describe('virtual connections, one process', () => {
  it('a phone discovers the service, reads, writes, gets a notification and disconnects; both sides see it', async () => {
    const noble = centrals[1]!;
    const found = await discover(noble, GATEWAY);
    await found.connectAsync();
    expect(gateway.connections()).toEqual([expect.objectContaining({ role: 'peripheral', peer: phoneAddress(1), established: true })]);
    expect(phones[1]!.connections()).toEqual([expect.objectContaining({ role: 'central', peer: GATEWAY })]);
    await eventually(() => peripheral.accepted.includes(phoneAddress(1)), 2_000, 'bleno to accept the phone');
    // A real controller stops connectable legacy advertising once it makes a connection (§7.8.9).
    expect(gateway.linkLayer().advertisingEnabled).toBe(false);

    const { services, characteristics } = await whileConnected(found, found.discoverSomeServicesAndCharacteristicsAsync([SERVICE_UUID], []));
    expect(services.map((service) => service.uuid)).toEqual([SERVICE_UUID]);
    expect(characteristics.map((characteristic) => characteristic.uuid).sort()).toEqual([READ_UUID, WRITE_UUID, NOTIFY_UUID].sort());
    const byUuid = (uuid: string) => characteristics.find((characteristic) => characteristic.uuid === uuid)!;

    expect(await byUuid(READ_UUID).readAsync()).toEqual(READ_VALUE);
    await byUuid(WRITE_UUID).writeAsync(Buffer.from('here in room 101'), false);
    expect(peripheral.writes.map((value) => value.toString())).toEqual(['here in room 101']);

    const notified = new Promise<Buffer>((resolve) => byUuid(NOTIFY_UUID).once('data', (data: Buffer) => resolve(data)));
    await byUuid(NOTIFY_UUID).subscribeAsync();
    await eventually(() => peripheral.notify(Buffer.from('0102030405', 'hex')), 2_000, 'the phone to subscribe');
    expect(await notified).toEqual(Buffer.from('0102030405', 'hex'));

    // Every ACL packet the controllers took was acknowledged by the peer and completed to the host.
    await eventually(() => gateway.connections()[0]?.inFlight === 0 && phones[1]!.connections()[0]?.inFlight === 0, 2_000, 'no packets in flight');

    const phoneSaw = new Promise<number>((resolve) => found.once('disconnect', (reason: number) => resolve(reason)));
    await found.disconnectAsync();
    // noble asked (reason 0x13), so its side learns 0x16 Connection Terminated by Local Host …
    expect(await phoneSaw).toBe(0x16);
    // … and bleno's side learns the reason noble gave: 0x13 Remote User Terminated Connection.
    await eventually(() => peripheral.disconnected.includes(phoneAddress(1)), 2_000, 'bleno to see the disconnect');
    expect(gatewayDisconnections.at(-1)).toMatchObject({ peer: phoneAddress(1), reason: 0x13 });
    expect(phoneDisconnections.get(1)!.at(-1)).toMatchObject({ peer: GATEWAY, reason: 0x16 });
    expect(gateway.connections()).toEqual([]);
    // bleno restarts advertising after the disconnect, so the next phone can connect.
    await eventually(() => gateway.linkLayer().advertisingEnabled, 2_000, 'advertising again');
  });

  it('serves ten phones that connect at once, each reading the value and writing its own message', async () => {
    const ten = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
    const writesBefore = peripheral.writes.length;
    const found = await Promise.all(ten.map((n) => discover(centrals[n]!, GATEWAY)));
    const visits = await Promise.all(found.map((p, i) => visit(p, Buffer.from(`phone ${ten[i]}`))));
    for (const result of visits) expect(result.read).toEqual(READ_VALUE);
    expect(
      peripheral.writes
        .slice(writesBefore)
        .map((value) => value.toString())
        .sort(),
    ).toEqual(ten.map((n) => `phone ${n}`).sort());
    // Each phone's successful link was its own connection on the gateway, with its own peer address.
    for (const n of ten) expect(peripheral.accepted).toContain(phoneAddress(n));
    // Phones that answered the same advertising event as the winner saw their link fail to be established.
    const failed = ten.flatMap((n) => phoneDisconnections.get(n)!.filter((event) => event.reason === 0x3e));
    expect(failed.length).toBe(visits.reduce((sum, result) => sum + result.attempts - 1, 0));
    await eventually(() => gateway.connections().length === 0, 2_000, 'the last link to end on the gateway');
  }, 60_000);

  it('a phone that vanishes mid-connection ends in a supervision timeout, and the gateway serves the next phone', async () => {
    const gone = await discover(centrals[12]!, GATEWAY);
    await gone.connectAsync();
    const { characteristics } = await whileConnected(gone, gone.discoverSomeServicesAndCharacteristicsAsync([SERVICE_UUID], [READ_UUID]));
    expect(await characteristics[0]!.readAsync()).toEqual(READ_VALUE);
    const phoneSaw = new Promise<number>((resolve) => gone.once('disconnect', (reason: number) => resolve(reason)));

    const vanishedAt = Date.now();
    phones[12]!.leaveAir();
    await eventually(() => peripheral.disconnected.includes(phoneAddress(12)), 3_000, 'bleno to see the phone gone');
    const elapsed = Date.now() - vanishedAt;
    // noble asks for a 420 ms supervision timeout (0x002A × 10 ms).
    expect(elapsed).toBeGreaterThanOrEqual(400);
    expect(gatewayDisconnections.at(-1)).toMatchObject({ peer: phoneAddress(12), reason: 0x08 });
    expect(await phoneSaw).toBe(0x08); // the phone's own controller lost the gateway too

    phones[12]!.joinAir();
    const next = await discover(centrals[1]!, GATEWAY);
    expect((await visit(next, Buffer.from('after the timeout'))).read).toEqual(READ_VALUE);
    expect(peripheral.writes.at(-1)?.toString()).toBe('after the timeout');
  });
});

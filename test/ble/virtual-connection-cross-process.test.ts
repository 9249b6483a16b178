/**
 * Connections across processes: this process hosts the air hub and a phone (the real noble);
 * a gateway process (fixtures/gatt-peripheral.ts, the real bleno) joins the hub. The phone
 * discovers the gateway's service, reads, writes, gets a notification and disconnects — both
 * processes see it — and when the gateway process dies mid-connection the phone's link ends in
 * a supervision timeout (0x08).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureVirtualController, hostVirtualAir, VIRTUAL_AIR_ENV } from '../../gateway/ble/radio.js';
import type { AirHub } from '../../gateway/ble/virtual/air-hub.js';
import type { VirtualController } from '../../gateway/ble/virtual/controller.js';
import { eventually } from '../helpers/eventually.js';
import { discover, startCentral, whileConnected, type Noble } from './central.js';
import { testLogger } from './classroom.js';
import { NOTIFY_UUID, READ_UUID, READ_VALUE, SERVICE_UUID, WRITE_UUID } from './gatt-service.js';

interface ChildMessage {
  type: string;
  address?: string;
  value?: string;
  sent?: boolean;
}

const PHONE = 'c0:ff:ee:00:06:01';
const dir = mkdtempSync(join(tmpdir(), 'att-conn-'));
let hub: AirHub;
let phone: VirtualController;
let noble: Noble;
const children: ChildProcess[] = [];

function startGateway(address: string, messages: ChildMessage[]): ChildProcess {
  const child = fork(fileURLToPath(new URL('./fixtures/gatt-peripheral.ts', import.meta.url)), [address], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, [VIRTUAL_AIR_ENV]: hub.address! },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  child.on('message', (message: ChildMessage) => messages.push(message));
  children.push(child);
  return child;
}

beforeAll(async () => {
  hub = await hostVirtualAir(`unix:${join(dir, 'air.sock')}`, testLogger());
  phone = ensureVirtualController(1, testLogger(), { air: hub.address!, address: PHONE });
  noble = await startCentral(1);
});

afterEach(() => {
  for (const child of children.splice(0)) child.kill();
});

afterAll(async () => {
  await hub.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('virtual connections between processes', () => {
  it('a phone here reads, writes, gets a notification from a gateway process and disconnects; both processes see it', async () => {
    const fromGateway: ChildMessage[] = [];
    startGateway('c0:ff:ee:00:06:00', fromGateway);
    await eventually(() => fromGateway.some((message) => message.type === 'ready'), 20_000, 'the gateway process to serve');
    const found = await discover(noble, 'c0:ff:ee:00:06:00');
    await found.connectAsync();
    await eventually(() => fromGateway.some((message) => message.type === 'accept' && message.address === PHONE), 3_000, 'the gateway to accept the phone');

    const { characteristics } = await whileConnected(found, found.discoverSomeServicesAndCharacteristicsAsync([SERVICE_UUID], []));
    const byUuid = (uuid: string) => characteristics.find((characteristic) => characteristic.uuid === uuid)!;
    expect(await whileConnected(found, byUuid(READ_UUID).readAsync())).toEqual(READ_VALUE);
    await whileConnected(found, byUuid(WRITE_UUID).writeAsync(Buffer.from('from another process'), false));
    await eventually(() => fromGateway.some((message) => message.type === 'write' && message.value === Buffer.from('from another process').toString('hex')), 3_000, 'the write to reach the gateway');

    const notified = new Promise<Buffer>((resolve) => byUuid(NOTIFY_UUID).once('data', (data: Buffer) => resolve(data)));
    await whileConnected(found, byUuid(NOTIFY_UUID).subscribeAsync());
    const gateway = children[0]!;
    await eventually(() => {
      gateway.send({ type: 'notify', value: 'cafe' });
      return fromGateway.some((message) => message.type === 'notified' && message.sent);
    }, 3_000, 'the gateway to notify');
    expect(await notified).toEqual(Buffer.from('cafe', 'hex'));

    const phoneSaw = new Promise<number>((resolve) => found.once('disconnect', (reason: number) => resolve(reason)));
    await found.disconnectAsync();
    expect(await phoneSaw).toBe(0x16);
    await eventually(() => fromGateway.some((message) => message.type === 'disconnect' && message.address === PHONE), 3_000, 'the gateway to see the disconnect');
  });

  it('a gateway process that dies mid-connection leaves the phone with a supervision timeout', async () => {
    const fromGateway: ChildMessage[] = [];
    const gateway = startGateway('c0:ff:ee:00:06:02', fromGateway);
    await eventually(() => fromGateway.some((message) => message.type === 'ready'), 20_000, 'the gateway process to serve');
    const found = await discover(noble, 'c0:ff:ee:00:06:02');
    await found.connectAsync();
    const { characteristics } = await whileConnected(found, found.discoverSomeServicesAndCharacteristicsAsync([SERVICE_UUID], [READ_UUID]));
    expect(await whileConnected(found, characteristics[0]!.readAsync())).toEqual(READ_VALUE);

    const phoneSaw = new Promise<number>((resolve) => found.once('disconnect', (reason: number) => resolve(reason)));
    const killedAt = Date.now();
    gateway.kill('SIGKILL');
    expect(await phoneSaw).toBe(0x08);
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(400); // noble's 420 ms supervision timeout
    expect(phone.connections()).toEqual([]);
  });
});

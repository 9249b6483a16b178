/**
 * The virtual controller speaks HCI the way bleno and noble need: every command answered with a
 * correctly sized event (Core v5.3 Vol 4 Part E §7; docs/radio.md), advertising state recorded
 * with timestamps, and what it hears on air reported as LE Advertising Reports.
 */
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { InProcessAir } from '../../gateway/ble/virtual/air.js';
import { VirtualController } from '../../gateway/ble/virtual/controller.js';
import { Opcode } from '../../gateway/ble/virtual/hci-packets.js';
import { VirtualHciSocket, controllerRegistry } from '../../gateway/ble/virtual/hci-socket.js';

function command(opcode: number, parameters: number[] | Buffer = []): Buffer {
  const body = Buffer.from(parameters);
  const packet = Buffer.alloc(4 + body.length);
  packet[0] = 0x01;
  packet.writeUInt16LE(opcode, 1);
  packet[3] = body.length;
  body.copy(packet, 4);
  return packet;
}

interface Complete {
  opcode: number;
  status: number;
  result: Buffer;
}

/** Sends one command and returns the Command Complete event's fields. */
async function send(socket: VirtualHciSocket, opcode: number, parameters: number[] | Buffer = []): Promise<Complete> {
  const reply = once(socket, 'data');
  socket.write(command(opcode, parameters));
  const [packet] = (await reply) as [Buffer];
  expect(packet[0]).toBe(0x04);
  expect(packet[1]).toBe(0x0e);
  expect(packet[2]).toBe(packet.length - 3); // parameter total length matches the bytes sent
  return { opcode: packet.readUInt16LE(4), status: packet[6]!, result: packet.subarray(7) };
}

function bound(controller: VirtualController): VirtualHciSocket {
  controllerRegistry().set(controller.deviceId, controller);
  const socket = new VirtualHciSocket();
  expect(socket.bindRaw(controller.deviceId)).toBe(controller.deviceId);
  socket.start();
  return socket;
}

afterEach(() => controllerRegistry().clear());

describe('virtual HCI controller', () => {
  it('answers the init sequence of bleno and noble with results of the sizes they read', async () => {
    const controller = new VirtualController({ deviceId: 7, address: '11:22:33:44:55:66' });
    const socket = bound(controller);
    expect(await send(socket, Opcode.SetEventMask, Buffer.from('fffffbff07f8bf3d', 'hex'))).toMatchObject({ status: 0, result: Buffer.alloc(0) });
    expect(await send(socket, Opcode.LeSetEventMask, Buffer.from('1f00000000000000', 'hex'))).toMatchObject({ status: 0 });
    const version = await send(socket, Opcode.ReadLocalVersion);
    expect(version.result).toHaveLength(8);
    expect(version.result[0]).toBeGreaterThanOrEqual(0x06); // Bluetooth 4.0+, else 'unsupported'
    expect(await send(socket, Opcode.WriteLeHostSupported, [1, 0])).toMatchObject({ status: 0 });
    expect((await send(socket, Opcode.ReadLeHostSupported)).result).toEqual(Buffer.from([1, 0]));
    expect((await send(socket, Opcode.ReadBdAddr)).result.toString('hex')).toBe('665544332211');
    expect((await send(socket, Opcode.LeReadBufferSize)).result).toEqual(Buffer.from([27, 0, 8]));
    expect((await send(socket, Opcode.ReadBufferSize)).result).toHaveLength(7);
    const supported = await send(socket, Opcode.ReadLocalSupportedCommands);
    expect(supported.result).toHaveLength(64);
    expect(supported.result[37]! & 0x30).toBe(0); // keeps noble on legacy scanning
    expect(await send(socket, Opcode.LeSetExtendedScanParameters, Buffer.alloc(13))).toMatchObject({ status: 0x01, result: Buffer.alloc(0) });
  });

  it('records advertising commands with wall-clock timestamps and keeps the link-layer state', async () => {
    const controller = new VirtualController({ deviceId: 3 });
    const socket = bound(controller);
    const before = Date.now();
    const params = Buffer.alloc(15);
    params.writeUInt16LE(160, 0); // 100 ms
    params.writeUInt16LE(160, 2);
    params[13] = 0x07;
    await send(socket, Opcode.LeSetAdvertisingParameters, params);
    const data = Buffer.alloc(32);
    Buffer.from('0201061aff', 'hex').copy(data, 1);
    data[0] = 5;
    await send(socket, Opcode.LeSetAdvertisingData, data);
    expect(await send(socket, Opcode.LeSetAdvertiseEnable, [1])).toMatchObject({ status: 0 });
    // Parameters while advertising: Command Disallowed (§7.8.5).
    expect(await send(socket, Opcode.LeSetAdvertisingParameters, params)).toMatchObject({ status: 0x0c });
    // A length byte over 31 is invalid (§7.8.7).
    const tooLong = Buffer.alloc(32);
    tooLong[0] = 32;
    expect(await send(socket, Opcode.LeSetAdvertisingData, tooLong)).toMatchObject({ status: 0x12 });

    expect(controller.linkLayer()).toMatchObject({ advertisingEnabled: true, advertisingIntervalMs: 100, advertisingData: Buffer.from('0201061aff', 'hex') });
    const log = controller.advertisingLog();
    expect(log.map((entry) => [entry.command, entry.status])).toEqual([
      ['LeSetAdvertisingParameters', 0],
      ['LeSetAdvertisingData', 0],
      ['LeSetAdvertiseEnable', 0],
      ['LeSetAdvertisingParameters', 0x0c],
      ['LeSetAdvertisingData', 0x12],
    ]);
    expect(log[1]!.parameters).toEqual(data);
    expect(log[0]!.at).toBeGreaterThanOrEqual(before - 1);
    expect(log.some((entry) => !Number.isInteger(entry.at))).toBe(true); // sub-millisecond resolution
  });

  it('goes down and comes back reset, failing writes meanwhile', async () => {
    const controller = new VirtualController({ deviceId: 4 });
    const socket = bound(controller);
    await send(socket, Opcode.LeSetAdvertiseEnable, [1]);
    controller.powerDown();
    expect(socket.isDevUp()).toBe(false);
    const failed = once(socket, 'error');
    socket.write(command(Opcode.ReadBdAddr));
    const [error] = (await failed) as [Error];
    expect(error.message).toBe('Network is down');
    controller.powerUp();
    expect(socket.isDevUp()).toBe(true);
    expect(controller.linkLayer().advertisingEnabled).toBe(false);
  });

  it('refuses an LE Create Connection with out-of-range parameters instead of leaving noble waiting', async () => {
    const controller = new VirtualController({ deviceId: 5 });
    const socket = bound(controller);
    const reply = once(socket, 'data');
    socket.write(command(Opcode.LeCreateConnection, Buffer.alloc(25))); // scan interval 0 (§7.8.12)
    const [packet] = (await reply) as [Buffer];
    expect(packet.subarray(0, 3).toString('hex')).toBe('040f04'); // Command Status
    expect(packet[3]).toBe(0x12); // Invalid HCI Command Parameters
    expect(packet.readUInt16LE(5)).toBe(Opcode.LeCreateConnection);
  });

  it('delivers what another controller advertises as ADV_IND and SCAN_RSP reports', async () => {
    const air = new InProcessAir();
    const beacon = new VirtualController({ deviceId: 10, address: 'aa:bb:cc:00:00:01', air, airIntervalMs: 20 });
    const phone = new VirtualController({ deviceId: 11, address: 'aa:bb:cc:00:00:02', air, rssi: -70, rssiJitterDb: 0 });
    const beaconSocket = bound(beacon);
    const phoneSocket = bound(phone);
    // Only LE meta events pass this filter (struct hci_filter, like noble's setSocketFilter).
    const filter = Buffer.alloc(16);
    filter.writeUInt32LE(1 << 4, 0);
    filter.writeUInt32LE(1 << (0x3e - 32), 8);
    phoneSocket.setFilter(filter);

    const adv = Buffer.alloc(32);
    adv[0] = 3;
    adv.set([0x02, 0x01, 0x06], 1);
    await send(beaconSocket, Opcode.LeSetAdvertisingData, adv);
    const scan = Buffer.alloc(32);
    scan[0] = 4;
    scan.set([0x03, 0x09, 0x41, 0x42], 1);
    await send(beaconSocket, Opcode.LeSetScanResponseData, scan);
    phone.receiveCommand(command(Opcode.LeSetScanParameters, [0x01, 0x12, 0x00, 0x12, 0x00, 0x00, 0x00]));
    phone.receiveCommand(command(Opcode.LeSetScanEnable, [0x01, 0x00]));

    const reports: string[] = [];
    phoneSocket.on('data', (packet: Buffer) => reports.push(packet.toString('hex')));
    await send(beaconSocket, Opcode.LeSetAdvertiseEnable, [1]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    // 04 3E len | 02 01 | type | 00 | addr LE | len | data | rssi (-70 = 0xba)
    expect(reports).toContain('043e0f' + '0201' + '00' + '00' + '010000ccbbaa' + '03' + '020106' + 'ba');
    expect(reports).toContain('043e10' + '0201' + '04' + '00' + '010000ccbbaa' + '04' + '03094142' + 'ba');
    expect(reports.every((hex) => hex.startsWith('043e'))).toBe(true); // Command Completes filtered out
    await air.close();
  });
});

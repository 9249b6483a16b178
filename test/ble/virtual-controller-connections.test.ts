/**
 * The virtual controller's connections seen from raw HCI hosts (no BLE stack in between), so
 * every event can be checked byte for byte: several centrals connected to one peripheral at
 * once, ACL data routed per handle with Number Of Completed Packets, the buffer limits of LE Read
 * Buffer Size, retransmission after a gap, LE Create Connection Cancel, connection update, the
 * remote information commands, Read RSSI, the Disconnect reasons on both sides, and supervision
 * timeouts when a peer leaves the air or loses its connection to the air hub.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AirHub, RemoteAir } from '../../gateway/ble/virtual/air-hub.js';
import { InProcessAir, type Air } from '../../gateway/ble/virtual/air.js';
import { VirtualController } from '../../gateway/ble/virtual/controller.js';
import { Opcode } from '../../gateway/ble/virtual/hci-packets.js';
import { VirtualHciSocket, controllerRegistry } from '../../gateway/ble/virtual/hci-socket.js';
import { eventually } from '../helpers/eventually.js';

const hex = (text: string): Buffer => Buffer.from(text.replace(/[\s|]/g, ''), 'hex');
const le16 = (value: number): string => Buffer.from([value & 0xff, value >> 8]).toString('hex');
const addressLE = (address: string): string => Buffer.from(address.replace(/:/g, ''), 'hex').reverse().toString('hex');

/** A host speaking raw HCI to one virtual controller, keeping every packet it received. */
class RawHost {
  readonly socket = new VirtualHciSocket();
  readonly received: Buffer[] = [];

  constructor(readonly controller: VirtualController) {
    controllerRegistry().set(controller.deviceId, controller);
    this.socket.bindRaw(controller.deviceId);
    this.socket.on('data', (packet: Buffer) => this.received.push(packet));
    this.socket.start();
  }

  send(opcode: number, parameters: Buffer | string = ''): void {
    const body = typeof parameters === 'string' ? hex(parameters) : parameters;
    this.socket.write(Buffer.concat([Buffer.from([0x01, opcode & 0xff, opcode >> 8, body.length]), body]));
  }

  acl(handle: number, boundary: number, data: Buffer): void {
    const header = Buffer.alloc(5);
    header[0] = 0x02;
    header.writeUInt16LE(handle | (boundary << 12), 1);
    header.writeUInt16LE(data.length, 3);
    this.socket.write(Buffer.concat([header, data]));
  }

  /** The hex of every received packet that starts with `prefix` (hex). */
  matching(prefix: string): string[] {
    return this.received.map((packet) => packet.toString('hex')).filter((packet) => packet.startsWith(prefix));
  }

  async next(prefix: string, what: string): Promise<string> {
    return eventually(() => this.matching(prefix)[0], 3_000, what);
  }

  clear(): void {
    this.received.length = 0;
  }
}

/** LE Create Connection (§7.8.12) as noble writes it, with a chosen supervision timeout. */
function createConnection(peer: string, timeoutUnits = 0x002a): string {
  return `6000 3000 00 00 ${addressLE(peer)} 00 0600 1200 0000 ${le16(timeoutUnits)} 0400 0600`;
}

/** LE Set Advertising Parameters (§7.8.5): 100 ms, the given advertising type, all channels. */
function advertisingParameters(type: number): string {
  return `a000 a000 ${type.toString(16).padStart(2, '0')} 00 00 000000000000 07 00`;
}

const air = new InProcessAir();
afterEach(() => controllerRegistry().clear());

let nextId = 20;
function host(address: string, on: Air = air): RawHost {
  return new RawHost(new VirtualController({ deviceId: nextId++, address, air: on, airIntervalMs: 20, rssi: -58, rssiJitterDb: 0 }));
}

async function advertise(peripheral: RawHost, type = 0x00): Promise<void> {
  peripheral.send(Opcode.LeSetAdvertisingParameters, advertisingParameters(type));
  peripheral.send(Opcode.LeSetAdvertiseEnable, '01');
  await eventually(() => peripheral.controller.linkLayer().advertisingEnabled, 2_000, 'advertising');
}

/** Connects `central` to `peripheral`; returns the handles each side was given. */
async function connect(central: RawHost, peripheral: RawHost, timeoutUnits?: number): Promise<{ central: number; peripheral: number }> {
  const before = peripheral.matching('043e1301').length;
  central.clear();
  central.send(Opcode.LeCreateConnection, createConnection(peripheral.controller.address, timeoutUnits));
  const complete = await central.next('043e1301', 'the central LE Connection Complete');
  const accepted = await eventually(() => peripheral.matching('043e1301')[before], 3_000, 'the peripheral LE Connection Complete');
  return { central: Buffer.from(complete, 'hex').readUInt16LE(5), peripheral: Buffer.from(accepted, 'hex').readUInt16LE(5) };
}

describe('virtual controller connections over raw HCI', () => {
  it('holds several centrals at once on one peripheral, each on its own handle, with both roles and addresses', async () => {
    const gateway = host('c0:ff:ee:00:07:00');
    const phones = [host('c0:ff:ee:00:07:01'), host('c0:ff:ee:00:07:02'), host('c0:ff:ee:00:07:03')];
    await advertise(gateway);

    phones[0]!.send(Opcode.LeCreateConnection, createConnection(gateway.controller.address));
    expect(await phones[0]!.next('040f04', 'Command Status')).toBe(`040f04 00 01 ${le16(Opcode.LeCreateConnection)}`.replace(/ /g, ''));
    const central = await phones[0]!.next('043e1301', 'LE Connection Complete on the central');
    // central: role 00, peer = the gateway, interval 0x0012 (Connection_Interval_Max), latency 0, timeout 0x2a, SCA 00
    expect(central).toBe(`043e13 01 00 4000 00 00 ${addressLE('c0:ff:ee:00:07:00')} 1200 0000 2a00 00`.replace(/ /g, ''));
    const peripheral = await gateway.next('043e1301', 'LE Connection Complete on the peripheral');
    expect(peripheral).toBe(`043e13 01 00 4000 01 00 ${addressLE('c0:ff:ee:00:07:01')} 1200 0000 2a00 05`.replace(/ /g, ''));
    // Connectable legacy advertising stops when it makes a connection (§7.8.9) …
    expect(gateway.controller.linkLayer().advertisingEnabled).toBe(false);
    // … and goes on when the host enables it again, so more phones connect.
    for (const phone of phones.slice(1)) {
      gateway.send(Opcode.LeSetAdvertiseEnable, '01');
      await connect(phone, gateway);
    }
    const held = gateway.controller.connections();
    expect(held.map((link) => [link.role, link.peer])).toEqual(phones.map((phone) => ['peripheral', phone.controller.address]));
    expect(new Set(held.map((link) => link.handle)).size).toBe(3);

    // ACL from phone 2 reaches the gateway on phone 2's handle, start flag 0b10; phone 2 gets its NOCP.
    const handleOfPhone2 = held[1]!.handle;
    phones[1]!.acl(0x0040, 0b00, hex('0300 0400 0a0c00'));
    expect(await gateway.next('02', 'ACL at the gateway')).toBe(`02 ${le16(handleOfPhone2 | 0x2000)} 0700 0300 0400 0a0c00`.replace(/ /g, ''));
    expect(await phones[1]!.next('0413', 'Number Of Completed Packets')).toBe('0413 05 01 4000 0100'.replace(/ /g, ''));
    // The gateway answers phone 3 only.
    gateway.acl(held[2]!.handle, 0b00, hex('0100 0400 0b'));
    expect(await phones[2]!.next('02', 'ACL at phone 3')).toBe('02 4020 0500 0100 0400 0b'.replace(/ /g, ''));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(phones[0]!.matching('02')).toEqual([]);

    // The gateway disconnects phone 1: it learns 0x16, phone 1 the reason it gave (0x13); the others stay.
    gateway.send(Opcode.Disconnect, `${le16(held[0]!.handle)} 13`);
    expect(await gateway.next('040504', 'Disconnection Complete at the gateway')).toBe(`040504 00 ${le16(held[0]!.handle)} 16`.replace(/ /g, ''));
    expect(await phones[0]!.next('040504', 'Disconnection Complete at phone 1')).toBe('040504 00 4000 13'.replace(/ /g, ''));
    expect(gateway.controller.connections().map((link) => link.peer)).toEqual([phones[1]!.controller.address, phones[2]!.controller.address]);
  });

  it('respects the buffers it announced: overflow is reported, over-long packets dropped, a gap is sent again, completions add up', async () => {
    const gateway = host('c0:ff:ee:00:08:00');
    const phone = host('c0:ff:ee:00:08:01');
    await advertise(gateway);
    const handles = await connect(phone, gateway, 0x0c80); // 32 s: the gap below must not end the link
    const dropped: Array<{ reason: string }> = [];
    phone.controller.on('aclDropped', (event: { reason: string }) => dropped.push(event));

    gateway.controller.leaveAir();
    phone.clear();
    phone.acl(handles.central, 0b00, Buffer.alloc(28)); // LE Read Buffer Size said 27
    for (let i = 0; i < 9; i++) phone.acl(handles.central, 0b00, hex(`0100 0400 ${i.toString(16).padStart(2, '0')}`));
    expect(await phone.next('041a', 'Data Buffer Overflow')).toBe('041a0101');
    expect(dropped.map((event) => event.reason)).toEqual(['longer than the buffer', 'buffer overflow']);
    expect(phone.controller.connections()[0]!.inFlight).toBe(8);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(phone.matching('0413')).toEqual([]); // nothing delivered, nothing completed

    gateway.controller.joinAir();
    await eventually(() => gateway.matching('02').length === 8, 3_000, 'the eight packets after the gap');
    expect(gateway.matching('02').map((packet) => packet.slice(-2))).toEqual(['00', '01', '02', '03', '04', '05', '06', '07']);
    await eventually(() => phone.matching('0413').reduce((sum, packet) => sum + Buffer.from(packet, 'hex').readUInt16LE(6), 0) === 8, 2_000, 'eight completions');
    expect(phone.controller.connections()[0]!.inFlight).toBe(0);
  });

  it('cancels a pending LE Create Connection with Command Complete and then LE Connection Complete 0x02', async () => {
    const phone = host('c0:ff:ee:00:09:01');
    const beacon = host('c0:ff:ee:00:09:00');
    await advertise(beacon, 0x03); // ADV_NONCONN_IND: heard, but never connects
    phone.send(Opcode.LeCreateConnection, createConnection(beacon.controller.address));
    await phone.next('040f04', 'Command Status');
    phone.clear();
    phone.send(Opcode.LeCreateConnection, createConnection('c0:ff:ee:00:09:02'));
    expect(await phone.next('040f04', 'Command Status')).toBe(`040f04 0c 01 ${le16(Opcode.LeCreateConnection)}`.replace(/ /g, '')); // one at a time
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(phone.matching('043e')).toEqual([]);
    phone.send(Opcode.LeCreateConnectionCancel);
    await eventually(() => phone.received.length >= 3, 2_000, 'the cancel answers');
    expect(phone.received.slice(1).map((packet) => packet.toString('hex'))).toEqual([
      `040e04 01 ${le16(Opcode.LeCreateConnectionCancel)} 00`.replace(/ /g, ''),
      `043e13 01 02 0000 00 00 ${addressLE('c0:ff:ee:00:09:00')} 0000 0000 0000 00`.replace(/ /g, ''),
    ]);
    phone.clear();
    phone.send(Opcode.LeCreateConnectionCancel);
    expect(await phone.next('040e', 'Command Complete')).toBe(`040e04 01 ${le16(Opcode.LeCreateConnectionCancel)} 0c`.replace(/ /g, ''));
  });

  it('answers the commands around a connection: RSSI, remote version and features, update, encryption, bad handles and reasons', async () => {
    const gateway = host('c0:ff:ee:00:0a:00');
    const phone = host('c0:ff:ee:00:0a:01');
    phone.send(Opcode.LeSetEventMask, '1f02000000000000'); // ask for LE Enhanced Connection Complete (bit 9)
    await advertise(gateway);
    phone.send(Opcode.LeCreateConnection, createConnection(gateway.controller.address));
    const enhanced = await phone.next('043e1f0a', 'LE Enhanced Connection Complete');
    expect(enhanced).toBe(`043e1f 0a 00 4000 00 00 ${addressLE('c0:ff:ee:00:0a:00')} ${'00'.repeat(12)} 1200 0000 2a00 00`.replace(/ /g, ''));
    await eventually(() => phone.controller.connections()[0]?.established, 2_000, 'the link established');
    const handle = 0x0040;

    phone.clear();
    phone.send(Opcode.ReadRssi, le16(handle));
    expect(await phone.next('040e', 'Read RSSI')).toBe(`040e07 01 ${le16(Opcode.ReadRssi)} 00 4000 c6`.replace(/ /g, '')); // -58 dBm
    phone.send(Opcode.ReadRemoteVersion, le16(handle));
    expect(await phone.next('040c', 'Read Remote Version Information Complete')).toBe('040c08 00 4000 09 ffff 0000'.replace(/ /g, ''));
    phone.send(Opcode.LeReadRemoteFeatures, le16(handle));
    expect(await phone.next('043e0c04', 'LE Read Remote Features Complete')).toBe('043e0c 04 00 4000 0200000000000000'.replace(/ /g, ''));
    expect(phone.matching('040f04').slice(0, 2)).toEqual([
      `040f04 00 01 ${le16(Opcode.ReadRemoteVersion)}`.replace(/ /g, ''),
      `040f04 00 01 ${le16(Opcode.LeReadRemoteFeatures)}`.replace(/ /g, ''),
    ]);

    phone.clear();
    gateway.clear();
    phone.send(Opcode.LeConnectionUpdate, `${le16(handle)} 1000 1800 0400 f401 0000 0000`);
    expect(await phone.next('043e0a03', 'LE Connection Update Complete (central)')).toBe('043e0a 03 00 4000 1800 0400 f401'.replace(/ /g, ''));
    expect(await gateway.next('043e0a03', 'LE Connection Update Complete (peripheral)')).toBe('043e0a 03 00 4000 1800 0400 f401'.replace(/ /g, ''));
    expect(gateway.controller.connections()[0]).toMatchObject({ intervalUnits: 0x18, latency: 4, timeoutUnits: 0x1f4 });

    phone.clear();
    phone.send(Opcode.LeStartEncryption, `${le16(handle)} ${'00'.repeat(26)}`);
    phone.send(Opcode.Disconnect, '4100 13');
    phone.send(Opcode.Disconnect, `${le16(handle)} 00`);
    phone.send(Opcode.ReadRssi, '4100');
    await eventually(() => phone.received.length >= 4, 2_000, 'four answers');
    expect(phone.received.map((packet) => packet.toString('hex'))).toEqual([
      `040f04 11 01 ${le16(Opcode.LeStartEncryption)}`.replace(/ /g, ''), // no LE Encryption in this controller
      `040f04 02 01 ${le16(Opcode.Disconnect)}`.replace(/ /g, ''), // Unknown Connection Identifier
      `040f04 12 01 ${le16(Opcode.Disconnect)}`.replace(/ /g, ''), // 0x00 is no reason Disconnect accepts
      `040e07 01 ${le16(Opcode.ReadRssi)} 02 4100 00`.replace(/ /g, ''),
    ]);
    expect(phone.controller.connections()).toHaveLength(1);
  });

  it('ends a link with a supervision timeout (0x08) on the side left behind when the peer leaves the air', async () => {
    const gateway = host('c0:ff:ee:00:0b:00');
    const phone = host('c0:ff:ee:00:0b:01');
    await advertise(gateway);
    const handles = await connect(phone, gateway, 0x0014); // 200 ms
    const left = Date.now();
    phone.controller.leaveAir();
    expect(await gateway.next('040504', 'Disconnection Complete')).toBe(`040504 00 ${le16(handles.peripheral)} 08`.replace(/ /g, ''));
    expect(Date.now() - left).toBeGreaterThanOrEqual(190);
    expect(await phone.next('040504', 'Disconnection Complete at the phone')).toBe(`040504 00 ${le16(handles.central)} 08`.replace(/ /g, ''));
  });

  it('ends a link with a supervision timeout when the peer loses its connection to the air hub', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'att-link-'));
    const hub = new AirHub(`unix:${join(dir, 'air.sock')}`);
    const address = await hub.start();
    const gatewayAir = new RemoteAir(address);
    const phoneAir = new RemoteAir(address);
    try {
      await Promise.all([gatewayAir.connect(), phoneAir.connect()]);
      const gateway = host('c0:ff:ee:00:0c:00', gatewayAir);
      const phone = host('c0:ff:ee:00:0c:01', phoneAir);
      await advertise(gateway);
      const handles = await connect(phone, gateway);
      await phoneAir.close();
      expect(await gateway.next('040504', 'Disconnection Complete')).toBe(`040504 00 ${le16(handles.peripheral)} 08`.replace(/ /g, ''));
    } finally {
      await gatewayAir.close();
      await hub.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * The air hub relays advertising events between processes over loopback TCP or a Unix socket;
 * here two RemoteAir clients stand in for the other processes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AirPacket } from '../../gateway/ble/virtual/air.js';
import { AirHub, RemoteAir, parseAirAddress } from '../../gateway/ble/virtual/air-hub.js';
import { eventually } from '../helpers/eventually.js';

const packet = (from: string, adv: string): AirPacket => ({
  from,
  advertisingData: Buffer.from(adv, 'hex'),
  scanResponse: Buffer.from('0309', 'hex'),
  at: Date.now() + 0.25,
});

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

describe('virtual air hub', () => {
  it('parses the addresses ATTENDANCE_VIRTUAL_AIR accepts', () => {
    expect(parseAirAddress('tcp://127.0.0.1:4567')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 4567 });
    expect(parseAirAddress('unix:/run/att/air.sock')).toEqual({ kind: 'unix', path: '/run/att/air.sock' });
    expect(parseAirAddress('/tmp/air.sock')).toEqual({ kind: 'unix', path: '/tmp/air.sock' });
    expect(() => parseAirAddress('air.sock')).toThrow(/absolute/);
  });

  it('relays packets between clients and the hosting process over loopback TCP, dropping garbage', async () => {
    const hub = new AirHub('tcp://127.0.0.1:0');
    const address = await hub.start();
    cleanup.push(() => hub.close());
    expect(address).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    const gateway = new RemoteAir(address);
    const phone = new RemoteAir(address);
    cleanup.push(() => gateway.close(), () => phone.close());
    await Promise.all([gateway.connect(), phone.connect()]);

    const heardByPhone: AirPacket[] = [];
    const heardByHub: AirPacket[] = [];
    phone.listen((p) => heardByPhone.push(p));
    hub.listen((p) => heardByHub.push(p));

    // A client that speaks garbage is ignored, not fatal.
    const { port } = parseAirAddress(address) as { port: number };
    const rogue = net.connect(port, '127.0.0.1');
    cleanup.push(() => void rogue.destroy());
    rogue.write('not json\n{"from":"zz","adv":"00","scan":"","at":1}\n');

    const sent = packet('aa:bb:cc:dd:ee:01', '020106');
    await eventually(() => {
      gateway.transmit(sent);
      return heardByPhone.length > 0 && heardByHub.length > 0;
    }, 3_000, 'the packet to cross the hub');
    expect(heardByPhone[0]).toEqual(sent);
    expect(heardByHub[0]).toEqual(sent);
    expect([...heardByPhone, ...heardByHub].every((p) => p.from === 'aa:bb:cc:dd:ee:01')).toBe(true);

    hub.transmit(packet('aa:bb:cc:dd:ee:02', '0201'));
    await eventually(() => heardByPhone.some((p) => p.from === 'aa:bb:cc:dd:ee:02'), 3_000, 'the hub packet');
  });

  it('rejoins a hub that restarts on the same Unix socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'att-hub-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const where = `unix:${join(dir, 'air.sock')}`;
    let hub = new AirHub(where);
    await hub.start();
    const phone = new RemoteAir(where);
    cleanup.push(() => phone.close());
    await phone.connect();
    await hub.close();
    await eventually(() => !phone.isConnected, 2_000, 'the phone to notice');

    hub = new AirHub(where);
    await hub.start();
    cleanup.push(() => hub.close());
    const heard: AirPacket[] = [];
    phone.listen((p) => heard.push(p));
    await eventually(() => {
      hub.transmit(packet('aa:bb:cc:dd:ee:03', '020106'));
      return heard.some((p) => p.from === 'aa:bb:cc:dd:ee:03');
    }, 5_000, 'the phone to rejoin and hear the hub');
  });
});

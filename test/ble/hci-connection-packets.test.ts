/**
 * Byte-level checks of the connection layouts (gateway/ble/virtual/hci-connection-packets.ts)
 * against bytes written by hand from the Core v5.3 Vol 4 Part E layouts, and of the link-layer
 * PDUs' wire form between processes (air-link.ts).
 */
import { describe, expect, it } from 'vitest';
import { linkPduFromJson, linkPduToJson, type LinkPdu } from '../../gateway/ble/virtual/air-link.js';
import { packetFromJson, packetToJson } from '../../gateway/ble/virtual/air.js';
import {
  aclPacket,
  dataBufferOverflow,
  disconnectionComplete,
  leConnectionComplete,
  leConnectionUpdateComplete,
  leEnhancedConnectionComplete,
  leReadRemoteFeaturesComplete,
  numberOfCompletedPackets,
  parseAclPacket,
  parseDisconnect,
  parseLeConnectionUpdate,
  parseLeCreateConnection,
  readRemoteVersionComplete,
} from '../../gateway/ble/virtual/hci-connection-packets.js';

const hex = (text: string): Buffer => Buffer.from(text.replace(/[\s|]/g, ''), 'hex');

const FIELDS = {
  status: 0x00,
  handle: 0x0041,
  role: 0x01,
  peerAddressType: 0x00,
  peerAddress: 'c0:ff:ee:00:05:02',
  intervalUnits: 0x0012,
  latency: 0x0000,
  timeoutUnits: 0x002a,
  clockAccuracy: 0x05,
};

describe('HCI connection packets', () => {
  it('LE Connection Complete (§7.7.65.1): 04 3E 13 | 01 status handle role type addr interval latency timeout sca', () => {
    expect(leConnectionComplete(FIELDS)).toEqual(hex('04 3e 13 | 01 00 4100 01 00 020500eeffc0 1200 0000 2a00 05'));
  });

  it('LE Enhanced Connection Complete (§7.7.65.10): 31 octets, resolvable private addresses zero', () => {
    expect(leEnhancedConnectionComplete({ ...FIELDS, role: 0x00, clockAccuracy: 0 })).toEqual(
      hex('04 3e 1f | 0a 00 4100 00 00 020500eeffc0 000000000000 000000000000 1200 0000 2a00 00'),
    );
  });

  it('Disconnection Complete (§7.7.5): 04 05 04 status handle reason', () => {
    expect(disconnectionComplete(0x00, 0x0040, 0x13)).toEqual(hex('04 05 04 00 4000 13'));
    expect(disconnectionComplete(0x00, 0x0eff, 0x08)).toEqual(hex('04 05 04 00 ff0e 08'));
  });

  it('Number Of Completed Packets (§7.7.19): one handle per event', () => {
    expect(numberOfCompletedPackets(0x0041, 3)).toEqual(hex('04 13 05 01 4100 0300'));
  });

  it('Data Buffer Overflow (§7.7.26): link type ACL', () => {
    expect(dataBufferOverflow()).toEqual(hex('04 1a 01 01'));
  });

  it('LE Connection Update Complete (§7.7.65.3) and LE Read Remote Features Complete (§7.7.65.4)', () => {
    expect(leConnectionUpdateComplete(0x00, 0x0040, { intervalUnits: 0x0018, latency: 0x0004, timeoutUnits: 0x01f4 })).toEqual(hex('04 3e 0a | 03 00 4000 1800 0400 f401'));
    expect(leReadRemoteFeaturesComplete(0x00, 0x0040, hex('0200000000000000'))).toEqual(hex('04 3e 0c | 04 00 4000 0200000000000000'));
    expect(() => leReadRemoteFeaturesComplete(0, 0x40, Buffer.alloc(7))).toThrow(RangeError);
  });

  it('Read Remote Version Information Complete (§7.7.12): 04 0C 08 status handle version company subversion', () => {
    expect(readRemoteVersionComplete(0x00, 0x0040, { version: 0x09, companyId: 0xffff, subversion: 0x0001 })).toEqual(hex('04 0c 08 00 4000 09 ffff 0100'));
  });

  it('ACL data packets (§5.4.2): handle, PB and BC flags, length, data — both ways', () => {
    // 0x0041 | PB 0b10 << 12 = 0x2041, little endian 41 20.
    expect(aclPacket({ handle: 0x0041, boundary: 0b10, broadcast: 0, data: hex('0700 0400 0b 6174') })).toEqual(hex('02 4120 0700 07000400 0b6174'));
    expect(parseAclPacket(hex('02 4110 0300 aabbcc'))).toEqual({ handle: 0x0041, boundary: 0b01, broadcast: 0, data: hex('aabbcc') });
    expect(parseAclPacket(hex('02 4100 0500 aabbcc'))).toBeNull(); // length says 5, 3 bytes follow
    expect(parseAclPacket(hex('01 4100 0000'))).toBeNull(); // not ACL
  });

  it('LE Create Connection parameters (§7.8.12) as noble writes them, and out-of-range ones refused', () => {
    // noble's createLeConn: scan 0x0060/0x0030, no filter, public peer, own public, interval 6…18, latency 0, timeout 0x2a, CE 4…6.
    const noble = hex('6000 3000 00 00 020500eeffc0 00 0600 1200 0000 2a00 0400 0600');
    expect(parseLeCreateConnection(noble)).toEqual({
      scanInterval: 0x60,
      scanWindow: 0x30,
      filterPolicy: 0,
      peerAddressType: 0,
      peerAddress: 'c0:ff:ee:00:05:02',
      ownAddressType: 0,
      intervalMin: 6,
      intervalMax: 0x12,
      maxLatency: 0,
      timeoutUnits: 0x2a,
    });
    expect(parseLeCreateConnection(noble.subarray(0, 24))).toBeNull();
    expect(parseLeCreateConnection(hex('6000 7000 00 00 020500eeffc0 00 0600 1200 0000 2a00 0400 0600'))).toBeNull(); // window > interval
    expect(parseLeCreateConnection(hex('6000 3000 00 00 020500eeffc0 00 1200 0600 0000 2a00 0400 0600'))).toBeNull(); // min > max
    // Supervision timeout must exceed (1 + latency) × interval_max × 2: 100 ms ≤ (1 + 1) × 40 ms × 2 = 160 ms.
    expect(parseLeCreateConnection(hex('6000 3000 00 00 020500eeffc0 00 2000 2000 0100 0a00 0000 0000'))).toBeNull();
  });

  it('LE Connection Update (§7.8.18) and Disconnect (§7.1.6) parameters', () => {
    expect(parseLeConnectionUpdate(hex('4000 1000 1800 0400 f401 0000 0000'))).toEqual({ handle: 0x40, intervalUnits: 0x18, latency: 4, timeoutUnits: 0x1f4 });
    expect(parseLeConnectionUpdate(hex('4000 1000 1800 0400 f401 0000'))).toBeNull();
    expect(parseLeConnectionUpdate(hex('4000 0500 1800 0400 f401 0000 0000'))).toBeNull(); // interval below 7.5 ms
    expect(parseDisconnect(hex('4000 13'))).toEqual({ handle: 0x40, reason: 0x13 });
    expect(parseDisconnect(hex('4000'))).toBeNull();
  });

  it('link PDUs cross processes as JSON and anything malformed is dropped', () => {
    const data: LinkPdu = { kind: 'data', from: 'c0:ff:ee:00:05:02', to: 'c0:ff:ee:00:05:00', link: '0a1b2c3d', at: 1.5, seq: 4, ack: 2, start: true, payload: hex('07000400 0a0c00') };
    const wire = JSON.parse(JSON.stringify(packetToJson(data))) as unknown;
    expect(wire).toMatchObject({ kind: 'data', payload: '070004000a0c00' });
    expect(packetFromJson(wire)).toEqual(data);
    const terminate: LinkPdu = { kind: 'terminate', from: 'c0:ff:ee:00:05:02', to: 'c0:ff:ee:00:05:00', link: '0a1b2c3d', at: 2, reason: 0x13 };
    expect(packetFromJson(JSON.parse(JSON.stringify(linkPduToJson(terminate))))).toEqual(terminate);
    const good = linkPduToJson(data) as unknown as Record<string, unknown>;
    expect(linkPduFromJson({ ...good, payload: '00'.repeat(28) })).toBeNull(); // longer than a 27-octet PDU
    expect(linkPduFromJson({ ...good, link: 'xyz' })).toBeNull();
    expect(linkPduFromJson({ ...good, seq: -1 })).toBeNull();
    expect(linkPduFromJson({ ...good, kind: 'nope' })).toBeNull();
    expect(linkPduFromJson({ kind: 'connect', from: data.from, to: data.to, link: data.link, at: 1, intervalUnits: 0x12, latency: 0, timeoutUnits: 0x2a })).toMatchObject({ kind: 'connect' });
    expect(linkPduFromJson({ kind: 'connect', from: data.from, to: data.to, link: data.link, at: 1, intervalUnits: 0x12, latency: 0, timeoutUnits: 99999 })).toBeNull();
  });
});

/**
 * noble hands us a decoded advertisement; the AD bytes rebuilt from it must carry the
 * attendance frame intact (findAttendanceFrame) and the scan response's UUID and name.
 */
import { describe, expect, it } from 'vitest';
import { ATTENDANCE_SERVICE_UUID, findAttendanceFrame, parseAdStructures } from '../../shared/advertisement.js';
import { encodeNobleAdvertisement } from '../../gateway/ble/noble-advertisement.js';
import { ROOM_CODE, payloadForWindow } from './classroom.js';

describe('noble advertisement re-encoding', () => {
  it('round-trips the golden frame and the scan response fields', () => {
    const payload = payloadForWindow(5890752);
    const manufacturerData = payload.advertisingData.subarray(5); // after 02 01 06 14 ff
    const bytes = encodeNobleAdvertisement({
      manufacturerData,
      localName: 'ATT 101',
      serviceUuids: [ATTENDANCE_SERVICE_UUID.replace(/-/g, '')],
      txPowerLevel: -4,
    });
    expect(bytes.subarray(0, 2 + manufacturerData.length).toString('hex')).toBe('14ffffff01000123450059e2c006c9a0994e042a82');
    expect(findAttendanceFrame(bytes)).toEqual({ roomCode: ROOM_CODE, w: 5890752, token: Buffer.from('06c9a0994e042a82', 'hex') });
    const structures = parseAdStructures(bytes).map((ad) => [ad.type, ad.data.toString('hex')]);
    expect(structures).toContainEqual([0x07, payload.scanResponse.subarray(2, 18).toString('hex')]);
    expect(structures).toContainEqual([0x09, Buffer.from('ATT 101').toString('hex')]);
    expect(structures).toContainEqual([0x0a, 'fc']);
  });

  it('yields nothing for an advertisement without data, and no frame for a foreign beacon', () => {
    expect(encodeNobleAdvertisement({})).toHaveLength(0);
    const iBeacon = Buffer.from('4c000215' + '00'.repeat(21), 'hex');
    expect(findAttendanceFrame(encodeNobleAdvertisement({ manufacturerData: iBeacon }))).toBeNull();
  });
});

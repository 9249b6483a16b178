/**
 * On-air bytes of the attendance beacon — docs/protocol.md §On air (contract).
 * Legacy advertising, 31-byte limit:
 *   advertising data = 02 01 06 | 14 FF <company id LE> <17-byte frame>   (24 bytes)
 *   scan response    = 11 07 <service UUID, 16 bytes LE> | <len> 09 <short local name>
 */
import { FRAME_BYTES, decodeFrame, type Frame } from './frame.js';

export const DEFAULT_COMPANY_ID = 0xffff;
/** 128-bit service UUID of the attendance beacon (scan response, complete list). */
export const ATTENDANCE_SERVICE_UUID = '11122f57-90b2-4bf8-acef-b4a4d9da96be';
export const LEGACY_ADV_MAX = 31;

const AD_FLAGS = 0x01;
const AD_COMPLETE_128 = 0x07;
const AD_COMPLETE_NAME = 0x09;
const AD_MANUFACTURER = 0xff;
/** LE General Discoverable, BR/EDR not supported. */
const FLAGS_VALUE = 0x06;

function assertCompanyId(companyId: number): void {
  if (!Number.isInteger(companyId) || companyId < 0 || companyId > 0xffff) {
    throw new RangeError(`company id must be a uint16, got ${companyId}`);
  }
}

export function advertisingData(frame: Uint8Array, companyId = DEFAULT_COMPANY_ID): Buffer {
  if (frame.length !== FRAME_BYTES) throw new RangeError(`frame must be ${FRAME_BYTES} bytes`);
  assertCompanyId(companyId);
  const out = Buffer.alloc(3 + 2 + 2 + FRAME_BYTES);
  out.set([0x02, AD_FLAGS, FLAGS_VALUE, 1 + 2 + FRAME_BYTES, AD_MANUFACTURER], 0);
  out.writeUInt16LE(companyId, 5);
  Buffer.from(frame).copy(out, 7);
  return out;
}

/**
 * A service UUID (16 or 128 bit, big-endian hex as written and as noble prints it, dashes
 * optional) in the little-endian byte order used inside AD structures.
 */
export function serviceUuidBytesLE(uuid = ATTENDANCE_SERVICE_UUID): Buffer {
  return Buffer.from(uuid.replace(/-/g, ''), 'hex').reverse();
}

export function scanResponseData(localName: string): Buffer {
  const uuid = serviceUuidBytesLE();
  const room = LEGACY_ADV_MAX - (2 + uuid.length) - 2;
  const name = Buffer.from(localName, 'utf8').subarray(0, Math.max(0, room));
  const parts = [Buffer.from([1 + uuid.length, AD_COMPLETE_128]), uuid];
  if (name.length > 0) parts.push(Buffer.from([1 + name.length, AD_COMPLETE_NAME]), name);
  return Buffer.concat(parts);
}

export interface AdStructure {
  type: number;
  data: Buffer;
}

/** Splits advertising data into AD structures; stops at a zero length or a truncated structure. */
export function parseAdStructures(data: Uint8Array): AdStructure[] {
  const buf = Buffer.from(data);
  const out: AdStructure[] = [];
  let i = 0;
  while (i < buf.length) {
    const len = buf[i]!;
    if (len === 0 || i + 1 + len > buf.length) break;
    out.push({ type: buf[i + 1]!, data: buf.subarray(i + 2, i + 1 + len) });
    i += 1 + len;
  }
  return out;
}

/**
 * Finds an attendance frame in advertising data (as a scanner receives it). Returns null for
 * anything that is not one of ours, so a scanner can ignore the other beacons in a room.
 */
export function findAttendanceFrame(data: Uint8Array, companyId = DEFAULT_COMPANY_ID): Frame | null {
  for (const ad of parseAdStructures(data)) {
    if (ad.type !== AD_MANUFACTURER || ad.data.length !== 2 + FRAME_BYTES) continue;
    if (ad.data.readUInt16LE(0) !== companyId) continue;
    try {
      return decodeFrame(ad.data.subarray(2));
    } catch {
      return null;
    }
  }
  return null;
}

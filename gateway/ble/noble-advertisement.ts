/**
 * Turns noble's decoded `advertisement` back into AD structures (Core Supplement Part A §1),
 * because noble 1.9 exposes no raw advertising data in its public API. The encoding is
 * lossless for what the attendance beacon sends (manufacturer data, 128-bit service UUIDs,
 * local name); noble keeps only the last manufacturer-specific structure and merges ADV_IND
 * with SCAN_RSP, so the result can be longer than 31 bytes and the flags are not included.
 */
import { serviceUuidBytesLE } from '../../shared/advertisement.js';

export interface NobleAdvertisement {
  localName?: string;
  txPowerLevel?: number;
  manufacturerData?: Buffer;
  serviceUuids?: string[];
  serviceData?: Array<{ uuid: string; data: Buffer }>;
}

const AD_COMPLETE_16 = 0x03;
const AD_COMPLETE_128 = 0x07;
const AD_COMPLETE_NAME = 0x09;
const AD_TX_POWER = 0x0a;
const AD_SERVICE_DATA_16 = 0x16;
const AD_SERVICE_DATA_128 = 0x21;
const AD_MANUFACTURER = 0xff;

function structure(type: number, data: Buffer): Buffer {
  // An AD structure's length byte covers the type byte, so data is at most 254 bytes.
  return Buffer.concat([Buffer.from([1 + data.length, type]), data.subarray(0, 254)]);
}

export function encodeNobleAdvertisement(advertisement: NobleAdvertisement): Buffer {
  const parts: Buffer[] = [];
  // Manufacturer data first: it carries the attendance frame (docs/protocol.md §On air).
  if (advertisement.manufacturerData && advertisement.manufacturerData.length > 0) {
    parts.push(structure(AD_MANUFACTURER, advertisement.manufacturerData));
  }
  const uuids = (advertisement.serviceUuids ?? []).map(serviceUuidBytesLE);
  const short = uuids.filter((uuid) => uuid.length === 2);
  const long = uuids.filter((uuid) => uuid.length === 16);
  if (short.length > 0) parts.push(structure(AD_COMPLETE_16, Buffer.concat(short)));
  if (long.length > 0) parts.push(structure(AD_COMPLETE_128, Buffer.concat(long)));
  for (const entry of advertisement.serviceData ?? []) {
    const uuid = serviceUuidBytesLE(entry.uuid);
    const type = uuid.length === 2 ? AD_SERVICE_DATA_16 : AD_SERVICE_DATA_128;
    parts.push(structure(type, Buffer.concat([uuid, entry.data])));
  }
  if (advertisement.localName) parts.push(structure(AD_COMPLETE_NAME, Buffer.from(advertisement.localName, 'utf8')));
  if (advertisement.txPowerLevel !== undefined && Number.isInteger(advertisement.txPowerLevel)) {
    const power = Buffer.alloc(1);
    power.writeInt8(Math.max(-127, Math.min(127, advertisement.txPowerLevel)));
    parts.push(structure(AD_TX_POWER, power));
  }
  return Buffer.concat(parts);
}

/**
 * Helpers for AdvertisingPayload values (the bytes of docs/protocol.md §On air), shared by the advertisers.
 */
import { LEGACY_ADV_MAX } from '../../shared/advertisement.js';
import type { AdvertisingPayload } from './advertiser.js';

/** Byte equality; null equals only null. */
export function samePayload(a: AdvertisingPayload | null, b: AdvertisingPayload | null): boolean {
  if (a === null || b === null) return a === b;
  return a.advertisingData.equals(b.advertisingData) && a.scanResponse.equals(b.scanResponse);
}

/**
 * The 32 parameter bytes of LE Set Advertising Data / Scan Response Data (Core v5.3 Vol 4 Part E
 * §7.8.7, §7.8.8) for `data`: one length byte, then the data zero-padded to 31 bytes — what a
 * controller must receive for `data` to go on air.
 */
export function hciDataParameters(data: Buffer): Buffer {
  if (data.length > LEGACY_ADV_MAX) throw new RangeError(`legacy advertising data is at most ${LEGACY_ADV_MAX} bytes`);
  const out = Buffer.alloc(1 + LEGACY_ADV_MAX);
  out[0] = data.length;
  data.copy(out, 1);
  return out;
}

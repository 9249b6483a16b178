/**
 * Helpers for AdvertisingPayload values (the bytes of docs/protocol.md §On air), shared by the advertisers.
 */
import type { AdvertisingPayload } from './advertiser.js';

/** Byte equality; null equals only null. */
export function samePayload(a: AdvertisingPayload | null, b: AdvertisingPayload | null): boolean {
  if (a === null || b === null) return a === b;
  return a.advertisingData.equals(b.advertisingData) && a.scanResponse.equals(b.scanResponse);
}
